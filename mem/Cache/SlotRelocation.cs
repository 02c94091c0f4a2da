namespace LegoEmu.Mem.Cache;

/// <summary>
/// A debugging mode (<c>LEGOEMU_EXCACHE_POISON=1</c>) that makes a stale host pointer into the ExCache fail at once
/// instead of now and then. Normally a slot keeps its host storage for ever, so a pointer kept past the eviction of its
/// line (a front-table entry not dropped, a translated region's kept line or address group, a span held across a call
/// that may miss) silently reads or writes whatever line the slot holds next, and only when an eviction happens to fall
/// in between. Here every line filled into a slot gets a fresh buffer (the slot's bytes are copied along: the fill has
/// put them in place already) and the slot's old buffer is retired: made inaccessible when lines are whole pages (any
/// later access through a stale pointer is a host SIGSEGV at the culprit, with its stack) and filled with
/// <see cref="Poison"/> otherwise (a stale load reads 0xdeadbeefdeadbeef, a stale store lands nowhere that matters).
/// Retired buffers are reused in FIFO order, after <see cref="Spares"/> more fills. Costs nothing when off: the hit path
/// never looks at a slot's storage (front-table addends), and the miss path tests one field.
/// </summary>
sealed unsafe class SlotRelocation : IDisposable
{
    /// <summary>Read once per process: the mode is for a whole run.</summary>
    internal static readonly bool Enabled = Environment.GetEnvironmentVariable("LEGOEMU_EXCACHE_POISON") is "1" or "on";

    /// <summary>What a retired buffer holds when lines are smaller than a host page (it cannot be protected alone).</summary>
    internal const ulong Poison = 0xdeadbeefdeadbeef;

    /// <summary>Buffers beyond one per slot: how many fills a retired buffer waits before it serves again.</summary>
    const int Spares = 1024;

    const int ProtNone = 0, ProtReadWrite = 3, MapPrivateAnonymous = 0x22;

    readonly int _lineSize;
    readonly bool _protect;
    readonly byte* _region;
    readonly nuint _regionBytes;
    readonly nint[] _current;
    readonly Queue<nint> _retired;
    bool _disposed;

    internal SlotRelocation(int slots, int lineSize)
    {
        _lineSize = lineSize;
        _protect = lineSize >= Environment.SystemPageSize;
        int buffers = slots + Spares;
        _regionBytes = (nuint)buffers * (nuint)lineSize;
        nint m = HostCode.Map(0, _regionBytes, ProtReadWrite, MapPrivateAnonymous, -1, 0, out int errno);
        if (m == -1) throw new OutOfMemoryException($"LEGOEMU_EXCACHE_POISON: cannot map {buffers} spare ExCache lines (errno {errno})");
        _region = (byte*)m;
        _current = new nint[slots];
        for (int s = 0; s < slots; s++) _current[s] = (nint)(_region + (long)s * lineSize);
        _retired = new Queue<nint>(Spares + 1);
        for (int k = slots; k < buffers; k++)
        {
            var b = (nint)(_region + (long)k * lineSize);
            Retire(b);
            _retired.Enqueue(b);
        }
    }

    /// <summary>The slot's storage now.</summary>
    internal byte* Current(int slot) => (byte*)_current[slot];

    /// <summary>
    /// A line was filled into the slot: its bytes go on in a fresh buffer, and every pointer into the old one (to the line
    /// the slot held before) is now stale and fails.
    /// </summary>
    internal void Move(int slot)
    {
        nint old = _current[slot];
        nint fresh = _retired.Dequeue();
        if (_protect) Protect(fresh, ProtReadWrite);
        Buffer.MemoryCopy((void*)old, (void*)fresh, _lineSize, _lineSize);
        _current[slot] = fresh;
        Retire(old);
        _retired.Enqueue(old);
    }

    void Retire(nint buffer)
    {
        if (_protect)
        {
            Protect(buffer, ProtNone);
            return;
        }
        new Span<ulong>((void*)buffer, _lineSize / sizeof(ulong)).Fill(Poison);
    }

    void Protect(nint buffer, int prot)
    {
        long r = HostCode.Syscall(10 /* mprotect */, buffer, _lineSize, prot, 0, 0, 0);
        if (r != 0) throw new InvalidOperationException($"LEGOEMU_EXCACHE_POISON: mprotect of a retired ExCache line failed (errno {-r})");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        HostCode.Unmap((nint)_region, _regionBytes);
    }
}
