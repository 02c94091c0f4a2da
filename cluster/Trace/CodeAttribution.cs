namespace LegoEmu.Cluster.Trace;

/// <summary>What one guest instruction (or function, or source line) was charged with in a trace.</summary>
public sealed class CodeCost
{
    public long Instructions, Reads, Writes, Misses, MemoryFills, WriteBacks;
    public long Accesses => Reads + Writes;

    public void Add(CodeCost o)
    {
        Instructions += o.Instructions;
        Reads += o.Reads;
        Writes += o.Writes;
        Misses += o.Misses;
        MemoryFills += o.MemoryFills;
        WriteBacks += o.WriteBacks;
    }

    /// <summary>The counts of a sampled trace scaled up to the whole run (instructions are counted whole already).</summary>
    public CodeCost Scaled(double rate) => rate >= 1 ? this : new CodeCost
    {
        Instructions = Instructions, Reads = S(Reads, rate), Writes = S(Writes, rate), Misses = S(Misses, rate), MemoryFills = S(MemoryFills, rate), WriteBacks = S(WriteBacks, rate),
    };

    static long S(long v, double rate) => (long)Math.Round(v / rate);
}

/// <summary>One row of a per-function table.</summary>
public sealed record FunctionRow(string Object, string Function, long Instructions, long Accesses, long Reads, long Writes, long Misses, long MemoryFills, long WriteBacks);

/// <summary>One row of a per-source-line table.</summary>
public sealed record SourceLineRow(string File, int Line, string Function, long Instructions, long Accesses, long Reads, long Writes, long Misses, long MemoryFills, long WriteBacks);

/// <summary>One instruction's costs with where it lies: what the callgrind and folded writers need.</summary>
public sealed record InstructionRow(ulong Ip, CodeLocation Where, CodeCost Cost);

/// <summary>
/// Costs charged to guest instruction addresses while a trace is read: instructions retired, data accesses, the ExCache misses
/// they made, the misses a memory component served (not local zero fills), and the write-backs of the
/// victims they evicted. Loops touch few instructions, so the last one looked up is kept at hand.
/// </summary>
public sealed class CodeAttribution
{
    readonly Dictionary<ulong, CodeCost> _byIp = new();
    ulong _lastIp = ulong.MaxValue;
    CodeCost? _last;

    public CodeCost At(ulong ip)
    {
        if (ip == _lastIp) return _last!;
        if (!_byIp.TryGetValue(ip, out var c)) _byIp[ip] = c = new CodeCost();
        _lastIp = ip;
        _last = c;
        return c;
    }

    public int Count => _byIp.Count;

    /// <summary>
    /// Fills the model's per-function and per-line tables (the top <paramref name="top"/> of each by accesses,
    /// then misses) and keeps every instruction's row for the callgrind and folded writers.
    /// </summary>
    public void Build(TraceReportModel m, CodeSymbols symbols, double rate, int top)
    {
        var functions = new Dictionary<(string, string), CodeCost>();
        var lines = new Dictionary<(string, int, string), CodeCost>();
        var rows = new List<InstructionRow>(_byIp.Count);
        foreach (var (ip, cost) in _byIp)
        {
            var where = symbols.Locate(ip);
            rows.Add(new InstructionRow(ip, where, cost.Scaled(rate)));
            Sum(functions, (where.Object, where.Function), cost);
            if (where.File != null) Sum(lines, (where.File, where.Line, where.Function), cost);
        }
        rows.Sort((a, b) => a.Ip.CompareTo(b.Ip));
        m.Instructions = rows;
        m.Functions = Top(functions, top, (k, c) => new FunctionRow(k.Item1, k.Item2, c.Instructions, c.Accesses, c.Reads, c.Writes, c.Misses, c.MemoryFills, c.WriteBacks), rate);
        m.SourceLines = Top(lines, top, (k, c) => new SourceLineRow(k.Item1, k.Item2, k.Item3, c.Instructions, c.Accesses, c.Reads, c.Writes, c.Misses, c.MemoryFills, c.WriteBacks), rate);
    }

    static void Sum<TKey>(Dictionary<TKey, CodeCost> into, TKey key, CodeCost cost) where TKey : notnull
    {
        if (!into.TryGetValue(key, out var c)) into[key] = c = new CodeCost();
        c.Add(cost);
    }

    static List<TRow> Top<TKey, TRow>(Dictionary<TKey, CodeCost> all, int top, Func<TKey, CodeCost, TRow> row, double rate) where TKey : notnull
    {
        var list = new List<(TKey Key, CodeCost Cost)>(all.Count);
        foreach (var (k, c) in all) list.Add((k, c));
        list.Sort((a, b) => a.Cost.Accesses != b.Cost.Accesses ? b.Cost.Accesses.CompareTo(a.Cost.Accesses) : b.Cost.Misses.CompareTo(a.Cost.Misses));
        var rows = new List<TRow>(Math.Min(top, list.Count));
        for (int i = 0; i < list.Count && i < top; i++) rows.Add(row(list[i].Key, list[i].Cost.Scaled(rate)));
        return rows;
    }
}
