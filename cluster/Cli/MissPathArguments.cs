using LegoEmu.Mem.Cache;

namespace LegoEmu.Cluster.Cli;

/// <summary>The miss-path options (--prefetch, --prefetch-depth, --write-back) as a forked child's component receives them.</summary>
public static class MissPathArguments
{
    /// <summary>The options that give a child's ExCache the same miss path as <paramref name="config"/>.</summary>
    public static string[] ToArguments(CacheConfig config) =>
    [
        "--prefetch", Name(config.Prefetch), "--prefetch-depth", config.PrefetchDepth.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--write-back", config.QueueWriteBacks ? "queued" : "combined",
    ];

    public static string Name(PrefetchMode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>--prefetch's value; null when it is none of off, next, stride.</summary>
    public static PrefetchMode? ParsePrefetch(string text) => text switch
    {
        "off" => PrefetchMode.Off,
        "next" => PrefetchMode.Next,
        "stride" => PrefetchMode.Stride,
        _ => null,
    };
}
