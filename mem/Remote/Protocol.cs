using System.Buffers.Binary;
using System.Text;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// The memory-component wire protocol. Every frame is <c>u32 length | u8 op | u32 request id | payload</c>
/// (length counts everything after itself, little-endian). Replies carry the request's id and op with
/// the high bit set; requests on one connection are answered in order, so a client may pipeline.
/// </summary>
public static class Protocol
{
    public const ulong Magic = 0x314D454D4F47454CUL; // "LEGOMEM1"
    public const ushort Version = 7;
    public const int HeaderSize = 9; // length + op + id
    /// <summary>The largest frame either side accepts: a Poke chunk plus its header.</summary>
    public const int MaxFrame = (1 << 20) + 64;
    public const byte ReplyBit = 0x80;
    /// <summary>The longest string field, in bytes.</summary>
    public const int MaxString = 4096;
}

/// <summary>Request opcodes.</summary>
public enum Op : byte
{
    Hello = 1,
    CreateSpace = 2,
    DestroySpace = 3,
    ForkSpace = 4,
    Map = 5,
    Unmap = 6,
    Protect = 7,
    SetBrkBase = 8,
    Brk = 9,
    Fill = 10,
    WriteBack = 11,
    WriteBackFill = 12,
    Poke = 13,
    Snapshot = 14,
    Stats = 15,
    /// <summary>Registers the connection as one processor component's main or callback channel (coherent caching).</summary>
    Attach = 16,
    /// <summary>A fill tracked by the line directory: shared (read) or exclusive (write).</summary>
    CoherentFill = 17,
    /// <summary>A tracked fill that carries the write-back of the evicted victim.</summary>
    CoherentWriteBackFill = 18,
    /// <summary>Pushed by the node on the callback channel: give up (or downgrade) a line.</summary>
    Invalidate = 19,
    /// <summary>The processor's answer to <see cref="Invalidate"/>, with the line's bytes when it was dirty.</summary>
    InvalidateAck = 20,
    /// <summary>Binds a mapped range to a shared object by key (MAP_SHARED); answers whether the object is new.</summary>
    Share = 21,
    /// <summary>A <see cref="Poke"/> that leaves pages which already have a frame alone.</summary>
    PokeAbsent = 22,
    /// <summary>Takes hold of an address space another connection made, by its key (a forked child, a thread host).</summary>
    ClaimSpace = 23,
    /// <summary>Lets go of an address space; the node destroys it when nobody holds it (a parent after handing a child its copy).</summary>
    ReleaseSpace = 24,
    /// <summary>The client's proof that it holds the cluster key, after the node's in the Hello reply (see <see cref="Handshake"/>).</summary>
    Authenticate = 25,
    /// <summary>The pages of a range that have frames, with their bytes: how a new backup of a vRegion is filled (replication).</summary>
    ReadFrames = 26,
    /// <summary>
    /// A component failed a node over and this node took over regions it was primary of: the node asks every attached
    /// component, with <see cref="RebuildRequest"/>, for the lines of those regions, and holds coherent fills until all answered.
    /// </summary>
    Rebuild = 27,
    /// <summary>Pushed by the node on the callback channel: hand back every line of the regions the named failed node was primary of.</summary>
    RebuildRequest = 28,
    /// <summary>A dirty line handed back on the callback channel for <see cref="RebuildRequest"/> (no reply).</summary>
    RebuildLine = 29,
    /// <summary>The component's last frame for one <see cref="RebuildRequest"/>: it holds none of those lines any more (no reply).</summary>
    RebuildDone = 30,
    /// <summary>
    /// A dirty line's bytes for its backup node, on the callback channel (no reply): the line was handed to another
    /// component through its primary's directory, which alone stored them.
    /// </summary>
    BackupLine = 31,
    /// <summary>
    /// Moves a Unix-socket connection's frames to a shared-memory ring (see <see cref="RingLink"/>): u32 bytes per
    /// direction. The answer (i32 status, u32 bytes) carries the ring's memfd; nothing may follow the request before it.
    /// </summary>
    RingOpen = 32,
}

/// <summary>What an <see cref="Op.Invalidate"/> asks of the holder of a line.</summary>
public enum InvalidateMode : byte
{
    /// <summary>Drop the line: another component wants to write it.</summary>
    Invalidate = 0,
    /// <summary>Keep it read-only: another component wants to read a line held modified.</summary>
    Downgrade = 1,
}

/// <summary>A protocol violation: the peer sent something no correct peer sends. Closes the connection.</summary>
public sealed class ProtocolException(string message) : Exception(message);

/// <summary>Writes a frame into a reusable buffer.</summary>
public sealed class FrameWriter
{
    byte[] _buf;
    int _pos, _start;

    public FrameWriter(int capacity = 8192) => _buf = new byte[Math.Max(capacity, 16)];

    public void Begin(byte op, uint id) => Begin(op, id, 0);

    /// <summary>
    /// Begins a frame at byte <paramref name="at"/>, behind frames finished earlier that are to stay (a batch built in
    /// place, sent as <see cref="Batch"/>); whatever was written past <paramref name="at"/> is dropped.
    /// </summary>
    public void Begin(byte op, uint id, int at)
    {
        if ((uint)at > (uint)_buf.Length) throw new ArgumentOutOfRangeException(nameof(at));
        _start = _pos = at;
        Ensure(4);
        _pos += 4;
        U8(op);
        U32(id);
    }

