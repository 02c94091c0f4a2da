using System.Globalization;

namespace LegoEmu.Cluster.Trace;

/// <summary>One instruction's row of a callgrind profile: where it lies and its cost per event.</summary>
public readonly record struct CallgrindRow(ulong Ip, CodeLocation Where, long[] Costs);

/// <summary>
/// Writes per-instruction costs in callgrind's profile format, which callgrind_annotate and KCachegrind read:
/// one cost line per instruction (address, source line, then the events), grouped by object file, source
/// file and function. There are no call edges: neither a trace nor a profile records calls.
/// </summary>
public static class CallgrindWriter
{
    /// <summary>The events of a trace report, in column order; the first is what tools sort by.</summary>
    public static readonly (string Name, string Description)[] TraceEvents =
    [
        ("Ir", "Instructions retired"), ("Dacc", "Data accesses"), ("Dr", "Data reads"), ("Dw", "Data writes"),
        ("Miss", "ExCache misses"), ("Mfill", "Misses filled by a memory component"), ("WB", "Write-backs of evicted lines"),
    ];

    /// <summary>A trace report's instructions, with <see cref="TraceEvents"/>.</summary>
    public static void Write(TraceReportModel m, TextWriter w)
    {
        var h = m.Header;
        var rows = m.Instructions.Select(r => new CallgrindRow(r.Ip, r.Where,
            [r.Cost.Instructions, r.Cost.Accesses, r.Cost.Reads, r.Cost.Writes, r.Cost.Misses, r.Cost.MemoryFills, r.Cost.WriteBacks]));
        Write(w, h.Arguments.Length > 0 ? string.Join(' ', h.Arguments) : h.Program, h.Pid, TraceEvents, rows);
    }

    public static void Write(TextWriter w, string command, int pid, (string Name, string Description)[] events, IEnumerable<CallgrindRow> rows)
    {
        var ic = CultureInfo.InvariantCulture;
        w.WriteLine("# callgrind format");
        w.WriteLine("version: 1");
        w.WriteLine("creator: legoemu");
        w.WriteLine(string.Create(ic, $"pid: {pid}"));
        w.WriteLine($"cmd: {command}");
        w.WriteLine("part: 1");
        w.WriteLine();
        foreach (var (name, description) in events) w.WriteLine($"event: {name} : {description}");
        w.WriteLine("positions: instr line");
        w.WriteLine($"events: {string.Join(' ', events.Select(e => e.Name))}");
        var list = rows.ToList();
        var total = new long[events.Length];
        foreach (var r in list)
            for (int i = 0; i < total.Length; i++) total[i] += r.Costs[i];
        w.WriteLine($"summary: {Costs(total)}");
        w.WriteLine();

        // Grouped by object, file and function, so each name is written once.
        list.Sort((a, b) =>
        {
            int c = string.CompareOrdinal(a.Where.Object, b.Where.Object);
            if (c == 0) c = string.CompareOrdinal(a.Where.File ?? "???", b.Where.File ?? "???");
            if (c == 0) c = string.CompareOrdinal(a.Where.Function, b.Where.Function);
            return c != 0 ? c : a.Ip.CompareTo(b.Ip);
        });
        string? ob = null, fl = null, fn = null;
        foreach (var r in list)
        {
            string file = r.Where.File ?? "???";
            if (r.Where.Object != ob) { ob = r.Where.Object; w.WriteLine($"ob={ob}"); fl = fn = null; }
            if (file != fl) { fl = file; w.WriteLine($"fl={fl}"); fn = null; }
            if (r.Where.Function != fn) { fn = r.Where.Function; w.WriteLine($"fn={fn}"); }
            w.WriteLine(string.Create(ic, $"0x{r.Ip:x} {r.Where.Line} {Costs(r.Costs)}"));
        }
        w.WriteLine();
        w.WriteLine($"totals: {Costs(total)}");
    }

    static string Costs(long[] c) => string.Join(' ', c.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}
