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

    public double CompileSeconds => CompileTicks / (double)System.Diagnostics.Stopwatch.Frequency;
}
