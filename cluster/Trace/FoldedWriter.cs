namespace LegoEmu.Cluster.Trace;

/// <summary>
/// Writes folded stacks ("frame;frame count" per line), the input of flame-graph tools. From a trace: the
/// object file, then the function, weighted by its data accesses or its ExCache misses (a trace holds no call
/// stacks, so every stack is two frames deep). From a profile's calling contexts: the functions from the
/// thread's first down to the one that ran, weighted by the instructions retired there.
/// </summary>
public static class FoldedWriter
{
    public static void Write(TraceReportModel m, TextWriter w, bool misses)
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var r in m.Instructions)
        {
            long v = misses ? r.Cost.Misses : r.Cost.Accesses;
            if (v == 0) continue;
            // Flame-graph tools split frames on ';' and the count off the last space.
            string key = Frame(Path.GetFileName(r.Where.Object)) + ";" + Frame(r.Where.Function);
            sums[key] = sums.GetValueOrDefault(key) + v;
        }
        foreach (var (stack, v) in sums.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
            w.WriteLine($"{stack} {v}");
    }

    public static void Write(LegoEmu.Mem.Trace.CallGraph graph, CodeSymbols symbols, TextWriter w)
    {
        var contexts = graph.Contexts;
        var names = new string[contexts.Count];
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < contexts.Count; i++)
        {
            var c = contexts[i];
            string frame = Frame(symbols.Locate(c.Target).Function);
            // Parents come first (a context is added after its parent), so their paths are known.
            names[i] = c.Parent < 0 ? frame : names[c.Parent] + ";" + frame;
            long v = c.Self[(int)LegoEmu.Mem.Trace.CallGraph.CostIndex.Instructions];
            if (v > 0) sums[names[i]] = sums.GetValueOrDefault(names[i]) + v;
        }
        foreach (var (stack, v) in sums.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
            w.WriteLine($"{stack} {v}");
    }

    static string Frame(string name) => name.Replace(';', ':').Replace(' ', '_');
}
