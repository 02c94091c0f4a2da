using LegoEmu.Mem.Cache;

namespace LegoEmu.Cluster.Regress;

/// <summary>Turns a target ExCache size (a fraction of a footprint) into a geometry the cache accepts.</summary>
public static class ExCacheGeometry
{
    public const int Line = 4096;

    /// <summary>
    /// The largest size not above the target with a power-of-two number of sets and 8 to 15 ways, so it
    /// is within 1/8 of the target (a power of two alone could be half of it). At least 8 lines.
    /// </summary>
    public static (long Size, int Ways) Fit(long target)
    {
        long sets = 1;
        while (sets * 2 * 8 * Line <= target) sets *= 2;
        int ways = (int)Math.Clamp(target / (sets * Line), 8, 15);
        var cfg = new CacheConfig(sets * ways * Line, ways, Line, ReplacementPolicy.Fifo);
        return cfg.Validate() == null ? (cfg.Size, ways) : (8L * Line, 8);
    }

    public static string Format(long bytes) =>
        bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):0.#} MiB" : $"{bytes >> 10} KiB";
}
