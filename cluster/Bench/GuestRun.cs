using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using LegoEmu.Cluster.Nodes;

namespace LegoEmu.Cluster.Bench;

/// <summary>
/// One timed run of a program (native, under legoemu, or under another emulator) with its --stats figures: wall time,
/// and the CPU time of its whole process tree (user and system, every descendant that was waited for).
/// </summary>
public sealed partial record GuestRun(double Seconds, int ExitCode, string Stderr, double CpuSeconds = 0)
{
    [GeneratedRegex(@"guest instructions\s+([0-9,]+)")] private static partial Regex InsnRe();
    [GeneratedRegex(@"misses ([0-9,]+) \(miss ratio")] private static partial Regex MissRe();
    [GeneratedRegex(@"excache lookups.*?misses ([0-9,]+)")] private static partial Regex Miss2Re();
    [GeneratedRegex(@"mean miss latency\s+([0-9.]+) us")] private static partial Regex LatRe();
    [GeneratedRegex(@"prefetch\s+\S+, depth \d+: issued [0-9,]+, used ([0-9,]+)")] private static partial Regex PrefetchRe();
    [GeneratedRegex(@"bytes sent ([0-9,]+) received ([0-9,]+)")] private static partial Regex BytesRe();
    [GeneratedRegex(@"coherence: upgrades ([0-9,]+), invalidations ([0-9,]+), downgrades ([0-9,]+)")] private static partial Regex CoherenceRe();

    /// <summary>Coherence traffic summed over every processor component (zero when the run had one).</summary>
    public (long Upgrades, long Invalidations, long Downgrades) Coherence
    {
        get
        {
            long u = 0, i = 0, d = 0;
            foreach (Match m in CoherenceRe().Matches(Stderr))
            {
                u += Num(m.Groups[1].Value);
                i += Num(m.Groups[2].Value);
                d += Num(m.Groups[3].Value);
            }
            return (u, i, d);
        }
    }

    static long Num(string s) => long.Parse(s.Replace(",", ""), CultureInfo.InvariantCulture);

    public long Instructions => InsnRe().Match(Stderr) is { Success: true } m ? Num(m.Groups[1].Value) : 0;
    public long Misses => MissRe().Match(Stderr) is { Success: true } m ? Num(m.Groups[1].Value) : 0;
    /// <summary>Prefetched lines the guest used (each a miss it did not take).</summary>
    public long PrefetchUsed => PrefetchRe().Match(Stderr) is { Success: true } m ? Num(m.Groups[1].Value) : 0;
    public double MeanMissMicros => LatRe().Match(Stderr) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    /// <summary>Bytes moved between this processor component and all memory nodes, both directions.</summary>
    public long NodeBytes
    {
        get
        {
            long total = 0;
            foreach (Match m in BytesRe().Matches(Stderr)) total += Num(m.Groups[1].Value) + Num(m.Groups[2].Value);
            return total;
        }
    }

    /// <summary>Runs FILE ARGS with stdout discarded, returning the wall and CPU times.</summary>
    /// <remarks>
    /// The CPU time is what the reaped child adds to this process's RUSAGE_CHILDREN: runs are made one at a time, so it
    /// is the run's own. On a shared machine it swings far less with the load than the wall time does.
    /// </remarks>
    public static GuestRun Start(ProcessStartInfo psi)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        double cpuBefore = ChildrenCpuSeconds();
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {psi.FileName}");
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.BaseStream.CopyTo(Stream.Null);
        p.WaitForExit();
        sw.Stop();
        return new GuestRun(sw.Elapsed.TotalSeconds, p.ExitCode, err.Result, Math.Max(0, ChildrenCpuSeconds() - cpuBefore));
    }

    /// <summary>User plus system time of this process's waited-for children so far (getrusage RUSAGE_CHILDREN).</summary>
    static unsafe double ChildrenCpuSeconds()
    {
        const int RusageChildren = -1;
        long* usage = stackalloc long[18]; // struct rusage: two timevals, then fourteen longs
        if (LegoEmu.Mem.HostCode.Syscall(98 /* getrusage */, RusageChildren, (nint)usage, 0, 0, 0, 0) != 0) return 0;
        return usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6;
    }

    public static GuestRun Native(string program, IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo(program);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Start(psi);
    }

    public static GuestRun Emulated(IEnumerable<string> options, string program, IReadOnlyList<string> args) =>
        Start(SelfProcess.StartInfo(new[] { "run" }.Concat(options).Append("--stats").Append(program).Concat(args)));

    /// <summary>
    /// The best of <paramref name="repeat"/> runs: on a shared machine the minimum is the least noisy. The run with the
    /// least wall time, with the least CPU time of any run (the two minima need not come from the same run).
    /// </summary>
    public static GuestRun Best(int repeat, Func<GuestRun> run)
    {
        GuestRun? best = null;
        double cpu = double.MaxValue;
        for (int i = 0; i < repeat; i++)
        {
            var r = run();
            cpu = Math.Min(cpu, r.CpuSeconds);
            if (best == null || r.Seconds < best.Seconds) best = r;
        }
        return best! with { CpuSeconds = cpu };
    }
}
