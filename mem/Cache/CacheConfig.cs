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
        return null;
    }

    static bool IsPow2(long v) => v > 0 && (v & (v - 1)) == 0;
}
