using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Cache;

/// <summary>
/// Dirty victims whose write-back is on its way to a memory node and not yet acknowledged. The miss that
/// evicted one goes on at once; a later miss of the same line is served from here without a round trip.
/// An entry is freed when its node acknowledges the write-back.
/// </summary>
sealed class WriteBackQueue(int lineSize)
{
    /// <summary>Entries in flight at most; beyond this the cache waits for acknowledgements first.</summary>
    public const int Capacity = 256;

    struct Entry
    {
        public int Asid;
        public ulong Line;
        public Protection Prot;
        public byte[] Data;
    }

    readonly Entry[] _entries = new Entry[Capacity];
    readonly Stack<int> _free = FreeTokens();
    // The newest entry of each line; an older one for the same line is only waiting for its acknowledgement.
    readonly Dictionary<(int, ulong), int> _latest = new();

    /// <summary>Every token free, 0 on top (a loop: a LINQ chain here was compiled by the JIT at every start).</summary>
    static Stack<int> FreeTokens()
    {
        var free = new Stack<int>(Capacity);
        for (int t = Capacity - 1; t >= 0; t--) free.Push(t);
        return free;
    }

    public int Count => Capacity - _free.Count;
    public bool Full => _free.Count == 0;

    /// <summary>Holds a copy of a victim's bytes; returns the token its acknowledgement names.</summary>
    public int Add(int asid, ulong line, Protection prot, ReadOnlySpan<byte> data)
    {
        int token = _free.Pop();
        ref var e = ref _entries[token];
        e.Asid = asid;
        e.Line = line;
        e.Prot = prot;
        e.Data ??= new byte[lineSize];
        data.CopyTo(e.Data);
        _latest[(asid, line)] = token;
        return token;
    }

    /// <summary>The bytes of the newest write-back of a line still in flight, if any.</summary>
    public bool TryGet(int asid, ulong line, out ReadOnlySpan<byte> data, out Protection prot)
    {
        // Every miss asks, and the queue is mostly empty (one-sided write-backs need no entry).
        if (_latest.Count != 0 && _latest.TryGetValue((asid, line), out int token))
        {
            data = _entries[token].Data;
            prot = _entries[token].Prot;
            return true;
        }
        data = default;
        prot = Protection.None;
        return false;
    }

    public bool Contains(int asid, ulong line) => _latest.Count != 0 && _latest.ContainsKey((asid, line));

    /// <summary>The node has the bytes: the entry goes. Returns the line's address.</summary>
    public ulong Acknowledge(int token)
    {
        ref var e = ref _entries[token];
        if (_latest.TryGetValue((e.Asid, e.Line), out int newest) && newest == token) _latest.Remove((e.Asid, e.Line));
        _free.Push(token);
        return e.Line;
    }
}
