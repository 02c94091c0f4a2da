namespace LegoEmu.Mem.Cache;

/// <summary>What the ExCache fetches ahead of the guest.</summary>
public enum PrefetchMode
{
    /// <summary>Nothing: every line comes on a demand miss.</summary>
    Off,
    /// <summary>The next lines after every miss and every first use of a prefetched line.</summary>
    Next,
    /// <summary>Lines along a stride seen in two consecutive misses of one stream (sequential scans included).</summary>
    Stride,
}

/// <summary>
/// One guest thread's access streams as the prefetcher sees them: a few recent miss positions, each with
/// the stride between its last two misses. A miss near a stream extends it; a miss far from all of them
/// starts a new one in place of the oldest. Positions are line numbers (address &gt;&gt; line shift).
/// </summary>
public sealed class PrefetchStreams
{
    const int Streams = 4;
    /// <summary>Strides beyond this many lines are not followed: they are rarely a stream, and far lines are costly guesses.</summary>
    public const long MaxStride = 64;

    readonly long[] _last = new long[Streams];
    readonly long[] _stride = new long[Streams];
    readonly int[] _confidence = new int[Streams];
    readonly long[] _used = new long[Streams];
    long _clock;

    public PrefetchStreams()
    {
        for (int i = 0; i < _last.Length; i++) _last[i] = long.MinValue / 2; // not Array.Fill: see SlotStore's constructor
    }

    /// <summary>
    /// Records a demand miss (<paramref name="use"/> false) or the first use of a prefetched line at line
    /// number <paramref name="line"/>; returns the stride to prefetch along, or 0 for none.
    /// </summary>
    public long Observe(long line, bool use)
    {
        int match = -1;
        for (int i = 0; i < Streams; i++)
        {
            long d = line - _last[i];
            if (d != 0 && d >= -MaxStride && d <= MaxStride && (match < 0 || _used[i] > _used[match])) match = i;
        }
        _clock++;
        if (match < 0)
        {
            if (use) return 0;
            int oldest = 0;
            for (int i = 1; i < Streams; i++)
                if (_used[i] < _used[oldest]) oldest = i;
            _last[oldest] = line;
            _stride[oldest] = 0;
            _confidence[oldest] = 0;
            _used[oldest] = _clock;
            return 0;
        }
        long delta = line - _last[match];
        _used[match] = _clock;
        _last[match] = line;
        if (delta == _stride[match]) _confidence[match]++;
        else if (!use)
        {
            _stride[match] = delta;
            _confidence[match] = 0;
        }
        return _confidence[match] >= 1 || (use && _stride[match] != 0) ? _stride[match] : 0;
    }
}
