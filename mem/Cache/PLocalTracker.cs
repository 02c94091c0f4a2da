using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Cache;

/// <summary>
/// Remembers which anonymous ranges this processor created and which of their lines were ever
/// written back, so a miss on a never-written line is zero-filled locally (LegoOS's p-local lines)
/// instead of asking the memory component.
/// </summary>
public sealed class PLocalTracker
{
    readonly record struct Range(ulong Start, ulong End, Protection Prot);

    readonly List<Range> _ranges = new();
    readonly HashSet<ulong> _written = new();

    public void Add(ulong start, ulong end, Protection prot)
    {
        Remove(start, end);
        _ranges.Insert(FirstEndingAfter(start), new Range(start, end, prot));
    }

    /// <summary>Index of the first range ending after <paramref name="addr"/>: range operations start there, not at the front.</summary>
    int FirstEndingAfter(ulong addr)
    {
        int lo = 0, hi = _ranges.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (_ranges[mid].End <= addr) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    public void Remove(ulong start, ulong end)
    {
        for (int i = FirstEndingAfter(start); i < _ranges.Count; i++)
        {
            var r = _ranges[i];
            if (r.Start >= end) break;
            if (r.End <= start) continue;
            _ranges.RemoveAt(i);
            if (r.Start < start) _ranges.Insert(i++, r with { End = start });
            if (r.End > end) _ranges.Insert(i++, r with { Start = end });
            i--;
        }
        if (_written.Count > 0) _written.RemoveWhere(a => a >= start && a < end);
    }

    public void Protect(ulong start, ulong end, Protection prot)
    {
        var overlapping = new List<Range>();
        for (int i = FirstEndingAfter(start); i < _ranges.Count && _ranges[i].Start < end; i++) overlapping.Add(_ranges[i]);
        foreach (var r in overlapping)
        {
            ulong s = Math.Max(r.Start, start), e = Math.Min(r.End, end);
            var keep = _written.Count == 0 ? [] : _written.Where(a => a >= s && a < e).ToArray();
            Add(s, e, prot);
            foreach (var a in keep) _written.Add(a);
        }
    }

    public void MarkWritten(ulong lineAddr) => _written.Add(lineAddr);

    /// <summary>True when the line belongs to a fresh anonymous range and was never written back.</summary>
    public bool IsFresh(ulong lineAddr, out Protection prot)
    {
        int lo = 0, hi = _ranges.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            var r = _ranges[mid];
            if (lineAddr < r.Start) hi = mid - 1;
            else if (lineAddr >= r.End) lo = mid + 1;
            else
            {
                prot = r.Prot;
                return !_written.Contains(lineAddr);
            }
        }
        prot = Protection.None;
        return false;
    }

    public void Clear()
    {
        _ranges.Clear();
        _written.Clear();
    }
}