    /// <summary>The first <paramref name="length"/> bytes: the frames of a batch built with <see cref="Begin(byte, uint, int)"/>.</summary>
    public ReadOnlySpan<byte> Batch(int length) => _buf.AsSpan(0, length);

    /// <summary>Where the frame begun last starts.</summary>
    public int Start => _start;

    /// <summary>The buffer itself, for a send that takes an array (valid until the next write).</summary>
    public byte[] Buffer => _buf;

    void Ensure(int n)
    {
        if (_pos + n <= _buf.Length) return;
        Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _pos + n));
    }

    public void U8(byte v) { Ensure(1); _buf[_pos++] = v; }
    public void U16(ushort v) { Ensure(2); BinaryPrimitives.WriteUInt16LittleEndian(_buf.AsSpan(_pos), v); _pos += 2; }
    public void U32(uint v) { Ensure(4); BinaryPrimitives.WriteUInt32LittleEndian(_buf.AsSpan(_pos), v); _pos += 4; }
    public void I32(int v) => U32((uint)v);
    public void U64(ulong v) { Ensure(8); BinaryPrimitives.WriteUInt64LittleEndian(_buf.AsSpan(_pos), v); _pos += 8; }
    public void I64(long v) => U64((ulong)v);

    public void Bytes(ReadOnlySpan<byte> data)
    {
        U32((uint)data.Length);
        Ensure(data.Length);
        data.CopyTo(_buf.AsSpan(_pos));
        _pos += data.Length;
    }

    /// <summary>
    /// A UTF-8 string of at most <see cref="Protocol.MaxString"/> bytes. A longer one (only names shown to users,
    /// such as a mapping's file name, can be) is cut at a character boundary rather than refused.
    /// </summary>
    public void Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        int n = b.Length;
        if (n > Protocol.MaxString)
        {
            n = Protocol.MaxString;
            while (n > 0 && (b[n] & 0xC0) == 0x80) n--; // never split a character
        }
        U16((ushort)n);
        Ensure(n);
        b.AsSpan(0, n).CopyTo(_buf.AsSpan(_pos));
        _pos += n;
    }

    /// <summary>Reserves <paramref name="n"/> bytes to be filled in place (saves a copy for line data).</summary>
    public Span<byte> Reserve(int n)
    {
        U32((uint)n);
        Ensure(n);
        var span = _buf.AsSpan(_pos, n);
        _pos += n;
        return span;
    }

    /// <summary>Bytes written so far (the length prefix included): a place to go back to with <see cref="Truncate"/>.</summary>
    public int Length => _pos - _start;

    /// <summary>Bytes already written at <paramref name="at"/>, to be set after what follows them.</summary>
    public Span<byte> Written(int at, int n) => _buf.AsSpan(_start + at, n);

    /// <summary>Drops what was written after <paramref name="length"/> (an earlier <see cref="Length"/>).</summary>
    public void Truncate(int length)
    {
        if ((uint)length > (uint)(_pos - _start) || length < 4) throw new ArgumentOutOfRangeException(nameof(length));
        _pos = _start + length;
    }

    /// <summary>The finished frame with its length prefix filled in.</summary>
    public ReadOnlySpan<byte> Finish()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buf.AsSpan(_start), (uint)(_pos - _start - 4));
        return _buf.AsSpan(_start, _pos - _start);
    }
}

/// <summary>Reads a frame's payload with bounds checks; any overrun is a <see cref="ProtocolException"/>.</summary>
public ref struct FrameReader(ReadOnlySpan<byte> payload)
{
    readonly ReadOnlySpan<byte> _p = payload;
    int _pos;

    public readonly int Remaining => _p.Length - _pos;

    ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || _pos + n > _p.Length) throw new ProtocolException($"frame too short: needed {n} more bytes at offset {_pos} of {_p.Length}");
        var s = _p.Slice(_pos, n);
        _pos += n;
        return s;
    }

    public byte U8() => Take(1)[0];
    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public int I32() => (int)U32();
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public long I64() => (long)U64();

    public ReadOnlySpan<byte> Bytes(int max)
    {
        uint n = U32();
        if (n > (uint)max) throw new ProtocolException($"byte field of {n} bytes exceeds the limit of {max}");
        return Take((int)n);
    }

    /// <summary>
    /// A string field: valid UTF-8 only. A correct peer never sends anything else, and lenient decoding would turn
    /// each bad byte into a three-byte U+FFFD, so a name that fit the limit on the way in would not on the way out.
    /// </summary>
    public string Str()
    {
        int n = U16();
        if (n > Protocol.MaxString) throw new ProtocolException($"string of {n} bytes exceeds {Protocol.MaxString}");
        try { return StrictUtf8.GetString(Take(n)); }
        catch (DecoderFallbackException) { throw new ProtocolException("string field is not valid UTF-8"); }
    }

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Rejects trailing garbage: a frame must be exactly as long as its op says.</summary>
    public readonly void End()
    {
        if (_pos != _p.Length) throw new ProtocolException($"{_p.Length - _pos} unexpected trailing bytes");
    }
}
