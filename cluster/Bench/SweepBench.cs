using LegoEmu.Mem.Cache;

namespace LegoEmu.Cluster.Bench;

/// <summary>
/// Runs a program over memory nodes with the ExCache at fractions of its footprint and reports the
/// slowdown against the embedded default, LegoOS-table style, with where the time goes; over each emulated link
/// latency asked for, to show how the ExCache's benefit changes from RDMA-like to Ethernet-like links.
/// </summary>
public static class SweepBench
{
    public static int Run(string program, IReadOnlyList<string> args, double[] fractions, int nodes, int repeat, TextWriter o, double[]? linkMicros = null)
    {
        linkMicros ??= [0];
        var baseline = GuestRun.Best(repeat, () => GuestRun.Emulated([], program, args));
        if (baseline.ExitCode != 0)
        {
            Console.Error.WriteLine($"legoemu bench: {program} exited with {baseline.ExitCode} in the embedded run:\n{baseline.Stderr}");
            return 1;
        }
        // With the default 1 GiB cache nothing is evicted, so every miss is a first touch: misses x line = footprint.
        long footprint = baseline.Misses * 4096;
        var native = GuestRun.Best(repeat, () => GuestRun.Native(program, args));
        o.WriteLine($"{Path.GetFileName(program)} {string.Join(' ', args)}: footprint {footprint >> 20} MiB ({baseline.Misses:N0} lines of 4 KiB); " +
                    $"embedded default {baseline.Seconds:F2} s; native {native.Seconds:F3} s; {nodes} memory nodes on Unix sockets; best of {repeat}");
        int replicatedNodes = Math.Max(2, nodes);
        o.WriteLine("prefetch off: no prefetch, a dirty victim written back with its fill (LegoOS's miss path); on: the default (stride prefetch, depth 16, queued write-backs)");
        o.WriteLine($"2 copies: the default with --replicas 2 over {replicatedNodes} nodes (every write-back to a primary and a backup)");
        if (linkMicros.Any(l => l > 0))
            o.WriteLine("link us: the latency every memory node adds to each reply (run --link-latency); 0 is the real link (Unix sockets)");
        o.WriteLine($"{"link us",8} {"ExCache",10} {"of footprint",12} {"off: time s",12} {"slowdown",9} {"misses",10} {"miss us",8} {"on: time s",11} {"slowdown",9} {"misses",10} {"miss us",8} {"prefetch used",14} {"2 copies: s",12} {"slowdown",9}");
        foreach (double link in linkMicros)
        foreach (double f in fractions.OrderBy(x => x))
        {
            long size = ValidSize((long)(footprint * f));
            string[] linkArgs = link > 0 ? ["--link-latency", link.ToString("R", System.Globalization.CultureInfo.InvariantCulture)] : [];
            string[] common = ["--memory-nodes", nodes.ToString(), "--excache", size.ToString(), .. linkArgs];
            var off = GuestRun.Best(repeat, () => GuestRun.Emulated([.. common, "--prefetch", "off", "--write-back", "combined"], program, args));
            var on = GuestRun.Best(repeat, () => GuestRun.Emulated(common, program, args));
            var twice = GuestRun.Best(repeat, () => GuestRun.Emulated(["--memory-nodes", replicatedNodes.ToString(), "--replicas", "2", "--excache", size.ToString(), .. linkArgs], program, args));
            foreach (var r in new[] { off, on, twice })
            {
                if (r.ExitCode == 0) continue;
                Console.Error.WriteLine($"legoemu bench: run with --excache {size} failed ({r.ExitCode}):\n{r.Stderr}");
                return 1;
            }
            o.WriteLine($"{link,8:0.##} {Size(size),10} {(double)size / footprint,12:P1} {off.Seconds,12:F2} {off.Seconds / baseline.Seconds,8:F2}x {off.Misses,10:N0} {off.MeanMissMicros,8:F1} " +
                        $"{on.Seconds,11:F2} {on.Seconds / baseline.Seconds,8:F2}x {on.Misses,10:N0} {on.MeanMissMicros,8:F1} {on.PrefetchUsed,14:N0} " +
                        $"{twice.Seconds,12:F2} {twice.Seconds / baseline.Seconds,8:F2}x");
        }
        return 0;
    }

    /// <summary>The largest geometry-valid cache (8 ways of 4 KiB, a power-of-two number of sets) not above the target.</summary>
    static long ValidSize(long target)
    {
        long size = 8 * 4096;
        while (size * 2 <= target) size *= 2;
        var cfg = new CacheConfig(size, 8, 4096, ReplacementPolicy.Fifo);
        return cfg.Validate() == null ? size : 8 * 4096;
    }

    static string Size(long b) => b >= 1 << 20 ? $"{b >> 20} MiB" : $"{b >> 10} KiB";
}
