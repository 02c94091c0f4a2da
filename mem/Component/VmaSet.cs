namespace LegoEmu.Mem.Component;

/// <summary>
/// The VMA list of one address space with Linux mmap/munmap/mprotect/brk placement rules.
/// A sorted list is enough: guests rarely hold more than a few hundred mappings.
/// </summary>
public sealed class VmaSet
{
    /// <summary>Top-down mmap allocation starts below the stack, as the kernel's mmap_base does.</summary>
    public const ulong DefaultMmapBase = 0x7fff_f000_0000UL - 0x800_0000UL;
    public const ulong MinAddress = 0x10000; // vm.mmap_min_addr
    public const ulong TaskSize = 0x7fff_ffff_f000UL;

    readonly List<Vma> _vmas = new();

    public ulong MmapBase
    {
        get => _mmapBase;
        set
        {
            _mmapBase = value;
            _searchFrom = value;
            _holeAbove = 0;
        }
    }
    ulong _mmapBase = DefaultMmapBase;

    /// <summary>
    /// Where the next top-down search may start (the kernel's old free_area_cache): no free gap above it,
    /// up to <see cref="MmapBase"/>, is larger than <see cref="_holeAbove"/>. A request larger than that gap
    /// starts here instead of walking every mapping above; a smaller one searches from the top, so the
    /// placement is still the highest fit. Without it each new thread stack walked all the stacks above.
    /// </summary>
    ulong _searchFrom = DefaultMmapBase, _holeAbove;
    public ulong BrkBase { get; set; }
    public ulong Brk { get; set; }

    public IReadOnlyList<Vma> Items => _vmas;

