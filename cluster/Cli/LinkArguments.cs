using System.Globalization;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Cluster.Cli;

/// <summary>
/// <c>--link-latency MICROSECONDS</c> and <c>--link-bandwidth SIZE</c>: the slower link a memory node emulates for
/// experiments, given to <c>memnode</c> itself or to the nodes that <c>run --memory-nodes N</c> and <c>bench sweep</c> spawn.
/// </summary>
public static class LinkArguments
{
    public const string LatencyHelp = "Emulate a slower link for experiments: every reply waits this many microseconds first, so each round trip grows by it (e.g. 2 for RDMA-like, 50 for Ethernet-like links)";
    public const string BandwidthHelp = "Emulate a slower link for experiments: replies leave at most at this many bytes per second (K, M, G suffixes: powers of 1024)";

    /// <summary>Parses both (null when neither is given); a bad value is one line naming <paramref name="verb"/> on stderr.</summary>
    public static bool TryParse(string verb, string? latencyText, string? bandwidthText, out LinkEmulation? link)
    {
        link = null;
        if (latencyText == null && bandwidthText == null) return true;
        double micros = 0;
        if (latencyText != null && !TryLatency(latencyText, out micros))
        {
            Console.Error.WriteLine($"legoemu {verb}: bad --link-latency '{LegoEmu.Mem.PrintableName.Escape(latencyText)}': microseconds from 0 to 1000000");
            return false;
        }
        long bandwidth = 0;
        if (bandwidthText != null && (!SizeParser.TryParse(bandwidthText, out bandwidth) || bandwidth < 1024))
        {
            Console.Error.WriteLine($"legoemu {verb}: bad --link-bandwidth '{LegoEmu.Mem.PrintableName.Escape(bandwidthText)}': bytes per second, at least 1K (K, M, G suffixes)");
            return false;
        }
        link = new LinkEmulation(TimeSpan.FromTicks((long)(micros * 10)), bandwidth);
        return true;
    }

    /// <summary>A latency in microseconds, 0 to one second.</summary>
    public static bool TryLatency(string text, out double micros) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out micros) && micros >= 0 && micros <= 1_000_000;

    /// <summary>The memnode arguments that make a spawned node emulate <paramref name="link"/>.</summary>
    public static string[] ToArguments(LinkEmulation? link)
    {
        if (link == null) return [];
        var args = new List<string> { "--link-latency", (link.Latency.Ticks / 10.0).ToString("R", CultureInfo.InvariantCulture) };
        if (link.BytesPerSecond > 0) args.AddRange(["--link-bandwidth", link.BytesPerSecond.ToString(CultureInfo.InvariantCulture)]);
        return [.. args];
    }
}
