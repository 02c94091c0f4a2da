using System.Globalization;
using System.Text.RegularExpressions;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// <c>memnode --link-latency --link-bandwidth</c>: a guest over an emulated slow link still matches native, and every
/// round trip takes at least the latency (a lower bound only: the machine may add any amount to it).
/// </summary>
public sealed class LinkEmulationTests
{
    const string Source = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        int main(void) {
            size_t n = 4 << 20;
            unsigned char *p = malloc(n);
            unsigned long sum = 0;
            for (int round = 0; round < 2; round++) {
                memset(p, round + 1, n);
                for (size_t i = 0; i < n; i += 512) sum += p[i] * (i >> 9);
            }
            printf("sum %lu\n", sum);
            return 5;
        }
        """;

    [Fact]
    public async Task AGuestOverASlowLinkMatchesNativeAndEachRoundTripTakesTheLatency()
    {
        using var guest = await InlineGuest.BuildAsync("slowlink", Source);
        using var node = new MemoryNodeProcess(extra: ["--link-latency", "300", "--link-bandwidth", "200M"]);
        var native = await ProcessRunner.RunAsync(guest.Binary, [], TimeSpan.FromSeconds(60));
        var emulated = await EmulatorRunner.RunAsync("run", "--memory-nodes", node.Endpoint, "--excache", "256K", "--stats", guest.Binary);
        Assert.True(native.StdoutText == emulated.StdoutText && native.ExitCode == emulated.ExitCode, $"native: {native.StdoutText} {native.ExitCode}; emulated: {emulated}\n{emulated.StderrTail()}");
        var m = Regex.Match(emulated.StderrText, @"latency p50 ([0-9.,]+) us");
        Assert.True(m.Success, $"no latency in --stats: {emulated.StderrTail()}");
        Assert.True(double.Parse(m.Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture) >= 300, $"a round trip under the emulated latency: {m.Value}");
    }

    /// <summary><c>run --memory-nodes N --link-latency</c>: the nodes run spawns emulate the link.</summary>
    [Fact]
    public async Task TheNodesRunSpawnsEmulateTheLinkAskedFor()
    {
        using var guest = await InlineGuest.BuildAsync("slowlink", Source);
        var native = await ProcessRunner.RunAsync(guest.Binary, [], TimeSpan.FromSeconds(60));
        var emulated = await EmulatorRunner.RunAsync("run", "--memory-nodes", "1", "--link-latency", "300", "--excache", "256K", "--stats", guest.Binary);
        Assert.True(native.StdoutText == emulated.StdoutText && native.ExitCode == emulated.ExitCode, $"native: {native.StdoutText} {native.ExitCode}; emulated: {emulated}\n{emulated.StderrTail()}");
        var m = Regex.Match(emulated.StderrText, @"latency p50 ([0-9.,]+) us");
        Assert.True(m.Success, $"no latency in --stats: {emulated.StderrTail()}");
        Assert.True(double.Parse(m.Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture) >= 300, $"a round trip under the emulated latency: {m.Value}");
    }

    /// <summary>Nodes given by endpoint were started with their own link: asking run for one is an error, not ignored.</summary>
    [Theory]
    [InlineData("--link-latency", "5")]
    [InlineData("--link-bandwidth", "1M")]
    public async Task ALinkWithoutSpawnedNodesIsOneLine(string option, string value)
    {
        var r = await EmulatorRunner.RunAsync("run", option, value, "/bin/true");
        Assert.Equal(2, r.ExitCode);
        string err = r.StderrText.TrimEnd('\n');
        Assert.DoesNotContain("\n", err);
        Assert.Contains("--memory-nodes N", err);
    }

    /// <summary>
    /// <c>bench sweep --link-latency 0,L</c>: a row per latency and fraction; without prefetch every miss but the first
    /// touch of fresh memory is a round trip, so the mean miss time of the slow link's row comes near L.
    /// </summary>
    [Fact]
    public async Task TheSweepHasARowPerLinkLatency()
    {
        // The sweep wants a guest that succeeds.
        using var guest = await InlineGuest.BuildAsync("sweeplink", Source.Replace("return 5;", "return 0;"));
        var r = await EmulatorRunner.RunAsync("bench", "sweep", "--fractions", "50%", "--nodes", "1", "--link-latency", "0,200", guest.Binary);
        Assert.True(r.ExitCode == 0, $"sweep failed ({r.ExitCode}):\n{r.StdoutText}\n{r.StderrTail()}");
        var rows = r.StdoutText.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(t => t.Length > 8 && double.TryParse(t[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _) && t[2] is "KiB" or "MiB").ToList();
        Assert.True(rows.Count == 2 && rows[0][0] == "0" && rows[1][0] == "200", $"rows:\n{r.StdoutText}");
        // link, size, unit, fraction, %, off: time, slowdown, misses, miss us
        double offMissMicros = double.Parse(rows[1][8].Replace(",", ""), CultureInfo.InvariantCulture);
        // The mean counts the first touch of each line too, made locally from fresh memory: about a quarter of the
        // misses here (1,000 of some 4,000), each far under a round trip.
        Assert.True(offMissMicros >= 200 * 0.6, $"a miss over the 200 us link took {offMissMicros} us:\n{r.StdoutText}");
    }

    [Theory]
    [InlineData("--link-latency", "-1")]
    [InlineData("--link-latency", "fast")]
    [InlineData("--link-latency", "2000000")]
    [InlineData("--link-bandwidth", "12")]
    [InlineData("--link-bandwidth", "lots")]
    public async Task BadLinkValuesAreOneLine(string option, string value)
    {
        var r = await EmulatorRunner.RunAsync("memnode", "--listen", "tcp:127.0.0.1:0", option, value);
        Assert.Equal(2, r.ExitCode);
        string err = r.StderrText.TrimEnd('\n');
        Assert.DoesNotContain("\n", err);
        Assert.Contains($"bad {option}", err);
    }
}
