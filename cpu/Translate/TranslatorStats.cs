namespace LegoEmu.Cpu.Translate;

/// <summary>What the translator did for one processor component, for --stats.</summary>
public sealed class TranslatorStats
{
    public long RegionsCompiled;
    public long RegionsFailed;
    public long RegionsInvalidated;
    public long RegionsEvicted;
    /// <summary>Regions dropped because they left at front-table misses too often, to be compiled again with slow-path calls.</summary>
    public long RegionsRecompiledWithMissCalls;
    /// <summary>Regions entered often enough to be planned again with the wide limits.</summary>
    public long RegionsWidened;
    /// <summary>Regions compiled again with one more entry instead of a new region that would copy most of their blocks.</summary>
    public long RegionsGivenEntries;
    public long CompileTicks;
    public long IlBytes;
    public int LiveRegions;
    public long LiveIlBytes;
    /// <summary>Guest instructions retired inside translated regions (the rest ran in the interpreter).</summary>
    public long TranslatedInstructions;
    /// <summary>Times the dispatcher entered a region: each entry and exit moves the guest registers in and out.</summary>
    public long RegionEntries;
    /// <summary>Of <see cref="RegionEntries"/>, those made by a region's exit calling the next region itself (linked exits).</summary>
    public long ChainedEntries;

    /// <summary>Regions the code cache had for this program, and how many of them ran (bound: their code matched).</summary>
    public long CachedRegions, RegionsFromCache, CachedRegionsStale;
    /// <summary>Time binding cached regions took on the guest's thread.</summary>
    public long BindTicks;
    /// <summary>Regions written to the code cache when the program ended, the time it took (compilation included), and why it was not written.</summary>
    public long RegionsSaved;
    public long SaveTicks;
    public string? CacheNote;

    public double CompileSeconds => CompileTicks / (double)System.Diagnostics.Stopwatch.Frequency;
}
