using System.Buffers.Binary;
using System.Text.Json;
using System.IO.Compression;

namespace LegoEmu.Mem.Trace;

/// <summary>A damaged, truncated or foreign trace file.</summary>
public sealed class TraceFormatException(string message) : Exception(message);

/// <summary>One decoded record. Line is a byte address (the first byte of the line).</summary>
public struct TraceEvent
{
    public TraceRecordKind Kind;
    public ulong Line;
    public long TimeNs;
    public int Tid;
    /// <summary>Fill and write-back records: the memory node; -1 for a local zero fill.</summary>
    public int Node;
    /// <summary>The guest instruction the record is charged to (0 in version 1 traces).</summary>
    public ulong Ip;
    public TraceRecordFlags Flags;
    /// <summary>Instructions records: how many times the instruction at <see cref="Ip"/> retired.</summary>
    public long Count;
    /// <summary>Mapping records only.</summary>
    public ulong End;
    public string? Name;
}

/// <summary>Reads a trace file record by record, in bounded memory.</summary>
public sealed class TraceReader : IDisposable
{
    readonly Stream _file;
    readonly BrotliStream _packed;
    readonly byte[] _buf = new byte[1 << 16];
    readonly int _lineShift;
    int _pos, _len;
    bool _eof;
    long _line;
    long _ns;
    long _ip;
    long _countIp;
    int _tid;
    uint _version;

