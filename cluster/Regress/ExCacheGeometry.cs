using LegoEmu.Mem.Cache;

namespace LegoEmu.Cluster.Regress;

/// <summary>Turns a target ExCache size (a fraction of a footprint) into a geometry the cache accepts.</summary>
public static class ExCacheGeometry
{
    public const int Line = 4096;

    /// <summary>Ways per set at least, as in LegoOS's ExCache (64-way by default).</summary>
    public const int MinWays = 64;

    /// <summary>
    /// The largest size not above the target with a power-of-two number of sets and <see cref="MinWays"/> to
    /// 2 x <see cref="MinWays"/> - 1 ways, so it is within 1/64 of the target (a power of two alone could be half of
    /// it); a target of fewer lines is one fully associative set. At least 8 lines.
    /// </summary>
    /// <remarks>
    /// The associativity matters when a working set does not fit: word_count at 12 % of its footprint misses about
    /// 17 % less with 120 ways than with 15, whose sets each cycle their few slots through lines the others keep.
    /// </remarks>
    public static (long Size, int Ways) Fit(long target)
    {
        long lines = Math.Max(8, target / Line);
        if (lines < MinWays) return (lines * Line, (int)lines);
        long sets = 1;
        while (sets * 2 * MinWays <= lines) sets *= 2;
        int ways = (int)Math.Min(lines / sets, 2 * MinWays - 1);
        var cfg = new CacheConfig(sets * ways * Line, ways, Line, ReplacementPolicy.Fifo);
        return cfg.Validate() == null ? (cfg.Size, ways) : (8L * Line, 8);
    }

    public static string Format(long bytes) =>
        bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):0.#} MiB" : $"{bytes >> 10} KiB";
}
