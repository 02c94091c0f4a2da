namespace LegoEmu.Mem.Cache;

/// <summary>
/// The MAP_SHARED ranges of one address space. Their lines may be cached by other processes too, so a
/// cache that shares memory with other processes fills them through the line directory.
/// </summary>
public sealed class SharedRanges
{
    readonly List<(ulong Start, ulong End)> _ranges = new();

    public int Count => _ranges.Count;

    public void Add(ulong start, ulong end)
    {
        Remove(start, end);
        int i = 0;
        while (i < _ranges.Count && _ranges[i].Start < start) i++;
        _ranges.Insert(i, (start, end));
    }

    public void Remove(ulong start, ulong end)
    {
        for (int i = 0; i < _ranges.Count; i++)
        {
            var r = _ranges[i];
            if (r.End <= start || r.Start >= end) continue;
            _ranges.RemoveAt(i);
            if (r.Start < start) _ranges.Insert(i++, (r.Start, start));
            if (r.End > end) _ranges.Insert(i++, (end, r.End));
            i--;
        }
    }

    /// <summary>True when <paramref name="addr"/> lies in a shared range.</summary>
    public bool Contains(ulong addr)
    {
        int lo = 0, hi = _ranges.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            var r = _ranges[mid];
            if (addr < r.Start) hi = mid - 1;
            else if (addr >= r.End) lo = mid + 1;
            else return true;
        }
        return false;
    }

    /// <summary>The shared ranges overlapping [start, end), clipped to it.</summary>
    public IEnumerable<(ulong Start, ulong End)> Overlapping(ulong start, ulong end)
    {
        foreach (var r in _ranges.ToArray())
            if (r.Start < end && start < r.End) yield return (Math.Max(r.Start, start), Math.Min(r.End, end));
    }

    public void Clear() => _ranges.Clear();
}
