using System.Globalization;
using LegoEmu.Mem.Trace;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Cluster.Trace;

/// <summary>What <c>run --trace</c> asked for, and the start and end of recording around one guest run.</summary>
public sealed record TraceRequest(string Path, TraceLevel Level, double SampleRate)
{
    /// <summary>Accepts 0.01, 1%, 1e-3; the rate must be in (0, 1].</summary>
    public static bool TryParseRate(string text, out double rate) => Cli.FractionParser.TryParse(text, out rate) && rate <= 1;

    /// <summary>What a forked processor component needs to trace its own process into PATH.PID.</summary>
    public string[] ChildArguments() =>
        ["--trace", Path, "--trace-level", Level == TraceLevel.Accesses ? "accesses" : "misses", "--trace-sample", SampleRate.ToString("R", CultureInfo.InvariantCulture)];

    /// <summary>The file of one process of the tree: the first process writes PATH, a forked one PATH.PID.</summary>
    public string PathFor(GuestProcess process, bool forked) => forked ? $"{Path}.{process.Pid}" : Path;

    public MemoryTracer Start(GuestProcess process, string[] argv, int memoryNodes, bool forked = false)
    {
        var cfg = process.Cache.Config;
        var header = new TraceHeader
        {
            Program = process.ExePath,
            Arguments = argv,
            CacheSize = cfg.Size,
            CacheWays = cfg.Ways,
            LineSize = cfg.LineSize,
            Policy = cfg.Policy.ToString().ToLowerInvariant(),
            LoadBias = process.LoadBias,
            StartedUtc = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            Pid = process.Pid,
            MemoryNodes = memoryNodes,
        };
        var tracer = new MemoryTracer(PathFor(process, forked), header, Level, SampleRate) { CurrentTid = process.CurrentThread.Tid };
        process.Cache.Tracer = tracer;
        // The profile's block counters give the instructions each address retired, which no record carries.
        process.Cache.Profile ??= new CodeProfile();
        return tracer;
    }

    /// <summary>Writes the final address-space map and the totals, then closes the file.</summary>
    public void Finish(GuestProcess process, MemoryTracer tracer)
    {
        process.Cache.Tracer = null;
        if (process.Cache.Profile is { } profile) tracer.InstructionCounts(profile.Finish());
        try
        {
            foreach (var v in process.Space.Vmas()) tracer.Mapping(v.Start, v.End, v.Name);
        }
        catch (Exception e) when (e is LegoEmu.Mem.Remote.MemoryNodeFailure or IOException)
        {
            // The map only names hot lines; losing it must not lose the trace.
        }
        tracer.Close(process.View.Accesses, process.Cache.Stats.Misses, process.View.KernelAccesses);
    }

    /// <summary>Flushes what was recorded when the guest is killed from outside; the file then lacks its end record.</summary>
    public void Abandon(MemoryTracer? tracer)
    {
        try { tracer?.Dispose(); }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }
    }
}
