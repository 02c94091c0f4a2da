using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LegoEmu.Mem.Trace;

namespace LegoEmu.Mem.Cache;

/// <summary>
/// One guest thread's window onto the ExCache: a direct-mapped front table of recently used lines
/// (like QEMU's soft TLB) that turns a hit into a tag compare and a pointer add. Every guest load,
/// store and fetch goes through here. Not thread-safe: one view per guest thread.
/// </summary>
public sealed unsafe class CacheView
{
    [StructLayout(LayoutKind.Sequential)]
    struct Entry
    {
        public ulong ReadTag;
        public ulong WriteTag;
        public nint Addend; // host address = Addend + guest address
        public int Slot;
        // Nonzero when the line may be fetched. A flag, not a third tag: a fetched line is always a read line
        // too, and 32-byte entries make the index a shift in every probe that translated code inlines.
        public int Exec;
    }

    // 65 536 entries: with 4 KiB lines a hit needs no lookup anywhere in 256 MiB. A direct-mapped table of 8 192 made
    // programs with a few MiB of tables collide in it (two arrays a multiple of 32 MiB apart share every entry): zstd -19
    // looked up 225 k lines instead of 34 k, xz 425 k instead of 19 k, and each such miss leaves translated code. The
    // probe is the same code at any size (only its mask changes). The table (2 MiB) is touched only where the guest goes,
    // and invalidating it all clears only the table's pages that were filled (see _filledPages), so its size costs a
    // fresh view or an exec nothing.
    const int TableBits = 16;
    const int TableSize = 1 << TableBits;
    // Entries per 4 KiB page of the table: the unit in which _filledPages records where entries were made.
    const int EntriesPerPageBits = 7;

    /// <summary>Front-table geometry for code generated against it: index = (address &gt;&gt; line shift) &amp; mask.</summary>
    public const int FrontTableMask = TableSize - 1;
    /// <summary>Byte offsets inside one front-table entry, and its size.</summary>
    public const int EntryReadTagOffset = 0, EntryWriteTagOffset = 8, EntryAddendOffset = 16, EntrySlotOffset = 24;
    public static int EntrySize => sizeof(Entry);
    const ulong Invalid = ulong.MaxValue;

    readonly ExCache _cache;
    // Native memory at a fixed address, so translated code can probe it through a raw pointer (see FrontTableMemory).
    readonly Entry* _table;
    int _tableReleased;

    /// <summary>
    /// The view's cache is gone and nothing runs through this view any more: its table may serve the next view
    /// (256 KiB per guest was a good part of what a component running short guests one after another allocated).
    /// </summary>
    internal void ReleaseTable()
    {
        if (Interlocked.Exchange(ref _tableReleased, 1) != 0) return;
        // The next view takes it as all invalid (see the constructor).
        InvalidateAll();
        FrontTableMemory.Return(_table, TableSize * sizeof(Entry));
    }

    ~CacheView() => ReleaseTable();

    /// <summary>
    /// One bit per page of the table in which <see cref="Resolve"/> has made an entry since the last
    /// <see cref="InvalidateAll"/>: only those hold anything to clear.
    /// </summary>
    readonly ulong[] _filledPages = new ulong[(TableSize >> EntriesPerPageBits) / 64];

    readonly int _shift;
    readonly ulong _lineMask;
    readonly ulong _tagMask;
    readonly bool _lru;
    ulong _lastTracedFetch = Invalid;

    /// <summary>
    /// Guest data accesses made through this view (hits and misses): one per load or store, one per line
    /// of a bulk copy, two for a load or store that crosses into the next line (each line is an access of
    /// its own, and a trace holds one record for each). Instruction fetches are not counted: the decoder
    /// reads bytes one by one, once per block.
    /// </summary>
    public long Accesses;

    /// <summary>
    /// The guest instruction making the accesses now, to which a trace charges them and the misses they
    /// cause. The interpreter keeps it current while <see cref="Attributing"/>; translated code sets it on
    /// its slow paths, which every traced access and every miss takes; a system call sets its SYSCALL's.
    /// </summary>
    public ulong Ip;

