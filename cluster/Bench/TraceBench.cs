using LegoEmu.Mem.Trace;

namespace LegoEmu.Cluster.Bench;

/// <summary>
/// Tracing overhead, measured in one run: the same program untraced, traced at <c>misses</c>, and
/// traced at sampled and full <c>accesses</c>, and profiled (<c>run --profile</c>); slowdown against the
/// untraced run and trace bytes per million guest accesses.
/// </summary>
public static class TraceBench
{
    public static int Run(string program, string[] args, string[] cacheOptions, double sampleRate, int repeat, TextWriter w)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"legoemu-tracebench-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            w.WriteLine($"legoemu bench trace: {program} {string.Join(' ', args)} ({string.Join(' ', cacheOptions)}), best of {repeat}");
            var baseline = GuestRun.Best(repeat, () => GuestRun.Emulated(cacheOptions, program, args));
            if (baseline.ExitCode != 0)
            {
                w.WriteLine($"legoemu bench: the untraced run exited {baseline.ExitCode}:\n{baseline.Stderr}");
                return 1;
            }
            w.WriteLine();
            w.WriteLine($"| tracing | time (s) | slowdown vs untraced | records | trace bytes | bytes per million accesses |");
            w.WriteLine($"|---|---|---|---|---|---|");
            w.WriteLine($"| none | {baseline.Seconds:F2} | 1.00x | | | |");
            var levels = new List<(string Name, string[] Options)>
            {
                ("misses", ["--trace-level", "misses"]),
                ($"accesses, {sampleRate:P0} sampled", ["--trace-level", "accesses", "--trace-sample", sampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture)]),
                ("accesses, every line", ["--trace-level", "accesses"]),
            };
            foreach (var (name, options) in levels)
            {
                string file = Path.Combine(dir, "t.trace");
                var run = GuestRun.Best(repeat, () => GuestRun.Emulated([.. cacheOptions, "--trace", file, .. options], program, args));
                if (run.ExitCode != 0)
                {
                    w.WriteLine($"| {name} | failed: exit {run.ExitCode} | | | | |");
                    continue;
                }
                long bytes = new FileInfo(file).Length;
                long records = 0, accesses = 0;
                using (var r = new TraceReader(file))
                {
                    while (r.Next(out _)) records++;
                    accesses = r.TotalAccesses;
                }
                double perMillion = accesses == 0 ? 0 : bytes / (accesses / 1e6);
                w.WriteLine($"| {name} | {run.Seconds:F2} | {run.Seconds / baseline.Seconds:F2}x | {records:N0} | {bytes:N0} | {perMillion:N0} |");
                File.Delete(file);
            }
            // run --profile: per-instruction costs without an access stream.
            string profile = Path.Combine(dir, "p.callgrind");
            var profiled = GuestRun.Best(repeat, () => GuestRun.Emulated([.. cacheOptions, "--profile", profile], program, args));
            if (profiled.ExitCode != 0) w.WriteLine($"| profile | failed: exit {profiled.ExitCode} | | | | |");
            else w.WriteLine($"| profile (run --profile) | {profiled.Seconds:F2} | {profiled.Seconds / baseline.Seconds:F2}x | | {new FileInfo(profile).Length:N0} | |");
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
