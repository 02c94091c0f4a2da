using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.IO.Compression;

namespace LegoEmu.Mem.Trace;

/// <summary>
/// Streams an ExCache's events to a trace file: misses (fills, evictions, write-backs) always, and
/// at <see cref="TraceLevel.Accesses"/> every load, store and fetch of a sampled line. Records go
/// through a fixed buffer into a Brotli stream, so memory stays bounded however long the guest runs.
/// Not thread-safe: a process's guest threads share one host thread.
/// </summary>
public sealed class MemoryTracer : IDisposable
{
    const int BufferSize = 1 << 16;
    const int MaxRecord = 40;

    readonly Stream _file;
    readonly BrotliStream _packed;
    readonly byte[] _buf = new byte[BufferSize];
    readonly long _t0 = Stopwatch.GetTimestamp();
    readonly int _lineShift;
    readonly ShardsSampler _missesOf;
    int _len;
    int _sinceClock;
    long _lastLine;
    long _lastNs;
    long _lastIp;
    ulong _ip;
    byte _flags;
    int _lastTid = -1;
    bool _closed;

    public MemoryTracer(string path, TraceHeader header, TraceLevel level, double sampleRate)
    {
        Level = level;
        Sampler = new ShardsSampler(sampleRate);
        // A sampled trace is a whole trace of the sampled lines: their misses too, so it stays small and consistent.
        _missesOf = level == TraceLevel.Accesses ? Sampler : new ShardsSampler(1);
        header.Level = level == TraceLevel.Accesses ? "accesses" : "misses";
        header.SampleRate = Sampler.EffectiveRate;
        _lineShift = System.Numerics.BitOperations.Log2((uint)header.LineSize);
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header, TraceJson.Default.TraceHeader);
        _file.Write(TraceFormat.Magic);
        Span<byte> u = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(u, TraceFormat.Version);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(u[4..], (uint)json.Length);
        _file.Write(u);
        _file.Write(json);
        // Brotli is native code in the runtime: no JIT warm-up on the guest's time, unlike a managed codec.
        _packed = new BrotliStream(_file, CompressionLevel.Fastest, leaveOpen: true);
    }

    public TraceLevel Level { get; }
    public ShardsSampler Sampler { get; }
    /// <summary>The guest thread running now; the scheduler sets it on every switch.</summary>
    public int CurrentTid;
    public long Records { get; private set; }

    /// <summary>True when accesses to this line must be seen one by one (kept off the front table).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TracesAccessesTo(ulong lineAddr) => Level == TraceLevel.Accesses && Sampler.Keeps(lineAddr >> _lineShift);

    public void Access(ulong lineAddr, TraceRecordKind kind) => Event(kind, lineAddr);

    /// <summary>
    /// The guest instruction (and source) the records from here on are charged to: accesses, and the fills,
    /// evictions and write-backs they cause. Set before every traced access and at system-call entry.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Attribute(ulong ip, TraceRecordFlags flags)
    {
        _ip = ip;
        _flags = (byte)flags;
    }

    /// <param name="node">The memory node that served the line; -1 for a local zero fill (p-local).</param>
    public void Fill(ulong lineAddr, int node)
    {
        if (!_missesOf.Keeps(lineAddr >> _lineShift)) return;
        Event(TraceRecordKind.Fill, lineAddr);
        PutVarint((ulong)(node + 1));
    }

    /// <summary>A line fetched ahead of the guest into a slot (not a miss); <paramref name="node"/> is the node it comes from.</summary>
    public void PrefetchFill(ulong lineAddr, int node)
    {
        if (!_missesOf.Keeps(lineAddr >> _lineShift)) return;
        Event(TraceRecordKind.PrefetchFill, lineAddr);
        PutVarint((ulong)(node + 1));
    }

    public void Evict(ulong lineAddr)
    {
        if (_missesOf.Keeps(lineAddr >> _lineShift)) Event(TraceRecordKind.Evict, lineAddr);
    }

    /// <summary>
    /// An access that faulted after its lookup: recorded like any access of a traced line, so a replay of the
    /// trace looks the line up as the cache did; <paramref name="dropped"/> when the miss found nothing to
    /// fill and left the victim's slot empty.
    /// </summary>
    public void Faulted(ulong lineAddr, TraceRecordKind kind, bool dropped)
    {
        if (!TracesAccessesTo(lineAddr)) return;
        Event(kind, lineAddr);
        if (dropped) Event(TraceRecordKind.Drop, lineAddr);
    }

    /// <summary>A line left the cache with its slot left empty (not a victim of a fill).</summary>
    public void Drop(ulong lineAddr)
    {
        if (_missesOf.Keeps(lineAddr >> _lineShift)) Event(TraceRecordKind.Drop, lineAddr);
    }

    public void WriteBack(ulong lineAddr, int node)
    {
        if (!_missesOf.Keeps(lineAddr >> _lineShift)) return;
        Event(TraceRecordKind.WriteBack, lineAddr);
        PutVarint((ulong)(node + 1));
    }

    /// <summary>The process replaced its program (execve); reports name the new one.</summary>
    public void Exec(string program, ulong loadBias, IReadOnlyList<string> argv)
    {
        var text = string.Join('\0', new[] { program }.Concat(argv));
        Reserve();
        _buf[_len++] = (byte)TraceRecordKind.Exec;
        PutVarint(loadBias);
        PutString(text, 4000);
    }

    /// <summary>The instructions each guest instruction address retired, from the run's profile counters.</summary>
    public void InstructionCounts(IReadOnlyDictionary<ulong, CodeProfile.Cost> costs)
    {
        long last = 0;
        foreach (var (ip, c) in costs)
        {
            if (c.Instructions == 0) continue;
            Reserve();
            _buf[_len++] = (byte)TraceRecordKind.Instructions;
            long d = (long)ip - last;
            PutVarint((ulong)((d << 1) ^ (d >> 63)));
            PutVarint((ulong)c.Instructions);
            last = (long)ip;
        }
    }

    /// <summary>One mapping of the address space, for naming hot lines outside the executable's symbols.</summary>
    public void Mapping(ulong start, ulong end, string name)
    {
        Reserve();
        _buf[_len++] = (byte)TraceRecordKind.Mapping;
        PutVarint(start);
        PutVarint(end);
        PutString(name, 200);
    }

    void Event(TraceRecordKind kind, ulong lineAddr)
    {
        Reserve();
        if (CurrentTid != _lastTid)
        {
            _buf[_len++] = (byte)TraceRecordKind.Thread;
            PutVarint((ulong)CurrentTid);
            _lastTid = CurrentTid;
        }
        long line = (long)(lineAddr >> _lineShift);
        // Reading the clock costs as much as the rest of a record: read it for one record in 16.
        long ns = (++_sinceClock & 15) == 1 ? NowNs() : _lastNs;
        _buf[_len++] = (byte)((byte)kind | _flags);
        long d = line - _lastLine;
        PutVarint((ulong)((d << 1) ^ (d >> 63)));
        PutVarint((ulong)Math.Max(0, ns - _lastNs));
        long di = (long)_ip - _lastIp;
        PutVarint((ulong)((di << 1) ^ (di >> 63)));
        _lastIp = (long)_ip;
        _lastLine = line;
        if (ns > _lastNs) _lastNs = ns;
        Records++;
    }

    long NowNs()
    {
        long ticks = Stopwatch.GetTimestamp() - _t0;
        return Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)(ticks * (1e9 / Stopwatch.Frequency));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Reserve()
    {
        if (_len > BufferSize - MaxRecord - 256) Drain();
    }

    /// <summary>A length-prefixed UTF-8 string of at most <paramref name="maxChars"/> characters (the reader bounds lengths too).</summary>
    void PutString(string text, int maxChars)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text.Length > maxChars ? text[..maxChars] : text);
        if (_len + bytes.Length + 16 > BufferSize) Drain();
        PutVarint((ulong)bytes.Length);
        bytes.CopyTo(_buf, _len);
        _len += bytes.Length;
    }

    void PutVarint(ulong v)
    {
        while (v >= 0x80)
        {
            _buf[_len++] = (byte)(v | 0x80);
            v >>= 7;
        }
        _buf[_len++] = (byte)v;
    }

    // Drains are rare (one per 64 KiB of records); the lock lets a Ctrl-C on another thread close the file safely.
    readonly object _gate = new();

    void Drain()
    {
        lock (_gate)
        {
            if (!_abandoned) _packed.Write(_buf, 0, _len);
            _len = 0;
        }
    }

    bool _abandoned;

    /// <summary>
    /// Writes the end record (the guest's data accesses, those of them the emulated kernel made, and the
    /// ExCache's misses, sampled or not) and closes the file.
    /// </summary>
    public void Close(long totalAccesses, long totalMisses, long kernelAccesses)
    {
        if (_closed || _abandoned) return;
        _closed = true;
        Reserve();
        _buf[_len++] = (byte)TraceRecordKind.End;
        PutVarint((ulong)totalAccesses);
        PutVarint((ulong)Records);
        PutVarint((ulong)NowNs());
        PutVarint((ulong)totalMisses);
        PutVarint((ulong)kernelAccesses);
        Drain();
        _packed.Dispose();
        _file.Dispose();
    }

    /// <summary>Closes without totals: the reader then reports the trace as cut short.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_closed || _abandoned) return;
            try
            {
                _packed.Write(_buf, 0, _len);
                _len = 0;
                _packed.Dispose();
            }
            finally
            {
                _abandoned = true;
                _file.Dispose();
            }
        }
    }
}