    public Vma? Find(ulong addr)
    {
        int lo = 0, hi = _vmas.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            var v = _vmas[mid];
            if (addr < v.Start) hi = mid - 1;
            else if (addr >= v.End) lo = mid + 1;
            else return v;
        }
        return null;
    }

    /// <summary>Index of the first VMA ending after <paramref name="addr"/> (the count when none does): where a range operation starts.</summary>
    public int FirstEndingAfter(ulong addr)
    {
        int lo = 0, hi = _vmas.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (_vmas[mid].End <= addr) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    public bool Overlaps(ulong start, ulong end)
    {
        int i = FirstEndingAfter(start);
        return i < _vmas.Count && _vmas[i].Start < end;
    }

    /// <summary>The VMAs overlapping [start, end), in address order.</summary>
    public IEnumerable<Vma> In(ulong start, ulong end)
    {
        for (int i = FirstEndingAfter(start); i < _vmas.Count && _vmas[i].Start < end; i++) yield return _vmas[i];
    }

    /// <summary>Finds a free range of <paramref name="length"/> bytes, highest first below MmapBase.</summary>
    public ulong FindFree(ulong length, ulong hint)
    {
        if (hint != 0)
        {
            hint = PageMath.Up(hint);
            if (hint >= MinAddress && hint + length <= TaskSize && hint + length > hint && !Overlaps(hint, hint + length))
                return hint;
        }
        bool fromCache = length > _holeAbove && _searchFrom < MmapBase;
        ulong found = Search(length, fromCache);
        // Nothing below the remembered start: the gaps above it were too small, but look anyway.
        return found == 0 && fromCache ? Search(length, false) : found;
    }

    ulong Search(ulong length, bool fromCache)
    {
        ulong top = fromCache ? _searchFrom : MmapBase;
        ulong skipped = fromCache ? _holeAbove : 0;
        // The highest mapping starting below the top comes first; those above it cannot hold a gap below it.
        int lo = 0, hi = _vmas.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (_vmas[mid].Start < top) lo = mid + 1;
            else hi = mid;
        }
        for (int i = lo - 1; i >= -1; i--)
        {
            ulong gapStart = i >= 0 ? _vmas[i].End : MinAddress;
            ulong gapEnd = top;
            if (gapEnd > gapStart)
            {
                if (gapEnd - gapStart >= length)
                {
                    // Above the gap's end every gap was smaller than what was skipped, whether or not the
                    // caller maps what it was given.
                    _searchFrom = gapEnd;
                    _holeAbove = skipped;
                    return gapEnd - length;
                }
                skipped = Math.Max(skipped, gapEnd - gapStart);
            }
            if (i >= 0) top = Math.Min(top, _vmas[i].Start);
        }
        return 0;
    }

    /// <summary>A range was unmapped: the free gap it is part of may now be above the search start.</summary>
    void Freed(ulong start, ulong end)
    {
        if (start >= MmapBase) return;
        int i = FirstEndingAfter(start);
        ulong gapEnd = Math.Min(i < _vmas.Count ? _vmas[i].Start : MmapBase, MmapBase);
        ulong gapStart = i > 0 ? _vmas[i - 1].End : MinAddress;
        if (gapEnd > gapStart && gapEnd > _searchFrom) _holeAbove = Math.Max(_holeAbove, gapEnd - gapStart);
    }

    public void Insert(Vma vma) => _vmas.Insert(FirstEndingAfter(vma.Start), vma);

    /// <summary>Removes [start,end) from every VMA, splitting the ones that straddle its edges.</summary>
    public void Remove(ulong start, ulong end)
    {
        RemoveRange(start, end);
        Freed(start, end);
    }

    void RemoveRange(ulong start, ulong end)
    {
        for (int i = FirstEndingAfter(start); i < _vmas.Count; i++)
        {
            var v = _vmas[i];
            if (v.Start >= end) break;
            if (v.End <= start) continue;
            if (v.Start < start && v.End > end)
            {
                var tail = v.CloneRange(end, v.End);
                v.End = start;
                _vmas.Insert(i + 1, tail);
                return;
            }
            if (v.Start < start) { v.End = start; continue; }
            if (v.End > end) { v.TrimStart(end); continue; }
            _vmas.RemoveAt(i);
            i--;
        }
    }

    /// <summary>True when every page of [start,end) is mapped.</summary>
    public bool FullyMapped(ulong start, ulong end)
    {
        ulong cur = start;
        for (int i = FirstEndingAfter(start); i < _vmas.Count && cur < end; i++)
        {
            if (_vmas[i].Start > cur) return false;
            cur = _vmas[i].End;
        }
        return cur >= end;
    }

    /// <summary>True when the sorted VMAs leave no hole in [start,end).</summary>
    public static bool Covers(IReadOnlyList<Vma> vmas, ulong start, ulong end)
    {
        ulong cur = start;
        foreach (var v in vmas)
        {
            if (v.End <= cur) continue;
            if (v.Start > cur) return false;
            cur = v.End;
            if (cur >= end) return true;
        }
        return cur >= end;
    }

    /// <summary>Changes protection of [start,end), splitting VMAs at the edges; the range must be mapped.</summary>
    public void SetProtection(ulong start, ulong end, Protection prot)
    {
        int first = Math.Max(FirstEndingAfter(start) - 1, 0);
        for (int i = first; i < _vmas.Count; i++)
        {
            var v = _vmas[i];
            if (v.Start >= end) break;
            if (v.End <= start || v.Prot == prot) continue;
            if (v.Start < start)
            {
                var tail = v.CloneRange(start, v.End);
                v.End = start;
                _vmas.Insert(i + 1, tail);
                continue; // the tail is visited next
            }
            if (v.End > end)
            {
                var tail = v.CloneRange(end, v.End);
                v.End = end;
                _vmas.Insert(i + 1, tail);
            }
            v.Prot = prot;
        }
        Coalesce(first, end);
    }

    /// <summary>Merges neighbours that became alike, from index <paramref name="from"/> up to the first VMA past <paramref name="end"/>.</summary>
    void Coalesce(int from, ulong end)
    {
        for (int i = from; i + 1 < _vmas.Count && _vmas[i].Start <= end; i++)
        {
            var a = _vmas[i];
            var b = _vmas[i + 1];
            if (a.End == b.Start && a.Prot == b.Prot && a.Flags == b.Flags && a.Name == b.Name
                && a.Object == b.Object && (a.Object == null || a.ObjectOffset + a.Length == b.ObjectOffset)
                && a.File == b.File && (a.File == null || (a.FileOffset + a.Length == b.FileOffset && a.FileFrom == b.FileFrom && a.FileTo == b.FileTo)))
            {
                a.End = b.End;
                _vmas.RemoveAt(i + 1);
                i--;
            }
        }
    }
}
