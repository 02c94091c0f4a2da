using System.Globalization;

namespace LegoEmu.Cluster.Trace;

/// <summary>
/// Writes a report's per-instruction costs in callgrind's profile format, which callgrind_annotate and
/// KCachegrind read: one cost line per instruction (address, source line, then the events), grouped by
/// object file, source file and function. There are no call edges: a trace records accesses, not calls.
/// </summary>
public static class CallgrindWriter
{
    /// <summary>Event names and what they count, in column order; the first is what tools sort by.</summary>
    public static readonly (string Name, string Description)[] Events =
    [
        ("Dacc", "Data accesses"), ("Dr", "Data reads"), ("Dw", "Data writes"),
        ("Miss", "ExCache misses"), ("Mfill", "Misses filled by a memory component"), ("WB", "Write-backs of evicted lines"),
    ];

    public static void Write(TraceReportModel m, TextWriter w)
    {
        var ic = CultureInfo.InvariantCulture;
        var h = m.Header;
        w.WriteLine("# callgrind format");
        w.WriteLine("version: 1");
        w.WriteLine("creator: legoemu trace report");
        w.WriteLine($"pid: {h.Pid}");
        w.WriteLine($"cmd: {string.Join(' ', h.Arguments.Length > 0 ? h.Arguments : [h.Program])}");
        w.WriteLine("part: 1");
        w.WriteLine();
        foreach (var (name, description) in Events) w.WriteLine($"event: {name} : {description}");
        w.WriteLine("positions: instr line");
        w.WriteLine($"events: {string.Join(' ', Events.Select(e => e.Name))}");
        var total = new CodeCost();
        foreach (var row in m.Instructions) total.Add(row.Cost);
        w.WriteLine($"summary: {Costs(total)}");
        w.WriteLine();

        // Grouped by object, file and function, so each name is written once.
        var rows = m.Instructions.OrderBy(r => r.Where.Object, StringComparer.Ordinal)
            .ThenBy(r => r.Where.File ?? "???", StringComparer.Ordinal)
            .ThenBy(r => r.Where.Function, StringComparer.Ordinal)
            .ThenBy(r => r.Ip);
        string? ob = null, fl = null, fn = null;
        foreach (var r in rows)
        {
            string file = r.Where.File ?? "???";
            if (r.Where.Object != ob) { ob = r.Where.Object; w.WriteLine($"ob={ob}"); fl = fn = null; }
            if (file != fl) { fl = file; w.WriteLine($"fl={fl}"); fn = null; }
            if (r.Where.Function != fn) { fn = r.Where.Function; w.WriteLine($"fn={fn}"); }
            w.WriteLine(string.Create(ic, $"0x{r.Ip:x} {r.Where.Line} {Costs(r.Cost)}"));
        }
        w.WriteLine();
        w.WriteLine($"totals: {Costs(total)}");
    }

    static string Costs(CodeCost c) =>
        string.Create(CultureInfo.InvariantCulture, $"{c.Accesses} {c.Reads} {c.Writes} {c.Misses} {c.MemoryFills} {c.WriteBacks}");
}
