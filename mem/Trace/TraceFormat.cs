namespace LegoEmu.Mem.Trace;

/// <summary>What a trace records: ExCache misses only, or every access too.</summary>
public enum TraceLevel
{
    Misses,
    Accesses,
}

/// <summary>Kinds of record in a trace's record stream; the byte values are part of the file format.</summary>
public enum TraceRecordKind : byte
{
    Read = 1,
    Write = 2,
    Fetch = 3,
    Fill = 4,
    Evict = 5,
    WriteBack = 6,
    /// <summary>The guest thread of the records that follow.</summary>
    Thread = 7,
    /// <summary>One mapping of the guest's address space, written at the end so hot lines can be named.</summary>
    Mapping = 8,
    /// <summary>The process ran execve: the program, its load bias and its arguments from here on.</summary>
    Exec = 9,
    /// <summary>The last record: totals the reader checks the stream against.</summary>
    End = 15,
}

/// <summary>
/// The trace file layout. A fixed preamble (magic, version, header length), a UTF-8 JSON header
/// (program, arguments, cache geometry, level, sampling rate), then one Brotli-compressed stream of
/// records. Records are a kind byte and varints: line addresses are zigzag deltas from the previous
/// record's line in line units and times are deltas in nanoseconds, so a sequential scan costs about
/// three bytes a record before compression. Times are read every 16 records, so consecutive records
/// may share a time. A sampled trace holds the misses of the sampled lines only.
/// </summary>
public static class TraceFormat
{
    public static ReadOnlySpan<byte> Magic => "LEGOTRCE"u8;
    public const uint Version = 1;
    /// <summary>Headers are small; a larger length means a damaged or foreign file.</summary>
    public const int MaxHeaderBytes = 1 << 20;
}

/// <summary>The JSON header of a trace file.</summary>
public sealed class TraceHeader
{
    public string Program { get; set; } = "";
    public string[] Arguments { get; set; } = [];
    public string Level { get; set; } = "misses";
    /// <summary>SHARDS spatial sampling rate: a line is recorded iff its hash falls under it (1 = every line).</summary>
    public double SampleRate { get; set; } = 1;
    public long CacheSize { get; set; }
    public int CacheWays { get; set; }
    public int LineSize { get; set; }
    public string Policy { get; set; } = "";
    /// <summary>Where the main executable was loaded minus its link address: symbols are found at address - LoadBias.</summary>
    public ulong LoadBias { get; set; }
    public string StartedUtc { get; set; } = "";
    public int Pid { get; set; }
    /// <summary>Memory nodes the guest's memory lived on (0 = the in-process memory component).</summary>
    public int MemoryNodes { get; set; }
}
