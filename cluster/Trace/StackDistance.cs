namespace LegoEmu.Cluster.Trace;

/// <summary>
/// LRU stack distances (Mattson et al.): for each reference, the number of distinct lines touched
/// since the previous reference to the same line. A fully associative LRU cache of C lines misses
/// exactly the references at distance C or more, plus the cold ones, so one pass gives the whole
/// miss-ratio curve. Distinct-line counting uses a Fenwick tree over "last touched at" times; the
/// times are renumbered when the tree fills, so memory follows the footprint, not the trace length.
/// </summary>
public sealed class StackDistance
{
    readonly Dictionary<ulong, int> _last = new();
    int[] _tree;
    int _now;
    long[] _hist = new long[1024];
    int _maxDistance = -1;

    public StackDistance(int initialCapacity = 1 << 16) => _tree = new int[initialCapacity + 1];

    public long Cold { get; private set; }
    public long References { get; private set; }
    public int DistinctLines => _last.Count;
    public int MaxDistance => _maxDistance;
    /// <summary>References at each distance (index = distance in sampled lines).</summary>
    public ReadOnlySpan<long> Histogram => _hist.AsSpan(0, _maxDistance + 1);

    public void Reference(ulong line)
    {
        References++;
        if (_now == _tree.Length - 1) Compact();
        ref int slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_last, line, out bool seen);
        if (seen)
        {
            int t = slot;
            int d = Prefix(_now - 1) - Prefix(t);
            if (d >= _hist.Length) Array.Resize(ref _hist, Math.Max(_hist.Length * 2, d + 1));
            _hist[d]++;
            if (d > _maxDistance) _maxDistance = d;
            Add(t, -1);
        }
        else Cold++;
        Add(_now, 1);
        slot = _now;
        _now++;
    }

    /// <summary>
    /// SHARDS_adj: a sample that caught more or fewer references than rate x total skews the curve
    /// (a small hot set is easily over- or under-sampled); the difference goes to the distance-0
    /// bucket, whose references hit in any cache.
    /// </summary>
    public void AdjustToExpected(long expectedReferences)
    {
        long delta = expectedReferences - References;
        if (delta == 0 || _hist.Length == 0) return;
        // Never remove more distance-0 references than were seen.
        if (delta < 0) delta = Math.Max(delta, -_hist[0]);
        _hist[0] += delta;
        if (_maxDistance < 0) _maxDistance = 0;
        References += delta;
    }

    /// <summary>Misses of a fully associative LRU cache of <paramref name="sampledLines"/> lines, as a fraction of references.</summary>
    public double MissRatio(double sampledLines)
    {
        if (References == 0) return 0;
        long threshold = (long)Math.Ceiling(sampledLines - 1e-9);
        long misses = Cold;
        for (long d = Math.Max(0, threshold); d <= _maxDistance; d++) misses += _hist[d];
        return (double)misses / References;
    }

    void Compact()
    {
        // Renumber the live marks 0..n-1 in time order and make room for as many new references again.
        var live = new List<KeyValuePair<ulong, int>>(_last.Count);
        foreach (var kv in _last) live.Add(kv);
        live.Sort((a, b) => a.Value.CompareTo(b.Value));
        int n = live.Count;
        int capacity = Math.Max(_tree.Length - 1, 2 * n + 1024);
        _tree = new int[capacity + 1];
        for (int i = 0; i < n; i++) _last[live[i].Key] = i;
        // Fenwick build in O(capacity): the first n times hold one mark each. Every node passes its
        // sum to its parent, including the empty nodes above n whose ranges still cover marks.
        for (int j = 1; j <= capacity; j++)
        {
            if (j <= n) _tree[j] += 1;
            int parent = j + (j & -j);
            if (parent <= capacity) _tree[parent] += _tree[j];
        }
        _now = n;
    }

    void Add(int index, int delta)
    {
        for (int i = index + 1; i < _tree.Length; i += i & -i) _tree[i] += delta;
    }

    /// <summary>Marks at times 0..index inclusive (0 for index &lt; 0).</summary>
    int Prefix(int index)
    {
        int s = 0;
        for (int i = index + 1; i > 0; i -= i & -i) s += _tree[i];
        return s;
    }
}
