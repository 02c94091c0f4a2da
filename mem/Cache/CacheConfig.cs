namespace LegoEmu.Mem.Cache;

/// <summary>How the cache picks a victim within a set.</summary>
public enum ReplacementPolicy
{
    Fifo,
    Lru,
    Random,
}

/// <summary>ExCache geometry. Validated once; the hot path relies on the powers of two checked here.</summary>
public sealed record CacheConfig(long Size, int Ways, int LineSize, ReplacementPolicy Policy)
{
    /// <summary>The embedded default: large enough that a first-light guest never evicts.</summary>
    public static CacheConfig Default => new(1L << 30, 8, 4096, ReplacementPolicy.Fifo);

    public const int MinLine = 64;
    public const int MaxLine = 4096;

    /// <summary>What is fetched ahead of the guest when memory nodes serve the cache (in-process memory never prefetches).</summary>
    public PrefetchMode Prefetch { get; init; } = PrefetchMode.Stride;

    /// <summary>How many lines ahead of a stream the prefetcher keeps in flight.</summary>
    public int PrefetchDepth { get; init; } = DefaultPrefetchDepth;

    public const int DefaultPrefetchDepth = 16;
    public const int MaxPrefetchDepth = 64;

    /// <summary>
    /// A dirty victim's write-back to a memory node is sent behind the fill and not waited for (false: it travels
    /// with the fill in one combined request, which the node stores before it answers).
    /// </summary>
    public bool QueueWriteBacks { get; init; } = true;

    public int Sets => (int)(Size / ((long)LineSize * Ways));
    public int Slots => Sets * Ways;

    /// <summary>Returns an error message, or null when the geometry is usable.</summary>
    public string? Validate()
    {
        if (LineSize < MinLine || LineSize > MaxLine || !IsPow2(LineSize))
            return $"--line must be a power of two from {MinLine} to {MaxLine} bytes (got {LineSize})";
        if (Ways < 1 || Ways > 1024)
            return $"--ways must be between 1 and 1024 (got {Ways})";
        if (Size < (long)LineSize * Ways)
            return $"--excache {Size} bytes is smaller than one set ({Ways} ways x {LineSize} B lines)";
        if (Size % ((long)LineSize * Ways) != 0 || !IsPow2(Size / ((long)LineSize * Ways)))
            return $"--excache must hold a power-of-two number of sets of {Ways} x {LineSize} B (got {Size} bytes)";
        if (Size > (64L << 30))
            return "--excache larger than 64 GiB is not supported";
        if (PrefetchDepth < 1 || PrefetchDepth > MaxPrefetchDepth)
            return $"--prefetch-depth must be between 1 and {MaxPrefetchDepth} (got {PrefetchDepth})";
        return null;
    }

    static bool IsPow2(long v) => v > 0 && (v & (v - 1)) == 0;
}
