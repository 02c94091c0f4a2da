using System.Runtime.InteropServices;

namespace LegoEmu.Cluster.Trace;

/// <summary>
/// LRU stack distances (Mattson et al.): for each reference, the number of distinct lines touched
/// since the previous reference to the same line. A fully associative LRU cache of C lines misses
/// exactly the references at distance C or more, plus the cold ones, so one pass gives the whole
/// miss-ratio curve. Distinct-line counting uses a Fenwick tree over "last touched at" times; the
/// times are renumbered when the tree fills, so memory follows the footprint, not the trace length.
/// Lines get dense ids here, which callers use to keep their own per-line figures in arrays.
/// </summary>
public sealed class StackDistance
{
    readonly Dictionary<ulong, int> _ids = new();
    ulong[] _lineOf = new ulong[1024];
    int[] _lastTime = new int[1024];
    int _lines;
    int _marked;
    int[] _tree;
    int _now;
    long[] _hist = new long[1024];
    int _maxDistance = -1;

    public StackDistance(int initialCapacity = 1 << 20) => _tree = new int[initialCapacity + 1];

    public long Cold { get; private set; }
    public long References { get; private set; }
    /// <summary>Lines given an id, referenced or not.</summary>
    public int Lines => _lines;
    public int MaxDistance => _maxDistance;
    /// <summary>References at each distance (index = distance in sampled lines).</summary>
    public ReadOnlySpan<long> Histogram => _hist.AsSpan(0, _maxDistance + 1);
    public ulong LineOf(int id) => _lineOf[id];

    /// <summary>The dense id of a line, without referencing it (for fills in a misses-only trace).</summary>
    public int IdOf(ulong line)
    {
        ref int id = ref CollectionsMarshal.GetValueRefOrAddDefault(_ids, line, out bool exists);
        if (!exists)
        {
            id = _lines++;
            if (id == _lineOf.Length)
            {
                Array.Resize(ref _lineOf, id * 2);
                Array.Resize(ref _lastTime, id * 2);
            }
            _lineOf[id] = line;
            _lastTime[id] = -1;
        }
        return id;
    }

    /// <summary>Records a reference and returns the line's id.</summary>
    public int Reference(ulong line)
    {
        int id = IdOf(line);
        References++;
        if (_now == _tree.Length - 1) Compact();
        int t = _lastTime[id];
        if (t >= 0)
        {
            int d = Prefix(_now - 1) - Prefix(t);
            if (d >= _hist.Length) Array.Resize(ref _hist, Math.Max(_hist.Length * 2, d + 1));
            _hist[d]++;
            if (d > _maxDistance) _maxDistance = d;
            Add(t, -1);
        }
        else
        {
            Cold++;
            _marked++;
        }
        Add(_now, 1);
        _lastTime[id] = _now++;
        return id;
    }

    /// <summary>
    /// SHARDS_adj: a sample that caught more or fewer references than rate x total skews the curve
    /// (a small hot set is easily over- or under-sampled); the difference goes to the distance-0
    /// bucket, whose references hit in any cache.
    /// </summary>
    public void AdjustToExpected(long expectedReferences)
    {
        long delta = expectedReferences - References;
        if (delta == 0) return;
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
        // Renumber the marks 0..n-1 in time order; the tree grows so renumbering stays rare.
        var times = new int[_marked];
        var ids = new int[_marked];
        int n = 0;
        for (int id = 0; id < _lines; id++)
            if (_lastTime[id] >= 0)
            {
                times[n] = _lastTime[id];
                ids[n++] = id;
            }
        Array.Sort(times, ids);
        int capacity = Math.Max(_tree.Length - 1, 4 * n + 1024);
        _tree = new int[capacity + 1];
        for (int i = 0; i < n; i++) _lastTime[ids[i]] = i;
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
