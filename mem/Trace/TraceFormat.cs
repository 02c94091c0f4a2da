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
    /// <summary>
    /// A line left the ExCache without a replacement taking its slot (munmap, mprotect, execve, another
    /// component took it); version 1 traces recorded these as evictions.
    /// </summary>
    Drop = 10,
    /// <summary>Written at the end: how many times the instruction at an address retired (in the run, sampled or not).</summary>
    Instructions = 11,
    /// <summary>
    /// A line fetched ahead of the guest (prefetch) into a slot, with its memory node; the victim's eviction
    /// comes before it. Not a miss: the guest's first access to the line hits. Format version 2 readers that
    /// predate it stop at it.
    /// </summary>
    PrefetchFill = 12,
    /// <summary>The last record: totals the reader checks the stream against.</summary>
    End = 15,
}

/// <summary>
/// Where a record came from, in the high bits of its kind byte (format version 2). A record with neither
/// flag was made by a guest instruction's own load or store, or by the miss, eviction or write-back it caused.
/// </summary>
[Flags]
public enum TraceRecordFlags : byte
{
    None = 0,
    /// <summary>Made while decoding guest code: an instruction fetch, or a fill or eviction a fetch caused.</summary>
    Decode = 0x20,
    /// <summary>Made by the emulated kernel for the guest: a system call's buffers, a signal frame.</summary>
    Kernel = 0x40,
}

/// <summary>
/// The trace file layout. A fixed preamble (magic, version, header length), a UTF-8 JSON header
/// (program, arguments, cache geometry, level, sampling rate), then one Brotli-compressed stream of
/// records. Records are a kind byte and varints: line addresses are zigzag deltas from the previous
/// record's line in line units and times are deltas in nanoseconds, so a sequential scan costs about
/// three bytes a record before compression. Times are read every 16 records, so consecutive records
/// may share a time. A sampled trace holds the misses of the sampled lines only. Version 2 adds to every
/// access, fill, eviction and write-back the guest instruction that made it (a zigzag delta from the
/// previous record's), source flags in the kind byte (<see cref="TraceRecordFlags"/>), and to the end record
/// the data accesses the emulated kernel made; version 1 files are still read.
/// </summary>
public static class TraceFormat
{
    public static ReadOnlySpan<byte> Magic => "LEGOTRCE"u8;
    public const uint Version = 2;
    /// <summary>The bits of a kind byte that hold the kind; the others are <see cref="TraceRecordFlags"/>.</summary>
    public const byte KindMask = 0x1f;
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
