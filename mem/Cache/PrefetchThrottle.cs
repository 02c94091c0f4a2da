namespace LegoEmu.Mem.Cache;

/// <summary>
/// How far ahead the prefetcher may run, learnt from what its lines became. Prefetched lines are judged in epochs of
/// a few dozen outcomes. A line used on time saves a whole miss; a line used late (the guest waited for it) the part
/// of a miss it did not wait, and at least half (one line deeper it would have been on time). Against that: a line
/// evicted unused cost a fill on the link; a demand miss on a line that an unused prefetched line had pushed out (see
/// <see cref="EvictionGhosts"/>) is a miss the prefetcher caused; and demand misses that waited behind prefetched
/// lines on the link cost what they waited beyond a miss that had the link to itself. An epoch that lost more than it
/// saved halves the depth, down to none; one that saved half as much again as it lost, or whose lines were used but
/// mostly late, doubles it, up to the configured depth. Stopped, the prefetcher waits some demand misses and then
/// tries the full depth again: kept if it pays, halved as before if not, and stopped for twice as long if even one
/// line does not pay before it paid once. A phase of the guest that prefetching only hurts costs a few trial epochs
/// now and then; a phase where it helps again is found.
/// </summary>
public sealed class PrefetchThrottle
{
    /// <summary>Outcomes (used or wasted lines) per epoch.</summary>
    const int Epoch = 64;
    /// <summary>Demand misses a stop lasts before a trial: the first, and at most after failed trials double it.</summary>
    const long FirstBackoff = 2048, MaxBackoff = 65536;
    /// <summary>What a wasted line costs against a miss saved: its fill on the link.</summary>
    const double WastedCost = 0.25;
    /// <summary>An epoch that saved this many times what it lost makes the depth grow.</summary>
    const double RaiseAbove = 1.5;
    /// <summary>A line that saved less than this of a miss counts as late.</summary>
    const double LateBelow = 0.9;
    /// <summary>What a late line counts for at least: its fill was on its way, one line deeper it would have been on time.</summary>
    const double LateFloor = 0.5;
    /// <summary>
    /// A line that came as a frame its node granted (mapped, no message): its demand miss would have needed no message
    /// either, only the mapping the prefetch made earlier on the same thread, and its first use is still a look-up, so
    /// used it saved little of a miss; unused it took the work of a fill and pushed a line out, as a miss would. Phoenix 2's
    /// kmeans with a 55-line ExCache (a quarter of its footprint) used a third of such lines and took longer with them
    /// than without; streams over memory seen before (linear_regression's mapped input) use nearly all.
    /// </summary>
    const double MappedSaved = 0.25, MappedWastedCost = 0.5;

    readonly int _max;
    readonly CacheStats _stats;
    int _used, _late, _wasted, _polluted;
    double _saved, _delay, _wastedCost;
    long _cleanTicks, _cleanCount;
    const long CleanWindow = 4096, CleanMinimum = 16;
    long _backoff = FirstBackoff, _resumeAt;
    bool _trial;

    public PrefetchThrottle(int maxDepth, CacheStats stats)
    {
        _max = maxDepth;
        Depth = maxDepth;
        _stats = stats;
    }

    /// <summary>Lines a stream may be followed ahead; 0 while stopped.</summary>
    public int Depth { get; private set; }

    /// <summary>A stream to follow: the depth to follow it now (0: stopped; a stop that has lasted long enough becomes a trial at the full depth).</summary>
    public int DepthForStream()
    {
        if (Depth > 0) return Depth;
        if (_stats.Misses < _resumeAt)
        {
            _stats.PrefetchSuppressed++;
            return 0;
        }
        // The trial runs at the full depth: at one line ahead a stream's lines come too rarely to judge it soon, and a
        // trial that fails costs one epoch wherever it runs.
        Depth = _max;
        _trial = true;
        _stats.PrefetchTrials++;
        return Depth;
    }

    /// <summary>
    /// A prefetched line's first use, which saved <paramref name="saved"/> of a miss (less than 1: the guest waited for it);
    /// <paramref name="mapped"/>: the line came as a granted frame (see <see cref="MappedSaved"/>).
    /// </summary>
    public void Used(double saved, bool mapped = false)
    {
        _used++;
        if (mapped)
        {
            _saved += MappedSaved;
            Judge();
            return;
        }
        // A late line's request was out already: followed deeper, the stream's lines would come on time.
        _saved += Math.Max(LateFloor, saved);
        if (saved < LateBelow)
        {
            _late++;
            _stats.PrefetchLate++;
        }
        Judge();
    }

    /// <summary>A prefetched line evicted unused; <paramref name="mapped"/>: it came as a granted frame (see <see cref="MappedWastedCost"/>).</summary>
    public void Wasted(bool mapped = false)
    {
        _wasted++;
        _wastedCost += mapped ? MappedWastedCost : WastedCost;
        Judge();
    }

    /// <summary>
    /// A demand miss served by the memory component in <paramref name="ticks"/>, while prefetches were in flight or
    /// not: misses behind prefetched lines on the link wait for them, and what they waited beyond the mean of misses
    /// that had the link to themselves counts against prefetching, in misses' worth (the cost of prefetch traffic, which
    /// grows with the link's latency and the node's load).
    /// </summary>
    public void DemandMiss(long ticks, bool behindPrefetches)
    {
        if (!behindPrefetches)
        {
            _cleanTicks += ticks;
            // A decaying mean: it follows the link as the machine's load changes.
            if (++_cleanCount >= CleanWindow)
            {
                _cleanTicks /= 2;
                _cleanCount /= 2;
            }
            return;
        }
        if (_cleanCount < CleanMinimum) return;
        double mean = (double)_cleanTicks / _cleanCount;
        // Signed: misses that came back sooner than the mean offset those that waited longer, so noise cancels out.
        _delay += (ticks - mean) / mean;
        _stats.PrefetchDelayTicks += (long)(ticks - mean);
    }

    /// <summary>A demand miss the prefetcher caused.</summary>
    public void Polluted()
    {
        _polluted++;
        _stats.PrefetchPolluted++;
    }

    void Judge()
    {
        if (_used + _wasted < Epoch) return;
        double gain = _saved;
        // The delay is summed signed over the epoch (noise cancels out) but never counts as a gain.
        double loss = _wastedCost + _polluted + Math.Max(0, _delay);
        if (gain < loss)
        {
            if (Depth > 1)
            {
                Depth /= 2;
                _stats.PrefetchDepthCuts++;
            }
            else if (Depth == 1)
            {
                Depth = 0;
                _stats.PrefetchStops++;
                // A trial that never paid down to one line: the next stop lasts twice as long.
                if (_trial) _backoff = Math.Min(MaxBackoff, _backoff * 2);
                _trial = false;
                _resumeAt = _stats.Misses + _backoff;
            }
        }
        else
        {
            if (_trial && Depth > 0)
            {
                _trial = false;
                _backoff = FirstBackoff;
            }
            // Saved clearly more than lost (deeper may save more still, and a deeper epoch that does not is cut back), or
            // lines used but mostly late (they need to be asked for earlier): deeper.
            bool late = _late * 2 >= _used && _used >= 2 * (_wasted + _polluted);
            if (gain > 0 && (gain >= RaiseAbove * loss || late) && Depth > 0 && Depth < _max)
            {
                Depth = Math.Min(_max, Depth * 2);
                _stats.PrefetchDepthRaises++;
            }
        }
        _used = _late = _wasted = _polluted = 0;
        _saved = _delay = _wastedCost = 0;
    }
}
