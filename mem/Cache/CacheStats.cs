namespace LegoEmu.Mem.Cache;

/// <summary>Counters of one ExCache. Plain fields: they are bumped on the miss path only.</summary>
public sealed class CacheStats
{
    /// <summary>Front-table misses that looked the line up in the cache proper.</summary>
    public long Lookups;
    public long Hits;
    public long Misses;
    /// <summary>Misses served by zero-filling fresh anonymous memory locally, without the memory component.</summary>
    public long PLocalFills;
    /// <summary>Misses whose line came from the memory component.</summary>
    public long RemoteFills;
    public long Evictions;
    public long WriteBacks;
    /// <summary>Write-backs that travelled with the fill that replaced them.</summary>
    public long PiggybackedWriteBacks;
    public long BytesFilled;
    public long BytesWrittenBack;
    public long Faults;
    /// <summary>Stores to lines held shared that had to ask for them exclusive (coherent caches).</summary>
    public long Upgrades;
    /// <summary>Lines given up because another component wrote them (coherent caches).</summary>
    public long Invalidations;
    /// <summary>Lines made read-only because another component read them (coherent caches).</summary>
    public long Downgrades;
    /// <summary>Write-backs sent behind their fill without waiting for the node (see <see cref="CacheConfig.QueueWriteBacks"/>).</summary>
    public long QueuedWriteBacks;
    /// <summary>Misses served from the write-back queue: the line had just been evicted and its write-back was still in flight.</summary>
    public long QueueFills;
    /// <summary>Of <see cref="RemoteFills"/>, those that mapped the frame a same-host node granted instead of copying it.</summary>
    public long MappedFills;
    /// <summary>Mapped lines copied into their own slot because their node's grant went (a munmap, mprotect, fork, brk).</summary>
    public long MappedCopiedOut;
    /// <summary>Lines fetched ahead of the guest.</summary>
    public long PrefetchIssued;
    /// <summary>Prefetched lines the guest used before they were evicted.</summary>
    public long PrefetchUsed;
    /// <summary>Prefetched lines evicted or dropped unused, or that no mapping covered.</summary>
    public long PrefetchWasted;
    /// <summary>Ticks spent waiting for prefetched lines the guest reached before they arrived.</summary>
    public long PrefetchWaitTicks;
    /// <summary>Prefetched lines the guest reached before they arrived (counted in <see cref="PrefetchUsed"/> too).</summary>
    public long PrefetchLate;
    /// <summary>Demand misses on lines a prefetch had evicted shortly before: misses the prefetcher caused.</summary>
    public long PrefetchPolluted;
    /// <summary>Ticks demand misses waited behind prefetched lines on the link beyond a miss's usual time (net: may be negative).</summary>
    public long PrefetchDelayTicks;
    /// <summary>Times the throttle halved the prefetch depth (to no less than one line).</summary>
    public long PrefetchDepthCuts;
    /// <summary>Times the throttle doubled a reduced depth again.</summary>
    public long PrefetchDepthRaises;
    /// <summary>Times the throttle stopped prefetching (one line ahead did not pay either).</summary>
    public long PrefetchStops;
    /// <summary>Times prefetching was tried again at the full depth after a stop (one that fails stops again: <see cref="PrefetchStops"/>).</summary>
    public long PrefetchTrials;
    /// <summary>Streams not followed because prefetching was stopped.</summary>
    public long PrefetchSuppressed;
    /// <summary>Ticks spent inside fills (Stopwatch ticks) to derive the mean miss latency.</summary>
    public long MissTicks;
}
