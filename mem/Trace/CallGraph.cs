namespace LegoEmu.Mem.Trace;

/// <summary>
/// The calls of a profiled run: for each call edge (call instruction, callee) how often it was taken and what
/// the callee cost inclusively (from the call to its return, callees included), and a calling-context tree
/// whose nodes hold the costs spent directly in each context (what flame graphs draw). Costs are seven counters
/// in the order of <see cref="CostIndex"/>. Not thread-safe: a processor component's threads share one host thread.
/// </summary>
public sealed class CallGraph
{
    /// <summary>The counters of a call's or a context's cost.</summary>
    public enum CostIndex { Instructions, Accesses, Misses, MemoryFills, WriteBacks, FetchMisses, KernelMisses }

    public const int Counters = 7;
    /// <summary>Contexts deeper than this share their ancestor at this depth (recursion would grow the tree without end).</summary>
    public const int MaxDepth = 256;
    /// <summary>Contexts at most; later new ones are charged to their parent.</summary>
    public const int MaxContexts = 1 << 20;

    /// <summary>One call edge.</summary>
    public sealed class Edge
    {
        public long Count;
        public readonly long[] Inclusive = new long[Counters];
    }

    /// <summary>A calling context: the function entered at <see cref="Target"/> from its parent context (-1: a root, named by an address in it).</summary>
    public sealed class Context(int parent, ulong target, int depth)
    {
        public readonly int Parent = parent;
        public readonly ulong Target = target;
        public readonly int Depth = depth;
        public readonly long[] Self = new long[Counters];
        // The last call made from this context, so a loop of calls from one place finds its edge and child at once.
        internal ulong LastSite = ulong.MaxValue, LastTarget = ulong.MaxValue;
        internal Edge? LastEdge;
        internal int LastChild = -1;
    }

    readonly Dictionary<(ulong Site, ulong Target), Edge> _edges = new();
    readonly List<Context> _contexts = new();
    readonly Dictionary<(int Parent, ulong Target), int> _index = new();

    public IReadOnlyDictionary<(ulong Site, ulong Target), Edge> Edges => _edges;
    public IReadOnlyList<Context> Contexts => _contexts;

    /// <summary>True once any call or return was seen.</summary>
    public bool Any => _contexts.Count > 0;

    public Edge EdgeOf(ulong site, ulong target)
    {
        if (!_edges.TryGetValue((site, target), out var e)) _edges[(site, target)] = e = new Edge();
        return e;
    }

    /// <summary>
    /// A call from <paramref name="parent"/> at <paramref name="site"/> to <paramref name="target"/>: its edge and
    /// the context it enters.
    /// </summary>
    public (Edge Edge, int Child) Call(int parent, ulong site, ulong target)
    {
        if (parent >= 0)
        {
            var p = _contexts[parent];
            if (p.LastSite == site && p.LastTarget == target) return (p.LastEdge!, p.LastChild);
            var e = EdgeOf(site, target);
            int child = Enter(parent, target);
            p.LastSite = site;
            p.LastTarget = target;
            p.LastEdge = e;
            p.LastChild = child;
            return (e, child);
        }
        return (EdgeOf(site, target), Enter(parent, target));
    }

    /// <summary>The context <paramref name="target"/> is entered in from <paramref name="parent"/> (-1: a root).</summary>
    public int Enter(int parent, ulong target)
    {
        if (parent >= 0 && _contexts[parent].Depth >= MaxDepth) return parent;
        if (_index.TryGetValue((parent, target), out int id)) return id;
        if (_contexts.Count >= MaxContexts) return parent >= 0 ? parent : 0;
        id = _contexts.Count;
        _contexts.Add(new Context(parent, target, parent >= 0 ? _contexts[parent].Depth + 1 : 0));
        _index[(parent, target)] = id;
        return id;
    }

    /// <summary>Adds the thread's costs since its last event (<paramref name="now"/> minus <paramref name="last"/>) to <paramref name="context"/>'s own.</summary>
    public void ChargeSelf(int context, ReadOnlySpan<long> now, Span<long> last)
    {
        var self = _contexts[context].Self;
        for (int k = 0; k < Counters; k++)
        {
            self[k] += now[k] - last[k];
            last[k] = now[k];
        }
    }
}
