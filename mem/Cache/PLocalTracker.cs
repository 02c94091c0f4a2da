using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Cache;

/// <summary>
/// Remembers which anonymous ranges this processor created and which of their lines were ever
/// written back, so a miss on a never-written line is zero-filled locally (LegoOS's p-local lines)
/// instead of asking the memory component.
/// </summary>
public sealed class PLocalTracker
{
    readonly record struct Range(ulong Start, ulong End, Protection Prot) : IAddressRange;

    readonly RangeBlocks<Range> _ranges = new();
    readonly WrittenLines _written = new();
    readonly List<Range> _overlapping = new(4); // a capacity: see FrontTableMemory.Spares
    static readonly Func<Range, ulong, ulong, Range> Cut = static (r, s, e) => r with { Start = s, End = e };
    /// <summary>The range <see cref="IsFresh"/> found last (empty when none): misses come in runs over one range.</summary>
    Range _last;
    /// <summary>The gap between ranges <see cref="IsFresh"/> found last (empty when none): misses of a file mapping's lines fall in one.</summary>
    ulong _gapStart, _gapEnd;

    /// <summary>
    /// Lines a prefetch found unmapped (the node answered so), which later prefetches skip: a stream that runs off the end
    /// of a mapping (a thread's malloc arena walked downwards, the heap below the program's data) would otherwise ask the
    /// node about the same lines again after every miss, a message each, and its slots would be waited for when chosen as
    /// victims. Forgotten whenever this space's mappings change here; one still remembered when another component mapped
    /// the line only costs that line its prefetch (a demand miss asks the node as always).
    /// </summary>
    readonly HashSet<ulong> _unmapped = new();
    /// <summary>More remembered than this and the memo starts over: it is a hint, and its set must not grow without bound.</summary>
    const int MaxUnmapped = 4096;

    public void MarkUnmapped(ulong lineAddr)
    {
        if (_unmapped.Count >= MaxUnmapped) _unmapped.Clear();
        _unmapped.Add(lineAddr);
    }

    /// <summary>True when a prefetch found the line unmapped and no mapping changed here since.</summary>
    public bool KnownUnmapped(ulong lineAddr) => _unmapped.Count != 0 && _unmapped.Contains(lineAddr);

    public void Add(ulong start, ulong end, Protection prot)
    {
        _unmapped.Clear();
        _last = default;
        _gapStart = _gapEnd = 0;
        Remove(start, end);
        _ranges.Insert(new Range(start, end, prot));
    }

    public void Remove(ulong start, ulong end)
    {
        _unmapped.Clear();
        _last = default;
        _gapStart = _gapEnd = 0;
        _ranges.Remove(start, end, Cut);
        _written.Remove(start, end);
    }

    public void Protect(ulong start, ulong end, Protection prot)
    {
        _last = default;
        _gapStart = _gapEnd = 0;
        var overlapping = _overlapping;
        overlapping.Clear();
        _ranges.Overlapping(start, end, overlapping);
        // The lines written back stay so: only the ranges' protection changes.
        foreach (var r in overlapping)
        {
            ulong s = Math.Max(r.Start, start), e = Math.Min(r.End, end);
            _ranges.Remove(s, e, Cut);
            _ranges.Insert(new Range(s, e, prot));
        }
        overlapping.Clear();
    }

    public void MarkWritten(ulong lineAddr) => _written.Add(lineAddr);

    /// <summary>True when the line belongs to a fresh anonymous range and was never written back.</summary>
    public bool IsFresh(ulong lineAddr, out Protection prot)
    {
        if (lineAddr - _gapStart < _gapEnd - _gapStart)
        {
            prot = Protection.None;
            return false;
        }
        if (lineAddr - _last.Start < _last.End - _last.Start || _ranges.TryFind(lineAddr, out _last, out _gapStart, out _gapEnd))
        {
            prot = _last.Prot;
            return !_written.Contains(lineAddr);
        }
        prot = Protection.None;
        return false;
    }

    public void Clear()
    {
        _unmapped.Clear();
        _last = default;
        _gapStart = _gapEnd = 0;
        _ranges.Clear();
        _written.Clear();
    }
}
