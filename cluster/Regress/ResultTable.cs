using LegoEmu.Mem.Cache;

namespace LegoEmu.Cluster.Regress;

/// <summary>Prints the result table and, for a sweep, the LegoOS-style slowdown table.</summary>
public static class ResultTable
{
    public static void Print(TextWriter o, string suite, IReadOnlyList<CaseResult> results)
    {
        int nameWidth = Math.Max(4, results.Select(r => r.Case.Length).DefaultIfEmpty(4).Max());
        int configWidth = Math.Max(6, results.Select(r => r.Config.Length).DefaultIfEmpty(6).Max());
        o.WriteLine($"{"case".PadRight(nameWidth)}  {"config".PadRight(configWidth)}  {"result",-8} {"native s",9} {"emulated s",11} {"slowdown",9} {"ExCache",9} {"miss ratio",11}");
        foreach (var r in results)
        {
            string slow = r.EmulatedSeconds > 0 && r.NativeSeconds > 0 ? $"{r.Slowdown:F1}x" : "-";
            string cache = r.ExCacheBytes > 0 ? ExCacheGeometry.Format(r.ExCacheBytes) : "-";
            string miss = r.MissRatio is { } m ? $"{m:P3}" : "-";
            o.WriteLine($"{r.Case.PadRight(nameWidth)}  {r.Config.PadRight(configWidth)}  {Label(r.Verdict),-8} {r.NativeSeconds,9:F3} {r.EmulatedSeconds,11:F2} {slow,9} {cache,9} {miss,11}");
        }
        int pass = results.Count(r => r.Verdict == Verdict.Pass);
        o.WriteLine($"{suite}: {pass} passed, {results.Count(r => r.Verdict == Verdict.Mismatch)} mismatched, {results.Count(r => r.Verdict == Verdict.Error)} errors");
    }

    static string Label(Verdict v) => v switch { Verdict.Pass => "pass", Verdict.Mismatch => "MISMATCH", _ => "ERROR" };

    /// <summary>
    /// One row per case, one column per ExCache fraction and miss path: the slowdown against the all-local run,
    /// as in LegoOS's table (there: Phoenix 1.74x at 256 MB and 1.34x at 512 MB of a 1.7 GB working set). "off" is
    /// LegoOS's own miss path (no prefetch, a dirty victim written back with its fill), "on" the default one.
    /// </summary>
    public static void PrintSweep(TextWriter o, IReadOnlyList<SweepRow> rows, int nodes)
    {
        if (rows.Count == 0) return;
        var columns = rows[0].Points.Select(p => (p.Fraction, p.Prefetch)).ToList();
        int w = Math.Max(17, rows.Max(r => r.Case.Length));
        o.WriteLine();
        o.WriteLine($"ExCache sweep over {nodes} memory nodes: slowdown against the all-local run (in-process memory, 1 GiB ExCache); 4 KiB lines, 64 to 127 ways, {ReplacementPolicies.Name(CacheConfig.DefaultPolicy).ToUpperInvariant()};");
        o.WriteLine("prefetch off: no prefetch, dirty victims written back with their fill; on: stride prefetch, depth 16, write-backs queued");
        o.WriteLine($"{"case".PadRight(w)} {"footprint",10} {"native s",9} {"local s",8}" + string.Concat(columns.Select(c => $" {ColumnLabel(c),13}")));
        var product = new double[columns.Count];
        foreach (var r in rows)
        {
            var cells = columns.Select((c, i) =>
            {
                var p = r.Points.FirstOrDefault(x => x.Fraction == c.Fraction && x.Prefetch == c.Prefetch);
                if (p == null) return $" {"-",13}";
                product[i] += Math.Log(Math.Max(p.Slowdown, 1e-9));
                return $" {p.Slowdown,12:F2}x{(p.Passed ? "" : "!")}";
            });
            o.WriteLine($"{r.Case.PadRight(w)} {ExCacheGeometry.Format(r.Footprint),10} {r.NativeSeconds,9:F3} {r.EmbeddedSeconds,8:F2}" + string.Concat(cells));
        }
        o.WriteLine($"{"geometric mean".PadRight(w)} {"",10} {"",9} {"",8}" + string.Concat(product.Select(s => $" {Math.Exp(s / rows.Count),12:F2}x")));
        o.WriteLine();
        // "vs largest": against the biggest cache of the sweep over the same memory nodes and miss path, which
        // isolates the cost of the smaller cache from the fixed cost of running over memory nodes at all.
        o.WriteLine($"{"case".PadRight(w)} {"ExCache",9} {"of footprint",12} {"prefetch",8} {"time s",8} {"vs local",9} {"vs largest",11} {"misses",12} {"miss ratio",11} {"miss us",8} {"write-backs",12} {"prefetch used",14} {"late",8} {"wasted",8}");
        foreach (var r in rows)
        {
            foreach (var p in r.Points)
            {
                var largest = r.Points.Where(x => x.Prefetch == p.Prefetch).MaxBy(x => x.ExCacheBytes);
                double vsLargest = largest != null && largest.Seconds > 0 ? p.Seconds / largest.Seconds : 0;
                o.WriteLine($"{r.Case.PadRight(w)} {ExCacheGeometry.Format(p.ExCacheBytes),9} {(double)p.ExCacheBytes / r.Footprint,12:P1} {(p.Prefetch ? "on" : "off"),8} {p.Seconds,8:F2} {p.Slowdown,8:F2}x {vsLargest,10:F2}x {p.Misses,12:N0} {p.MissRatio,11:P3} {p.MeanMissMicros,8:F1} {p.WriteBacks,12:N0} {p.PrefetchUsed,14:N0} {p.PrefetchLate,8:N0} {p.PrefetchWasted,8:N0}");
            }
        }
        if (rows.Any(r => r.Points.Any(p => !p.Passed))) o.WriteLine("! marks a run whose output did not match the native run");
    }

    static string ColumnLabel((double Fraction, bool Prefetch) c) => $"{FractionLabel(c.Fraction)} {(c.Prefetch ? "on" : "off")}";

    static string FractionLabel(double f) => $"{f * 100:0.#}%";
}