    /// <summary>True while the emulated kernel accesses guest memory (a system call's buffers, a signal frame).</summary>
    public bool InKernel;

    /// <summary>Of <see cref="Accesses"/>, those made while <see cref="InKernel"/> (added up at the kernel's exit).</summary>
    public long KernelAccesses;

    /// <summary>True while a tracer or a profile listens, so the interpreter must keep <see cref="Ip"/> current instruction by instruction.</summary>
    public bool Attributing;

    /// <param name="fixedTable">Put the front table at the first free one of a few fixed addresses (see FrontTableMemory), as the code cache needs.</param>
    public CacheView(ExCache cache, int asid, bool fixedTable = false)
    {
        _table = (Entry*)FrontTableMemory.Rent(TableSize * sizeof(Entry), fixedTable);
        _cache = cache;
        Asid = asid;
        _shift = cache.LineShift;
        _lineMask = (ulong)cache.LineSize - 1;
        _tagMask = ~_lineMask;
        _lru = cache.TracksRecency;
        Attributing = cache.Tracer != null || cache.Profile != null;
        // A table comes zeroed (fresh) or with every entry invalid (a spare, cleared when its view let it go). A zero tag
        // names line 0, whose entry is the first: every other zero entry matches no address. The last entry can also be
        // probed with a last byte in line 0 (an access that wraps around the address space), so both get the Invalid tag.
        _table[0].ReadTag = _table[0].WriteTag = Invalid;
        _table[TableSize - 1].ReadTag = _table[TableSize - 1].WriteTag = Invalid;
        cache.Register(this);
    }

    public ExCache Cache => _cache;

    /// <summary>Address of the front table (pinned for the view's lifetime).</summary>
    public nint FrontTable => (nint)_table;
    public int LineShift => _shift;
    public ulong TagMask => _tagMask;
    /// <summary>True when every hit must update the replacement policy (LRU).</summary>
    public bool TouchesOnHit => _lru;

    /// <summary>The recency update a front-table hit makes under LRU.</summary>
    public void TouchSlot(int slot) => _cache.Touch(slot);
    public int Asid { get; private set; }

    public void SwitchAddressSpace(int asid)
    {
        Asid = asid;
        InvalidateAll();
    }

    public void InvalidateAll()
    {
        for (int w = 0; w < _filledPages.Length; w++)
        {
            ulong bits = _filledPages[w];
            if (bits == 0) continue;
            _filledPages[w] = 0;
            while (bits != 0)
            {
                int page = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                int end = (page + 1) << EntriesPerPageBits;
                for (int i = page << EntriesPerPageBits; i < end; i++)
                {
                    ref var e = ref _table[i];
                    e.ReadTag = e.WriteTag = Invalid;
                    e.Exec = 0;
                }
            }
        }
    }

    /// <summary>Drops the entries of lines in [start, end) (a flushed range: munmap, mprotect, a remote downgrade of many lines).</summary>
    public void InvalidateRange(ulong start, ulong end)
    {
        ulong first = start & _tagMask;
        if (end <= first) return;
        ulong lines = ((end - first) + _lineMask) >> _shift;
        if (lines >= TableSize)
        {
            InvalidateAll();
            return;
        }
        for (ulong line = first; line < end; line += _lineMask + 1)
        {
            ref var e = ref _table[(int)((line >> _shift) & (TableSize - 1))];
            if (e.ReadTag == line || e.WriteTag == line)
            {
                e.ReadTag = e.WriteTag = Invalid;
                e.Exec = 0;
            }
        }
    }

    internal void InvalidateLine(ulong lineAddr)
    {
        ref var e = ref _table[(int)((lineAddr >> _shift) & (TableSize - 1))];
        if (e.ReadTag == lineAddr)
        {
            e.ReadTag = e.WriteTag = Invalid;
            e.Exec = 0;
        }
    }

