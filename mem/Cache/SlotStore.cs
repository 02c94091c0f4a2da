namespace LegoEmu.Mem.Cache;

/// <summary>
/// An ExCache's storage: the line bytes (<see cref="LineStore"/>) and the per-slot state arrays. A processor
/// component that runs one guest after another (a pooled component) keeps the storage of the last guest's cache
/// for the next one of the same geometry: a fresh 1 GiB cache costs about 8 MB of zeroed arrays on the large
/// object heap (and the background collections they bring on) and the first touch of every 2 MiB page of lines,
/// several milliseconds of a fork and exec of a short program. A kept store is reset to exactly the fresh state on
/// a thread-pool thread while the component waits for its next guest, and its line pages are given back to the
/// kernel lazily (MADV_FREE: reclaimed only under memory pressure, and rewritten without a fault until then).
/// </summary>
sealed unsafe class SlotStore
{
    public const ulong Invalid = ulong.MaxValue;

    public readonly long Size;
    public readonly int Ways, LineSize;
    public readonly byte* Data;
    public readonly ulong[] Tags;
    public readonly int[] Asids;
    public readonly Protection[] Prot;
    public readonly bool[] Dirty, Exclusive, Tracked;
    public readonly long[] Stamp;
    /// <summary>CLOCK's counts (see <see cref="ExCache"/>'s victim choice).</summary>
    public readonly byte[] Chances;
    public readonly int[] FifoNext;
    public readonly byte[] Fetch;
    public readonly int[] FetchNode;
    /// <summary>One bit per set whose slots or FIFO pointer (CLOCK's hand) changed since the store was fresh: a reset clears only those.</summary>
    public readonly ulong[] TouchedSets;

    /// <summary>Notes that a set's slots or FIFO pointer are about to change.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Touch(int set) => TouchedSets[set >> 6] |= 1UL << set;

    /// <summary>The reset that makes a kept store fresh again, running while nobody holds the store.</summary>
    Task? _reset;

    static SlotStore? _spare;

    /// <summary>
    /// Whether disposed caches keep their storage for the next one in this process (set by components that run
    /// guests one after another; off elsewhere, so a process with one cache holds nothing after it).
    /// </summary>
    public static bool Recycle { get; set; }

    SlotStore(CacheConfig config)
    {
        Size = config.Size;
        Ways = config.Ways;
        LineSize = config.LineSize;
        int slots = config.Slots;
        // Untouched pages of an anonymous mapping are not committed, so a huge default costs nothing.
        Data = LineStore.Allocate(config.Size);
        Tags = new ulong[slots];
        // A loop rather than Array.Fill, whose first call for an element type costs milliseconds of runtime binding
        // (measured at start-up: 3 ms under a profiler, wherever the process's first Array.Fill was).
        for (int i = 0; i < Tags.Length; i++) Tags[i] = Invalid;
        Asids = new int[slots];
        Prot = new Protection[slots];
        Dirty = new bool[slots];
        Exclusive = new bool[slots];
        Tracked = new bool[slots];
        Stamp = new long[slots];
        Chances = new byte[slots];
        FifoNext = new int[config.Sets];
        Fetch = new byte[slots];
        FetchNode = new int[slots];
        TouchedSets = new ulong[(config.Sets + 63) / 64];
    }

    /// <summary>
    /// Makes a store for <paramref name="config"/> and keeps it for the next <see cref="Rent"/>, unless one is kept
    /// already: an idle processor component does that while it waits, so the guest it is handed does not wait for
    /// megabytes of slot arrays to be allocated and cleared.
    /// </summary>
    public static void Prepare(CacheConfig config)
    {
        if (Volatile.Read(ref _spare) != null) return;
        var store = new SlotStore(config);
        if (Interlocked.CompareExchange(ref _spare, store, null) != null) store.Free();
    }

    /// <summary>A fresh store for <paramref name="config"/>: the kept one when its geometry matches, else a new one.</summary>
    public static SlotStore Rent(CacheConfig config)
    {
        var kept = Interlocked.Exchange(ref _spare, null);
        if (kept != null)
        {
            if (kept.Size == config.Size && kept.Ways == config.Ways && kept.LineSize == config.LineSize)
            {
                kept._reset?.Wait();
                kept._reset = null;
                return kept;
            }
            kept.Free();
        }
        return new SlotStore(config);
    }

    /// <summary>
    /// The cache that held this store is done with it. Kept (and reset in the background) when <see cref="Recycle"/>
    /// is on and no other store is kept; freed otherwise. <paramref name="keep"/> false frees it in any case (a cache
    /// that other threads could still reach, such as one in a line directory).
    /// </summary>
    public void Return(bool keep)
    {
        if (!keep || !Recycle)
        {
            Free();
            return;
        }
        _reset = Task.Run(Reset);
        if (Interlocked.CompareExchange(ref _spare, this, null) != null)
        {
            _reset.Wait();
            Free();
        }
    }

    /// <summary>Puts every set a guest touched back as a fresh store has it (a short program touches a few hundred of 32 768).</summary>
    void Reset()
    {
        for (int w = 0; w < TouchedSets.Length; w++)
        {
            for (ulong bits = TouchedSets[w]; bits != 0; bits &= bits - 1)
            {
                int set = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                int first = set * Ways;
                Tags.AsSpan(first, Ways).Fill(Invalid);
                Asids.AsSpan(first, Ways).Clear();
                Prot.AsSpan(first, Ways).Clear();
                Dirty.AsSpan(first, Ways).Clear();
                Exclusive.AsSpan(first, Ways).Clear();
                Tracked.AsSpan(first, Ways).Clear();
                Stamp.AsSpan(first, Ways).Clear();
                Chances.AsSpan(first, Ways).Clear();
                Fetch.AsSpan(first, Ways).Clear();
                FetchNode.AsSpan(first, Ways).Clear();
                FifoNext[set] = 0;
            }
            TouchedSets[w] = 0;
        }
        LineStore.ReleaseLazily(Data, Size);
    }

    void Free()
    {
        _reset?.Wait();
        LineStore.Free(Data, Size);
    }
}
