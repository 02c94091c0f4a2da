using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// The frames a same-host node granted one link, by (address space, page number): open addressing with linear probing
/// in a power-of-two array kept at most half full. A one-sided fill and a one-sided write-back each look a page up on
/// the miss path, right after a 4 KiB copy has pushed most of the host cache out; a Dictionary reads a bucket array
/// and then an entry array (two likely cache misses), this table one entry, and usually the next ones in the same
/// line. Not thread-safe: its link's owner uses it from one thread, as it did the Dictionary.
/// </summary>
sealed class GrantTable
{
    /// <summary>A grant; <see cref="SlotPlusOne"/> is 0 in an empty entry, so a cleared array is an empty table.</summary>
    struct Entry
    {
        public ulong Page;
        public int Asid;
        public int SlotPlusOne;
        public Protection Prot;
    }

    Entry[] _entries = new Entry[256];
    /// <summary>64 minus log2 of the array's length: the multiplicative hash keeps that many high bits' worth.</summary>
    int _shift = 64 - 8;

    public int Count { get; private set; }

    /// <summary>Pages per block of consecutive entries (see <see cref="Home"/>); the array holds at least one block.</summary>
    const int BlockShift = 6;

    /// <summary>
    /// A page's first entry: the 64 pages of an aligned block of a space keep consecutive entries, so misses that walk
    /// the guest's memory in order (most do) find the next grant in the cache line just read or the one the host
    /// prefetched after it (spread over the whole array, each look-up was a miss to memory, the top item of a profile
    /// of the one-sided path); the blocks themselves are placed by Fibonacci hashing of the block and the space, so
    /// regions that share low address bits do not pile up in the same run.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Home(int asid, ulong page, int shift) =>
        (int)((((page >> BlockShift) ^ ((ulong)(uint)asid << 40)) * 0x9E3779B97F4A7C15UL) >> (shift + BlockShift)) << BlockShift
        | (int)(page & ((1 << BlockShift) - 1));

    /// <summary>The grant of <paramref name="page"/> of <paramref name="asid"/>: its arena slot and rights; false when there is none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int asid, ulong page, out int slot, out Protection prot)
    {
        var entries = _entries;
        int mask = entries.Length - 1;
        ref Entry first = ref MemoryMarshal.GetArrayDataReference(entries);
        for (int i = Home(asid, page, _shift); ; i = (i + 1) & mask)
        {
            ref Entry e = ref Unsafe.Add(ref first, i);
            if (e.SlotPlusOne == 0) break;
            if (e.Page == page && e.Asid == asid)
            {
                slot = e.SlotPlusOne - 1;
                prot = e.Prot;
                return true;
            }
        }
        slot = -1;
        prot = Protection.None;
        return false;
    }

    /// <summary>Starts loading the cache line of the page's first entry, where <see cref="TryGet"/> will look first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(int asid, ulong page)
    {
        if (!Sse.IsSupported) return;
        // An address in the array read now: should the array move or be replaced before the look-up, only a hint is lost.
        ref Entry e = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_entries), Home(asid, page, _shift));
        Sse.Prefetch0(Unsafe.AsPointer(ref e));
    }

    /// <summary>Keeps (or replaces) the grant of a page; <paramref name="slot"/> is not negative.</summary>
    public void Set(int asid, ulong page, int slot, Protection prot)
    {
        if (slot < 0) throw new ArgumentOutOfRangeException(nameof(slot), slot, "a grant's arena slot");
        if ((Count + 1) * 2 > _entries.Length) Grow();
        var entries = _entries;
        int mask = entries.Length - 1;
        for (int i = Home(asid, page, _shift); ; i = (i + 1) & mask)
        {
            ref Entry e = ref entries[i];
            if (e.SlotPlusOne == 0)
            {
                e.Page = page;
                e.Asid = asid;
                Count++;
            }
            else if (e.Page != page || e.Asid != asid) continue;
            e.SlotPlusOne = slot + 1;
            e.Prot = prot;
            return;
        }
    }

    /// <summary>Drops the grant of a page; false when there was none.</summary>
    public bool Remove(int asid, ulong page)
    {
        var entries = _entries;
        int mask = entries.Length - 1;
        int hole = Home(asid, page, _shift);
        while (true)
        {
            ref Entry e = ref entries[hole];
            if (e.SlotPlusOne == 0) return false;
            if (e.Page == page && e.Asid == asid) break;
            hole = (hole + 1) & mask;
        }
        // Backward shift: an entry after the hole, up to the next empty one, moves into it when its probe sequence passes
        // the hole (its home is not between the hole and it), so every look-up still reaches its entry without tombstones.
        for (int j = (hole + 1) & mask; entries[j].SlotPlusOne != 0; j = (j + 1) & mask)
        {
            int home = Home(entries[j].Asid, entries[j].Page, _shift);
            if (((j - home) & mask) >= ((j - hole) & mask))
            {
                entries[hole] = entries[j];
                hole = j;
            }
        }
        entries[hole] = default;
        Count--;
        return true;
    }

    /// <summary>Drops every grant of <paramref name="asid"/> whose page is in [<paramref name="first"/>, <paramref name="last"/>).</summary>
    public void RemoveRange(int asid, ulong first, ulong last)
    {
        var old = _entries;
        int dead = 0;
        foreach (ref readonly Entry e in old.AsSpan())
            if (e.SlotPlusOne != 0 && e.Asid == asid && e.Page >= first && e.Page < last) dead++;
        if (dead == 0) return;
        // Rebuilt rather than removed one by one: each removal would shift the entries after it.
        _entries = new Entry[old.Length];
        Count = 0;
        foreach (ref readonly Entry e in old.AsSpan())
            if (e.SlotPlusOne != 0 && !(e.Asid == asid && e.Page >= first && e.Page < last)) Set(e.Asid, e.Page, e.SlotPlusOne - 1, e.Prot);
    }

    public void Clear()
    {
        if (Count == 0) return;
        Array.Clear(_entries);
        Count = 0;
    }

    void Grow()
    {
        var old = _entries;
        _entries = new Entry[old.Length * 2];
        _shift--;
        Count = 0;
        foreach (ref readonly Entry e in old.AsSpan())
            if (e.SlotPlusOne != 0) Set(e.Asid, e.Page, e.SlotPlusOne - 1, e.Prot);
    }
}
