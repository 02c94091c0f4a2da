namespace LegoEmu.Mem.Cache;

/// <summary>
/// The lines of one address space that were ever written back (so no longer p-local), as a bit per 64-byte unit in
/// a map per 64 KiB chunk. Forgetting a range (munmap, mmap over it) costs the chunks it covers or the chunks held,
/// whichever are fewer, never a look at every line held: a fork writes back every dirty line, and the process's
/// every mmap after it used to scan them all.
/// </summary>
sealed class WrittenLines
{
    const int ChunkShift = 16, UnitShift = 6, Words = (1 << (ChunkShift - UnitShift)) / 64;
    readonly Dictionary<ulong, ulong[]> _chunks = new();
    readonly Stack<ulong[]> _spare = new();
    readonly List<ulong> _scratch = new();
    /// <summary>The chunk looked at last and its map (null when none): a miss asks of its line, and its victim's write-back marks its own, mostly in the chunks asked of just before.</summary>
    ulong _lastChunk;
    ulong[]? _lastBits;

    public bool Any => _chunks.Count > 0;

    public void Add(ulong lineAddr)
    {
        ulong chunk = lineAddr >> ChunkShift;
        var bits = _lastBits;
        if (bits == null || _lastChunk != chunk)
        {
            if (!_chunks.TryGetValue(chunk, out bits))
            {
                bits = _spare.Count > 0 ? _spare.Pop() : new ulong[Words];
                _chunks[chunk] = bits;
            }
            _lastChunk = chunk;
            _lastBits = bits;
        }
        int b = Unit(lineAddr);
        bits[b >> 6] |= 1UL << b;
    }

    public bool Contains(ulong lineAddr)
    {
        ulong chunk = lineAddr >> ChunkShift;
        var bits = _lastBits;
        if (bits == null || _lastChunk != chunk)
        {
            if (!_chunks.TryGetValue(chunk, out bits)) return false;
            _lastChunk = chunk;
            _lastBits = bits;
        }
        int b = Unit(lineAddr);
        return (bits[b >> 6] & (1UL << b)) != 0;
    }

    static int Unit(ulong addr) => (int)((addr & ((1UL << ChunkShift) - 1)) >> UnitShift);

    /// <summary>Forgets the lines whose addresses lie in [start, end).</summary>
    public void Remove(ulong start, ulong end)
    {
        if (_chunks.Count == 0 || end <= start) return;
        ulong first = start >> ChunkShift, last = (end - 1) >> ChunkShift;
        if (last - first < (ulong)_chunks.Count)
        {
            for (ulong c = first; c <= last; c++)
                if (_chunks.TryGetValue(c, out var bits)) Clear(c, bits, start, end);
            return;
        }
        _scratch.Clear();
        foreach (var c in _chunks.Keys)
            if (c >= first && c <= last) _scratch.Add(c);
        foreach (var c in _scratch) Clear(c, _chunks[c], start, end);
        _scratch.Clear();
    }

    void Clear(ulong chunk, ulong[] bits, ulong start, ulong end)
    {
        ulong cs = chunk << ChunkShift, size = 1UL << ChunkShift;
        // Units from the first at or after start to the first at or after end (line addresses are unit-aligned).
        ulong lo = start <= cs ? 0 : (start - cs + (1UL << UnitShift) - 1) >> UnitShift;
        ulong hi = end - cs >= size ? size >> UnitShift : (end - cs + (1UL << UnitShift) - 1) >> UnitShift;
        for (ulong u = lo; u < hi;)
        {
            int w = (int)(u >> 6), from = (int)(u & 63);
            int to = (int)Math.Min(64, hi - ((ulong)w << 6));
            ulong mask = (to == 64 ? ~0UL : (1UL << to) - 1) & ~((1UL << from) - 1);
            bits[w] &= ~mask;
            u = ((ulong)w + 1) << 6;
        }
        foreach (ulong word in bits)
            if (word != 0) return;
        _chunks.Remove(chunk);
        _spare.Push(bits);
        if (ReferenceEquals(bits, _lastBits)) _lastBits = null;
    }

    public void Clear()
    {
        _lastBits = null;
        _chunks.Clear();
        _spare.Clear();
    }
}