    public TraceReader(string path)
    {
        try { _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TraceFormatException($"cannot open {path}: {e.Message}");
        }
        try
        {
            Span<byte> pre = stackalloc byte[16];
            if (_file.ReadAtLeast(pre, 16, throwOnEndOfStream: false) < 16 || !pre[..8].SequenceEqual(TraceFormat.Magic))
                throw new TraceFormatException($"{path} is not a LegoEmu trace (bad magic)");
            uint version = BinaryPrimitives.ReadUInt32LittleEndian(pre[8..]);
            if (version is < 1 or > TraceFormat.Version)
                throw new TraceFormatException($"{path} is trace format version {version}; this legoemu reads versions 1 to {TraceFormat.Version}");
            _version = version;
            uint hlen = BinaryPrimitives.ReadUInt32LittleEndian(pre[12..]);
            if (hlen > TraceFormat.MaxHeaderBytes) throw new TraceFormatException($"{path}: header length {hlen} is implausible");
            var json = new byte[hlen];
            if (_file.ReadAtLeast(json, (int)hlen, throwOnEndOfStream: false) < hlen)
                throw new TraceFormatException($"{path}: truncated in the header");
            try { Header = JsonSerializer.Deserialize(json, TraceJson.Default.TraceHeader) ?? throw new JsonException("null header"); }
            catch (JsonException e) { throw new TraceFormatException($"{path}: bad header: {e.Message}"); }
            if (Header.LineSize < 1 || (Header.LineSize & (Header.LineSize - 1)) != 0)
                throw new TraceFormatException($"{path}: bad line size {Header.LineSize} in the header");
            if (!(Header.SampleRate > 0 && Header.SampleRate <= 1))
                throw new TraceFormatException($"{path}: bad sampling rate {Header.SampleRate} in the header");
            _lineShift = System.Numerics.BitOperations.Log2((uint)Header.LineSize);
            _packed = new BrotliStream(_file, CompressionMode.Decompress, leaveOpen: true);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    public TraceHeader Header { get; }
    public long CompressedLength => _file.Length;
    public long CompressedPosition => _file.Position;
    /// <summary>Set once the end record has been read.</summary>
    public bool Complete { get; private set; }
    public long TotalAccesses { get; private set; }
    public long DurationNs { get; private set; }
    /// <summary>All ExCache misses of the run, whether or not their lines were sampled.</summary>
    public long TotalMisses { get; private set; }
    /// <summary>Of <see cref="TotalAccesses"/>, those the emulated kernel made (system calls, signal frames); 0 before version 2.</summary>
    public long KernelAccesses { get; private set; }
    /// <summary>True when records name the instruction that made them (version 2 on).</summary>
    public bool Attributed => _version >= 2;

    /// <summary>The next record, or false at the end (a trace cut short simply ends; see <see cref="Complete"/>).</summary>
    public bool Next(out TraceEvent e)
    {
        e = default;
        while (true)
        {
            if (Complete) return false;
            int raw = ReadByte();
            if (raw < 0) return false;
            int k = _version >= 2 ? raw & TraceFormat.KindMask : raw;
            e.Flags = (TraceRecordFlags)(raw & ~TraceFormat.KindMask);
            switch ((TraceRecordKind)k)
            {
                case TraceRecordKind.Thread:
                    _tid = (int)Varint();
                    continue;
                case TraceRecordKind.Read:
                case TraceRecordKind.Write:
                case TraceRecordKind.Fetch:
                case TraceRecordKind.Evict:
                case TraceRecordKind.Drop:
                    Common(ref e, (TraceRecordKind)k);
                    return true;
                case TraceRecordKind.Fill:
                case TraceRecordKind.PrefetchFill:
                case TraceRecordKind.WriteBack:
                    Common(ref e, (TraceRecordKind)k);
                    e.Node = (int)Varint() - 1;
                    return true;
                case TraceRecordKind.Instructions:
                {
                    ulong z = Varint();
                    _countIp += (long)(z >> 1) ^ -(long)(z & 1);
                    e.Kind = TraceRecordKind.Instructions;
                    e.Ip = (ulong)_countIp;
                    e.Count = (long)Varint();
                    return true;
                }
                case TraceRecordKind.Mapping:
                {
                    e.Kind = TraceRecordKind.Mapping;
                    e.Line = Varint();
                    e.End = Varint();
                    int n = (int)Varint();
                    if (n > 4096) throw new TraceFormatException("bad mapping record");
                    e.Name = ReadString(n);
                    return true;
                }
                case TraceRecordKind.Exec:
                {
                    ulong bias = Varint();
                    int n = (int)Varint();
                    if (n > 16384) throw new TraceFormatException("bad exec record");
                    var parts = ReadString(n).Split('\0');
                    Header.Program = parts[0];
                    Header.Arguments = parts[1..];
                    Header.LoadBias = bias;
                    continue;
                }
                case TraceRecordKind.End:
                    TotalAccesses = (long)Varint();
                    Varint();
                    DurationNs = (long)Varint();
                    TotalMisses = (long)Varint();
                    if (_version >= 2) KernelAccesses = (long)Varint();
                    Complete = true;
                    return false;
                default:
                    throw new TraceFormatException($"unknown record kind {raw} at offset {CompressedPosition} (damaged trace)");
            }
        }
    }

    void Common(ref TraceEvent e, TraceRecordKind kind)
    {
        ulong z = Varint();
        long d = (long)(z >> 1) ^ -(long)(z & 1);
        _line += d;
        _ns += (long)Varint();
        if (_version >= 2)
        {
            ulong zi = Varint();
            _ip += (long)(zi >> 1) ^ -(long)(zi & 1);
        }
        e.Ip = (ulong)_ip;
        e.Kind = kind;
        e.Line = (ulong)_line << _lineShift;
        e.TimeNs = _ns;
        e.Tid = _tid;
    }

    string ReadString(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            int b = ReadByte();
            if (b < 0) throw new TraceFormatException("trace cut short inside a record");
            bytes[i] = (byte)b;
        }
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    ulong Varint()
    {
        ulong v = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            int b = ReadByte();
            if (b < 0) throw new TraceFormatException("trace cut short inside a record");
            v |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return v;
        }
        throw new TraceFormatException("bad varint (damaged trace)");
    }

    int ReadByte()
    {
        if (_pos < _len) return _buf[_pos++];
        if (_eof) return -1;
        try { _len = _packed.Read(_buf, 0, _buf.Length); }
        catch (Exception ex) when (ex is IOException or InvalidDataException or InvalidOperationException)
        {
            _eof = true;
            if (Complete) return -1;
            throw new TraceFormatException($"damaged compressed data: {ex.Message}");
        }
        _pos = 0;
        if (_len == 0)
        {
            _eof = true;
            return -1;
        }
        return _buf[_pos++];
    }

    public void Dispose()
    {
        _packed.Dispose();
        _file.Dispose();
    }
}
