namespace LegoEmu.Cluster.Trace;

/// <summary>Everything <c>trace report</c> computes; the text, JSON and HTML reports all render this.</summary>
public sealed class TraceReportModel
{
    public required LegoEmu.Mem.Trace.TraceHeader Header { get; init; }
    public bool Complete { get; set; }
    public string? Range { get; set; }
    public long Records { get; set; }
    public long AccessRecords { get; set; }
    public long Reads { get; set; }
    public long Writes { get; set; }
    public long Fetches { get; set; }
    /// <summary>Guest instructions retired, from the end of the trace (0 when the trace has no counts).</summary>
    public long RetiredInstructions { get; set; }
    public long Fills { get; set; }
    public long LocalZeroFills { get; set; }
    /// <summary>Lines fetched ahead of the guest (prefetch): traffic, but not misses.</summary>
    public long PrefetchFills { get; set; }
    public long Evictions { get; set; }
    public long WriteBacks { get; set; }
    /// <summary>Lines that left the cache without being replaced (munmap, mprotect, execve, invalidations).</summary>
    public long Drops { get; set; }
    /// <summary>True when records of system calls, signal frames and decoding were left out (--data-only).</summary>
    public bool DataOnly { get; set; }
    /// <summary>Of the data accesses, those the emulated kernel made (system-call buffers, signal frames).</summary>
    public long KernelAccesses { get; set; }
    /// <summary>All guest memory accesses the emulator counted (sampled or not, every level).</summary>
    public long GuestAccesses { get; set; }
    /// <summary>All ExCache misses of the run (sampled trace or not).</summary>
    public long GuestMisses { get; set; }
    public double DurationSeconds { get; set; }
    /// <summary>What the footprint and CDF count: accesses, or fills when the trace holds misses only.</summary>
    public string Basis { get; set; } = "accesses";
    public bool Estimated { get; set; }
    public long FootprintLines { get; set; }
    public long FootprintBytes { get; set; }
    public string CdfSentence { get; set; } = "";
    public List<CdfPoint> Cdf { get; set; } = new();
    /// <summary>The same curve densely, for plotting: (share of the footprint, share of accesses).</summary>
    public List<double[]> CdfCurve { get; set; } = new();
    public List<MrcPoint> Mrc { get; set; } = new();
    public long ConfiguredCacheLines { get; set; }
    public double? PredictedMissRatio { get; set; }
    /// <summary>Fills over accesses of the recorded lines: what the configured ExCache actually did.</summary>
    public double? MeasuredMissRatio { get; set; }
    public List<WindowPoint> WorkingSet { get; set; } = new();
    public List<TrafficRow> Nodes { get; set; } = new();
    public List<TrafficRow> Regions { get; set; } = new();
    public List<HotLine> HotLines { get; set; } = new();
    /// <summary>False for version-1 traces, whose records do not name the instruction that made them.</summary>
    public bool Attributed { get; set; }
    /// <summary>The functions charged with the most data accesses (then misses), over every object of the process.</summary>
    public List<FunctionRow> Functions { get; set; } = new();
    /// <summary>The same by source line, for objects with DWARF line tables.</summary>
    public List<SourceLineRow> SourceLines { get; set; } = new();
    /// <summary>Every charged instruction, for the callgrind and folded-stack writers.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public List<InstructionRow> Instructions { get; set; } = new();
    /// <summary>Misses of the configured ExCache (geometry and policy) replayed from the trace's accesses.</summary>
    public long? SimulatedMisses { get; set; }
    /// <summary>The replay's misses over its accesses.</summary>
    public double? SimulatedMissRatio { get; set; }
    /// <summary>Why there is no replay, or what it covers.</summary>
    public string SimulationNote { get; set; } = "";
    public HeatMapData? HeatMap { get; set; }
}

/// <summary>The smallest set of hottest lines that takes a share of the accesses.</summary>
public sealed record CdfPoint(double AccessShare, long Lines, long Bytes, double FootprintShare);

/// <summary>Predicted miss ratio of a fully associative LRU cache of this many lines.</summary>
public sealed record MrcPoint(long Lines, long Bytes, double MissRatio);

/// <summary>Distinct lines touched in one time window.</summary>
public sealed record WindowPoint(double StartSeconds, double EndSeconds, long Accesses, long Lines, long Bytes);

/// <summary>Traffic of one memory node or one vRegion.</summary>
public sealed record TrafficRow(string Name, long Accesses, long Fills, long WriteBacks, long BytesIn, long BytesOut);

/// <summary>One of the most used lines and what it belongs to.</summary>
public sealed record HotLine(ulong Address, long Accesses, long Fills, double Share, string Where);

/// <summary>Accesses per (address band, time window); bands hold equal numbers of distinct lines.</summary>
public sealed class HeatMapData
{
    public required double[][] Cells { get; init; }
    public required ulong[] RowStart { get; init; }
    public required double WindowSeconds { get; init; }
}
