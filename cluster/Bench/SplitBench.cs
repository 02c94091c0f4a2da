namespace LegoEmu.Cluster.Bench;

/// <summary>
/// Threads over processor components, measured in one run: a CPU-bound two-thread guest on two
/// components against one (both over one memory node, so only the placement differs), and a
/// false-sharing guest against the same guest with its counters a page apart, with the coherence
/// traffic each causes.
/// </summary>
public static class SplitBench
{
    public static int Run(string cpuProgram, string shareProgram, long cpuRounds, long shareRounds, int repeat, TextWriter w)
    {
        w.WriteLine($"legoemu bench split: best of {repeat}; every emulated run keeps its memory in one memory-node process");
        w.WriteLine();
        string[] cpuArgs = [cpuRounds.ToString(), "2"];
        var native = GuestRun.Best(repeat, () => GuestRun.Native(cpuProgram, cpuArgs));
        var one = GuestRun.Best(repeat, () => GuestRun.Emulated(["--processors", "1", "--memory-nodes", "1"], cpuProgram, cpuArgs));
        var two = GuestRun.Best(repeat, () => GuestRun.Emulated(["--processors", "2"], cpuProgram, cpuArgs));
        var perThread = GuestRun.Best(repeat, () => GuestRun.Emulated(["--processors", "per-thread"], cpuProgram, cpuArgs));
        if (Failed(w, one, "1 component") || Failed(w, two, "2 components") || Failed(w, perThread, "per-thread")) return 1;
        w.WriteLine($"CPU-bound, 2 threads ({Path.GetFileName(cpuProgram)} {string.Join(' ', cpuArgs)}):");
        w.WriteLine();
        w.WriteLine("| run | time (s) | speedup vs 1 component | coherence (upgrades / invalidations / downgrades) |");
        w.WriteLine("|---|---|---|---|");
        w.WriteLine($"| native | {native.Seconds:F2} | | |");
        w.WriteLine($"| 1 processor component | {one.Seconds:F2} | 1.00x | {Traffic(one)} |");
        w.WriteLine($"| 2 processor components | {two.Seconds:F2} | {one.Seconds / two.Seconds:F2}x | {Traffic(two)} |");
        w.WriteLine($"| a component per thread, in-process (3 with main's) | {perThread.Seconds:F2} | {one.Seconds / perThread.Seconds:F2}x | {Traffic(perThread)} |");
        w.WriteLine();

        string rounds = shareRounds.ToString();
        var padded = GuestRun.Best(repeat, () => GuestRun.Emulated(["--processors", "2"], shareProgram, ["padded", rounds]));
        var shared = GuestRun.Best(repeat, () => GuestRun.Emulated(["--processors", "2"], shareProgram, ["shared", rounds]));
        if (Failed(w, padded, "padded") || Failed(w, shared, "shared")) return 1;
        w.WriteLine($"False sharing on 2 processor components ({Path.GetFileName(shareProgram)}, {shareRounds:N0} increments per thread):");
        w.WriteLine();
        w.WriteLine("| counters | time (s) | vs padded | upgrades | invalidations | downgrades |");
        w.WriteLine("|---|---|---|---|---|---|");
        foreach (var (name, r) in new[] { ("a page apart (padded)", padded), ("in one line (false sharing)", shared) })
        {
            var (u, i, d) = r.Coherence;
            w.WriteLine($"| {name} | {r.Seconds:F2} | {r.Seconds / padded.Seconds:F2}x | {u:N0} | {i:N0} | {d:N0} |");
        }
        return 0;
    }

    static string Traffic(GuestRun r)
    {
        var (u, i, d) = r.Coherence;
        return $"{u:N0} / {i:N0} / {d:N0}";
    }

    static bool Failed(TextWriter w, GuestRun r, string what)
    {
        if (r.ExitCode == 0) return false;
        w.WriteLine($"legoemu bench split: the {what} run exited {r.ExitCode}:\n{r.Stderr}");
        return true;
    }
}
