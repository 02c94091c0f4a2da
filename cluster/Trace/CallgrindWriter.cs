using System.Globalization;

namespace LegoEmu.Cluster.Trace;

/// <summary>One instruction's row of a callgrind profile: where it lies and its cost per event.</summary>
public readonly record struct CallgrindRow(ulong Ip, CodeLocation Where, long[] Costs);

/// <summary>One call edge of a callgrind profile: the call instruction, the callee's entry, how often, and the callee's inclusive cost per event.</summary>
public readonly record struct CallgrindCall(ulong Site, CodeLocation From, ulong Target, CodeLocation To, long Count, long[] Inclusive);

/// <summary>
/// Writes per-instruction costs in callgrind's profile format, which callgrind_annotate and KCachegrind read:
/// one cost line per instruction (address, source line, then the events), grouped by object file, source
/// file and function, each function's calls (callee, count, inclusive cost) after its own lines. A trace
/// records no calls; a profile does.
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

    public static void Write(TextWriter w, string command, int pid, (string Name, string Description)[] events, IEnumerable<CallgrindRow> rows,
        IReadOnlyList<CallgrindCall>? calls = null)
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

        // Grouped by object, file and function, so each name is written once; a function's calls follow its lines.
        var callsOf = new Dictionary<(string, string, string), List<CallgrindCall>>();
        foreach (var c in calls ?? [])
        {
            var key = (c.From.Object, c.From.File ?? "???", c.From.Function);
            if (!callsOf.TryGetValue(key, out var l)) callsOf[key] = l = new List<CallgrindCall>();
            l.Add(c);
        }
        var groups = list.GroupBy(r => (r.Where.Object, r.Where.File ?? "???", r.Where.Function)).ToDictionary(g => g.Key, g => g.OrderBy(r => r.Ip).ToList());
        foreach (var key in callsOf.Keys) groups.TryAdd(key, []);
        var keys = groups.Keys.ToList();
        keys.Sort((a, b) =>
        {
            int c = string.CompareOrdinal(a.Item1, b.Item1);
            if (c == 0) c = string.CompareOrdinal(a.Item2, b.Item2);
            return c != 0 ? c : string.CompareOrdinal(a.Item3, b.Item3);
        });
        string? ob = null, fl = null;
        foreach (var key in keys)
        {
            var (obj, file, fn) = key;
            if (obj != ob) { ob = obj; w.WriteLine($"ob={ob}"); fl = null; }
            if (file != fl) { fl = file; w.WriteLine($"fl={fl}"); }
            w.WriteLine($"fn={fn}");
            foreach (var r in groups[key]) w.WriteLine(string.Create(ic, $"0x{r.Ip:x} {r.Where.Line} {Costs(r.Costs)}"));
            if (!callsOf.TryGetValue(key, out var out_)) continue;
            out_.Sort((a, b) => a.Site != b.Site ? a.Site.CompareTo(b.Site) : a.Target.CompareTo(b.Target));
            foreach (var c in out_)
            {
                if (c.To.Object != ob) w.WriteLine($"cob={c.To.Object}");
                if ((c.To.File ?? "???") != fl) w.WriteLine($"cfi={c.To.File ?? "???"}");
                w.WriteLine($"cfn={c.To.Function}");
                w.WriteLine(string.Create(ic, $"calls={c.Count} 0x{c.Target:x} {c.To.Line}"));
                w.WriteLine(string.Create(ic, $"0x{c.Site:x} {c.From.Line} {Costs(c.Inclusive)}"));
            }
        }
        w.WriteLine();
        w.WriteLine($"totals: {Costs(total)}");
    }

    static string Costs(long[] c) => string.Join(' ', c.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}
