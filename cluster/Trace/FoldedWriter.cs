namespace LegoEmu.Cluster.Trace;

/// <summary>
/// Writes folded stacks ("frame;frame count" per line), the input of flame-graph tools: the object file,
/// then the function, weighted by its data accesses or its ExCache misses. A trace holds no call stacks,
/// so every stack is two frames deep.
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

    static string Frame(string name) => name.Replace(';', ':').Replace(' ', '_');
}