    internal void RevokeWrite(ulong lineAddr)
    {
        ref var e = ref _table[(int)((lineAddr >> _shift) & (TableSize - 1))];
        if (e.ReadTag == lineAddr) e.WriteTag = Invalid;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    ref Entry EntryFor(ulong a) =>
        ref _table[(nint)((a >> _shift) & (TableSize - 1))];

    // ---- hot path: loads ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read8(ulong a)
    {
        Accesses++;
        ref var e = ref EntryFor(a);
        if (e.ReadTag == (a & _tagMask))
        {
            if (_lru) _cache.Touch(e.Slot);
            return *(byte*)(e.Addend + (nint)a);
        }
        return *Resolve(a, AccessKind.Read);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Read16(ulong a)
    {
        Accesses++;
        ref var e = ref EntryFor(a);
        if (e.ReadTag == (a & _tagMask) && (a & _lineMask) <= _lineMask - 1)
        {
            if (_lru) _cache.Touch(e.Slot);
            return Unsafe.ReadUnaligned<ushort>((void*)(e.Addend + (nint)a));
        }
        return (ushort)ReadSlow(a, 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read32(ulong a)
    {
        Accesses++;
        ref var e = ref EntryFor(a);
        if (e.ReadTag == (a & _tagMask) && (a & _lineMask) <= _lineMask - 3)
        {
            if (_lru) _cache.Touch(e.Slot);
            return Unsafe.ReadUnaligned<uint>((void*)(e.Addend + (nint)a));
        }
        return (uint)ReadSlow(a, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read64(ulong a)
    {
        Accesses++;
        ref var e = ref EntryFor(a);
        if (e.ReadTag == (a & _tagMask) && (a & _lineMask) <= _lineMask - 7)
        {
            if (_lru) _cache.Touch(e.Slot);
            return Unsafe.ReadUnaligned<ulong>((void*)(e.Addend + (nint)a));
        }
        return ReadSlow(a, 8);
    }

    // 128-bit accesses carry a Vector128 (the XMM register's own type), stored values by reference: ReadyToRun
    // cannot precompile a method taking a Vector128 or UInt128 by value, so each process would JIT it and its callers.
    public Vector128<byte> Read128(ulong a)
    {
        Accesses++;
        ref var e = ref EntryFor(a);
        if (e.ReadTag == (a & _tagMask) && (a & _lineMask) <= _lineMask - 15)
        {
            if (_lru) _cache.Touch(e.Slot);
            return Unsafe.ReadUnaligned<Vector128<byte>>((void*)(e.Addend + (nint)a));
        }
        return ReadSlow128(a);
    }

    // ---- hot path: stores ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write8(ulong a, byte v)
    {
        Accesses++;
        ref var e = ref EntryFor(a);
        if (e.WriteTag == (a & _tagMask))
        {
            if (_lru) _cache.Touch(e.Slot);
            *(byte*)(e.Addend + (nint)a) = v;
            return;
        }
        *Resolve(a, AccessKind.Write) = v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write16(ulong a, ushort v)
    {
        Accesses++;
        ref var e = ref EntryFor(a);
        if (e.WriteTag == (a & _tagMask) && (a & _lineMask) <= _lineMask - 1)
        {
            if (_lru) _cache.Touch(e.Slot);
            Unsafe.WriteUnaligned((void*)(e.Addend + (nint)a), v);
            return;
        }
        WriteSlow(a, v, 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write32(ulong a, uint v)
    {
        Accesses++;
        ref var e = ref EntryFor(a);
        if (e.WriteTag == (a & _tagMask) && (a & _lineMask) <= _lineMask - 3)
        {
            if (_lru) _cache.Touch(e.Slot);
            Unsafe.WriteUnaligned((void*)(e.Addend + (nint)a), v);
            return;
        }
        WriteSlow(a, v, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write64(ulong a, ulong v)
    {
        Accesses++;
        ref var e = ref EntryFor(a);
        if (e.WriteTag == (a & _tagMask) && (a & _lineMask) <= _lineMask - 7)
        {
            if (_lru) _cache.Touch(e.Slot);
            Unsafe.WriteUnaligned((void*)(e.Addend + (nint)a), v);
            return;
        }
        WriteSlow(a, v, 8);
    }

    public void Write128(ulong a, in Vector128<byte> v)
    {
        Accesses++;
        ref var e = ref EntryFor(a);
        if (e.WriteTag == (a & _tagMask) && (a & _lineMask) <= _lineMask - 15)
        {
            if (_lru) _cache.Touch(e.Slot);
            Unsafe.WriteUnaligned((void*)(e.Addend + (nint)a), v);
            return;
        }
        WriteSlow128(a, v);
    }

    // ---- slow paths ----

    /// <summary>
    /// Returns a host pointer to the byte at <paramref name="a"/>, filling and checking permissions. A traced
    /// line's access is recorded unless <paramref name="record"/> is false: a probe before a split store or a
    /// locked read-modify-write is not an access of its own.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    byte* Resolve(ulong a, AccessKind kind, bool record = true)
    {
        ulong line = a & _tagMask;
        var tracer = _cache.Tracer;
        // Charged before the lookup, so the fill, eviction and write-back of a miss name this access's instruction.
        tracer?.Attribute(kind == AccessKind.Fetch ? a : Ip,
            kind == AccessKind.Fetch ? TraceRecordFlags.Decode : InKernel ? TraceRecordFlags.Kernel : TraceRecordFlags.None);
        if (_cache.Profile is { } profile)
        {
            profile.Ip = kind == AccessKind.Fetch ? a : Ip;
            profile.Fetch = kind == AccessKind.Fetch;
            profile.Kernel = InKernel;
        }
        _cache.PrefetchedUse = false;
        // Lines are fetched ahead only once this access is recorded: a trace's replay must see the access first.
        int prefetch = 0;
        int slot = _cache.Lookup(Asid, line);
        if (slot < 0)
        {
            try { slot = _cache.Miss(Asid, line, a, kind); }
            catch (MemoryFault) when (tracer != null)
            {
                // The miss counted and its victim left, with the slot left empty: the record and a drop say so.
                if (record) tracer.Faulted(line, RecordKind(kind), dropped: true);
                _lastTracedFetch = Invalid;
                throw;
            }
            if (_cache.Prefetching) prefetch = PrefetchAfterMiss;
        }
        else if (_cache.PrefetchedUse) prefetch = PrefetchAfterUse;
        var prot = _cache.SlotProt(slot);
        bool ok = kind switch
        {
            AccessKind.Read => prot != Protection.None,
            AccessKind.Write => (prot & Protection.Write) != 0,
            _ => (prot & Protection.Exec) != 0,
        };
        if (!ok)
        {
            _cache.Stats.Faults++;
            if (record) tracer?.Faulted(line, RecordKind(kind), dropped: false);
            _lastTracedFetch = Invalid;
            throw new MemoryFault(a, kind, FaultReason.Protection);
        }
        if (kind == AccessKind.Write && !_cache.IsExclusive(slot)) slot = _cache.Upgrade(slot, Asid, line, a);
        // A store to a line holding decoded code: the code is forgotten before the store lands.
        if (kind == AccessKind.Write && _cache.CodeLines.IsMarked(Asid, line)) _cache.CodeLines.OnWrite(Asid, line);
        byte* host = _cache.SlotData(slot);
        if (tracer != null && tracer.TracesAccessesTo(line))
        {
            // A traced line never enters the front table, so every access to it comes back here.
            if (kind == AccessKind.Write) _cache.MarkDirty(slot);
            // The decoder fetches byte by byte: one fetch of a line per decoded block is the access.
            if (record && (kind != AccessKind.Fetch || line != _lastTracedFetch)) tracer.Access(line, RecordKind(kind));
            _lastTracedFetch = kind == AccessKind.Fetch ? line : Invalid;
            if (prefetch != 0) Prefetch(line, slot, prefetch == PrefetchAfterUse);
            return host + (a & _lineMask);
        }
        int index = (int)((a >> _shift) & (TableSize - 1));
        ref var e = ref _table[index];
        _filledPages[index >> (EntriesPerPageBits + 6)] |= 1UL << ((index >> EntriesPerPageBits) & 63);
        if (e.ReadTag != line)
        {
            e.WriteTag = Invalid;
            e.Exec = 0;
        }
        e.ReadTag = line;
        e.Addend = (nint)host - (nint)line;
        e.Slot = slot;
        if (kind == AccessKind.Write)
        {
            _cache.MarkDirty(slot);
            e.WriteTag = line;
        }
        else if (kind == AccessKind.Read && _cache.IsDirty(slot) && (prot & Protection.Write) != 0 && _cache.IsExclusive(slot)
                 && !_cache.CodeLines.IsMarked(Asid, line))
        {
            // A line dirty already, read again after it left the front table (CLOCK's hand took it out to see its next use):
            // a store would only mark it dirty again, so stores take the fast path at once instead of leaving translated
            // code a second time (kmeans at 25 % of its footprint: 48,000 of its 530,000 look-ups).
            e.WriteTag = line;
        }
        else if (kind == AccessKind.Fetch)
        {
            e.Exec = 1;
        }
        if (prefetch != 0) Prefetch(line, slot, prefetch == PrefetchAfterUse);
        return host + (a & _lineMask);
    }

    const int PrefetchAfterMiss = 1, PrefetchAfterUse = 2;

    /// <summary>This thread's access streams, which decide what is fetched ahead of it.</summary>
    readonly PrefetchStreams _streams = new();

    /// <summary>
    /// Fetches ahead of a miss or of the first use of a prefetched line. The slot just resolved is locked in
    /// place meanwhile: a prefetch into its set must not pick it as a victim.
    /// </summary>
    void Prefetch(ulong line, int slot, bool use)
    {
        _cache.PrefetchAfter(_streams, Asid, line, use, slot);
    }

    static TraceRecordKind RecordKind(AccessKind kind) => kind switch
    {
        AccessKind.Read => TraceRecordKind.Read,
        AccessKind.Write => TraceRecordKind.Write,
        _ => TraceRecordKind.Fetch,
    };

    [MethodImpl(MethodImplOptions.NoInlining)]
    ulong ReadSlow(ulong a, int size)
    {
        if ((a & _lineMask) + (ulong)size <= (ulong)_cache.LineSize)
        {
            byte* p = Resolve(a, AccessKind.Read);
            return size switch
            {
                2 => Unsafe.ReadUnaligned<ushort>(p),
                4 => Unsafe.ReadUnaligned<uint>(p),
                _ => Unsafe.ReadUnaligned<ulong>(p),
            };
        }
        ulong v = 0;
        ReadSplit(a, new Span<byte>(&v, size));
        return v;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    Vector128<byte> ReadSlow128(ulong a)
    {
        if ((a & _lineMask) + 16 <= (ulong)_cache.LineSize) return Unsafe.ReadUnaligned<Vector128<byte>>(Resolve(a, AccessKind.Read));
        Vector128<byte> v = default;
        ReadSplit(a, new Span<byte>(&v, 16));
        return v;
    }

    /// <summary>
    /// A load that crosses into the next line: one access of each line, counted and recorded as two. The first
    /// line's bytes are copied before the second is resolved, whose fill may evict the first.
    /// </summary>
    void ReadSplit(ulong a, Span<byte> dst)
    {
        int first = _cache.LineSize - (int)(a & _lineMask);
        Accesses++;
        new ReadOnlySpan<byte>(Resolve(a, AccessKind.Read), first).CopyTo(dst);
        new ReadOnlySpan<byte>(Resolve(a + (ulong)first, AccessKind.Read), dst.Length - first).CopyTo(dst[first..]);
    }

    /// <summary>A store that crosses into the next line, after both lines were probed: two accesses, as for loads.</summary>
    void WriteSplit(ulong a, ReadOnlySpan<byte> src)
    {
        int first = _cache.LineSize - (int)(a & _lineMask);
        Accesses++;
        src[..first].CopyTo(new Span<byte>(Resolve(a, AccessKind.Write), first));
        src[first..].CopyTo(new Span<byte>(Resolve(a + (ulong)first, AccessKind.Write), src.Length - first));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    void WriteSlow(ulong a, ulong v, int size)
    {
        if ((a & _lineMask) + (ulong)size <= (ulong)_cache.LineSize)
        {
            byte* p = Resolve(a, AccessKind.Write);
            switch (size)
            {
                case 2: Unsafe.WriteUnaligned(p, (ushort)v); break;
                case 4: Unsafe.WriteUnaligned(p, (uint)v); break;
                default: Unsafe.WriteUnaligned(p, v); break;
            }
            return;
        }
        // Probe both lines first so a fault on the second leaves memory untouched, as hardware does.
        ProbeWrite(a, size);
        WriteSplit(a, new ReadOnlySpan<byte>(&v, size));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    void WriteSlow128(ulong a, in Vector128<byte> v)
    {
        if ((a & _lineMask) + 16 <= (ulong)_cache.LineSize)
        {
            Unsafe.WriteUnaligned(Resolve(a, AccessKind.Write), v);
            return;
        }
        ProbeWrite(a, 16);
        WriteSplit(a, MemoryMarshal.AsBytes(new ReadOnlySpan<Vector128<byte>>(in v)));
    }

    /// <summary>
    /// Before a locked read-modify-write: holds the line(s) of [a, a+size) exclusive, so the read and the
    /// write that follow both hit and no invalidation can come between them. Retries when one arrived
    /// while the second line of a split access was being fetched. Free unless the cache is coherent.
    /// </summary>
    public void ClaimForWrite(ulong a, int size)
    {
        if (!_cache.Coherent) return;
        while (true)
        {
            long seen = _cache.RemoteApplied;
            ProbeWrite(a, Math.Max(size, 1));
            if (_cache.RemoteApplied == seen) return;
        }
    }

    /// <summary>Checks both lines of a crossing store; a fault names the first byte of the line that refused.</summary>
    void ProbeWrite(ulong a, int size)
    {
        Resolve(a, AccessKind.Write, record: false);
        Resolve((a + (ulong)size - 1) & _tagMask, AccessKind.Write, record: false);
    }

    // ---- bulk access for system calls and the decoder ----

    /// <summary>Copies guest bytes out; faults like a read of each byte would.</summary>
    public void ReadBytes(ulong a, Span<byte> dst)
    {
        while (!dst.IsEmpty)
        {
            Accesses++;
            int off = (int)(a & _lineMask);
            int n = Math.Min(dst.Length, _cache.LineSize - off);
            new ReadOnlySpan<byte>(Resolve(a, AccessKind.Read), n).CopyTo(dst);
            dst = dst[n..];
            a += (ulong)n;
        }
    }

    /// <summary>Copies bytes into guest memory.</summary>
    public void WriteBytes(ulong a, ReadOnlySpan<byte> src)
    {
        while (!src.IsEmpty)
        {
            Accesses++;
            int off = (int)(a & _lineMask);
            int n = Math.Min(src.Length, _cache.LineSize - off);
            src[..n].CopyTo(new Span<byte>(Resolve(a, AccessKind.Write), n));
            src = src[n..];
            a += (ulong)n;
        }
    }

    /// <summary>Reads one instruction byte; requires execute permission.</summary>
    public byte Fetch8(ulong a) => *FetchLine(a, out _);

    /// <summary>
    /// The instruction bytes from <paramref name="a"/> to the end of its line (execute permission required): a pointer to
    /// them and their <paramref name="count"/>. Valid only until the next access that may fill a line (which may evict
    /// this one).
    /// </summary>
    public byte* FetchLine(ulong a, out int count)
    {
        count = (int)(_lineMask + 1 - (a & _lineMask));
        ref var e = ref EntryFor(a);
        if (e.ReadTag == (a & _tagMask) && e.Exec != 0)
        {
            if (_lru) _cache.Touch(e.Slot);
            return (byte*)(e.Addend + (nint)a);
        }
        return Resolve(a, AccessKind.Fetch);
    }

    /// <summary>Reads a NUL-terminated string of at most <paramref name="max"/> bytes (without the NUL).</summary>
    public byte[] ReadCString(ulong a, int max = 4096)
    {
        var buf = new List<byte>(64);
        for (int i = 0; i < max; i++)
        {
            byte b = Read8(a + (ulong)i);
            if (b == 0) return buf.ToArray();
            buf.Add(b);
        }
        throw new MemoryFault(a, AccessKind.Read, FaultReason.Protection);
    }
}
