namespace LegoEmu.Mem.Cache;

/// <summary>A range [Start, End) of guest addresses, as <see cref="RangeBlocks{T}"/> keeps them.</summary>
interface IAddressRange
{
    ulong Start { get; }
    ulong End { get; }
}

/// <summary>
/// Disjoint address ranges in address order, kept in blocks of at most <see cref="BlockSize"/>: finding,
/// adding and removing one costs a binary search and a shift inside one block, not a shift of every range
/// after it (10 000 thread stacks are 20 000 ranges, and each thread's mmap, mprotect and madvise touch them).
/// </summary>
sealed class RangeBlocks<T> where T : struct, IAddressRange
{
    const int BlockSize = 64;

    sealed class Block
    {
        public readonly T[] Items = new T[BlockSize];
        public int Count;
        public ulong LastEnd => Items[Count - 1].End;
    }

    readonly List<Block> _blocks = new();

    public int Count { get; private set; }

    /// <summary>The first range ending after <paramref name="addr"/>: its block and index, or false when none does.</summary>
    bool Locate(ulong addr, out int block, out int index)
    {
        int lo = 0, hi = _blocks.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (_blocks[mid].LastEnd <= addr) lo = mid + 1;
            else hi = mid;
        }
        block = lo;
        index = 0;
        if (lo == _blocks.Count) return false;
        var b = _blocks[lo];
        int l = 0, h = b.Count;
        while (l < h)
        {
            int mid = (l + h) >> 1;
            if (b.Items[mid].End <= addr) l = mid + 1;
            else h = mid;
        }
        index = l;
        return true;
    }

    /// <summary>The range holding <paramref name="addr"/>, if any.</summary>
    public bool TryFind(ulong addr, out T range)
    {
        if (Locate(addr, out int b, out int i) && _blocks[b].Items[i].Start <= addr)
        {
            range = _blocks[b].Items[i];
            return true;
        }
        range = default;
        return false;
    }

    /// <summary>
    /// As <see cref="TryFind"/>; when no range holds <paramref name="addr"/>, [<paramref name="gapStart"/>,
    /// <paramref name="gapEnd"/>) is the gap around it, which none does either (a caller may remember it); empty when one does.
    /// </summary>
    public bool TryFind(ulong addr, out T range, out ulong gapStart, out ulong gapEnd)
    {
        gapStart = 0;
        gapEnd = ulong.MaxValue;
        range = default;
        if (!Locate(addr, out int b, out int i))
        {
            if (_blocks.Count > 0) gapStart = _blocks[^1].LastEnd;
            return false;
        }
        var items = _blocks[b].Items;
        if (items[i].Start <= addr)
        {
            range = items[i];
            gapEnd = 0;
            return true;
        }
        gapEnd = items[i].Start;
        if (i > 0) gapStart = items[i - 1].End;
        else if (b > 0) gapStart = _blocks[b - 1].LastEnd;
        return false;
    }

    /// <summary>Adds a range that overlaps none of those held.</summary>
    public void Insert(T range)
    {
        if (_blocks.Count == 0)
        {
            // No block is ever empty: the first range makes the first one.
            var first = new Block();
            first.Items[0] = range;
            first.Count = 1;
            _blocks.Add(first);
            Count++;
            return;
        }
        if (!Locate(range.Start, out int bi, out int i))
        {
            bi = _blocks.Count - 1;
            i = _blocks[bi].Count;
        }
        var b = _blocks[bi];
        if (b.Count == BlockSize)
        {
            var right = new Block();
            int half = BlockSize / 2;
            Array.Copy(b.Items, half, right.Items, 0, BlockSize - half);
            Array.Clear(b.Items, half, BlockSize - half);
            right.Count = BlockSize - half;
            b.Count = half;
            _blocks.Insert(bi + 1, right);
            if (i > half)
            {
                b = right;
                i -= half;
            }
        }
        Array.Copy(b.Items, i, b.Items, i + 1, b.Count - i);
        b.Items[i] = range;
        b.Count++;
        Count++;
    }

    void RemoveAt(int bi, int i)
    {
        var b = _blocks[bi];
        Array.Copy(b.Items, i + 1, b.Items, i, b.Count - i - 1);
        b.Items[--b.Count] = default;
        Count--;
        if (b.Count == 0) _blocks.RemoveAt(bi);
    }

    /// <summary>
    /// Takes [start, end) out: ranges inside it go, ranges across its edges keep their outer parts
    /// (<paramref name="cut"/> makes a part of a range with new bounds).
    /// </summary>
    public void Remove(ulong start, ulong end, Func<T, ulong, ulong, T> cut)
    {
        while (Locate(start, out int bi, out int i) && _blocks[bi].Items[i].Start < end)
        {
            var r = _blocks[bi].Items[i];
            RemoveAt(bi, i);
            if (r.Start < start) Insert(cut(r, r.Start, start));
            if (r.End > end)
            {
                Insert(cut(r, end, r.End));
                break;
            }
        }
    }

    /// <summary>Adds the ranges overlapping [start, end) to <paramref name="into"/>, in address order.</summary>
    public void Overlapping(ulong start, ulong end, List<T> into)
    {
        if (!Locate(start, out int bi, out int i)) return;
        for (; bi < _blocks.Count; bi++, i = 0)
        {
            var b = _blocks[bi];
            for (; i < b.Count; i++)
            {
                if (b.Items[i].Start >= end) return;
                into.Add(b.Items[i]);
            }
        }
    }

    public void Clear()
    {
        _blocks.Clear();
        Count = 0;
    }
}
