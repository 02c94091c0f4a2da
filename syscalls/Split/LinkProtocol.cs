using System.Buffers.Binary;
using System.Net.Sockets;
using LegoEmu.Cpu.Fpu;
using LegoEmu.Cpu.State;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Syscalls.Split;

/// <summary>
/// Messages between a process's home processor component and the thread hosts that run some of its
/// threads. Frames are the memory protocol's (<c>u32 length | u8 op | u32 id | payload</c>); the id is unused.
/// </summary>
public enum LinkOp : byte
{
    /// <summary>home → host: where the memory is and how to cache it.</summary>
    Setup = 1,
    /// <summary>host → home: set up, ready for threads.</summary>
    Ready = 2,
    /// <summary>home → host: run a new thread from these registers.</summary>
    Start = 3,
    /// <summary>host → home: a thread made a system call; the home runs it on the thread's behalf.</summary>
    Syscall = 4,
    /// <summary>home → host: the call is done (registers may also carry a signal frame); or the thread ended.</summary>
    Resume = 5,
    /// <summary>host → home: a thread faulted; the home delivers the signal or ends the process.</summary>
    Fault = 6,
    /// <summary>home → host: drop cached lines of a range (munmap, mprotect, fork).</summary>
    Flush = 7,
    /// <summary>host → home: the range is flushed.</summary>
    Flushed = 8,
    /// <summary>host → home: which memory node owns this vRegion? (placed after the host last heard)</summary>
    RegionQuery = 9,
    /// <summary>home → host: the answer, -1 when nothing is mapped there.</summary>
    RegionOwner = 10,
    /// <summary>home → host: the process is over; report and exit.</summary>
    Shutdown = 11,
    /// <summary>host → home: per-thread instruction counts and the host's cache and coherence counters.</summary>
    Report = 12,
    /// <summary>home → host: a thread is gone (execve, or the process is exiting).</summary>
    Stop = 13,
    /// <summary>home → host: a signal waits for a thread that is computing; it should check in at its next block boundary.</summary>
    Interrupt = 14,
    /// <summary>host → home: a thread's registers at a block boundary, so the home can deliver its signal.</summary>
    CheckIn = 15,
    /// <summary>host → home, first on every link: a fresh nonce, and whether the host wants proof of the cluster key.</summary>
    Challenge = 16,
    /// <summary>home → host: the home's nonce and its proof of the cluster key.</summary>
    Authenticate = 17,
    /// <summary>host → home: the host's proof in turn; then the setup follows.</summary>
    Authenticated = 18,
    /// <summary>home → host, when the link has been quiet for a while: are you there? (a frozen host never answers)</summary>
    Ping = 19,
    /// <summary>host → home: the answer to <see cref="Ping"/>, sent by the host's link reader whatever its guest threads do.</summary>
    Pong = 20,
    /// <summary>host → home, before <see cref="Report"/> when the process is profiled: costs per instruction address (run --profile), in frames of at most <see cref="ProfileWire.PerFrame"/>.</summary>
    ProfileCosts = 21,
}

/// <summary>A thread host's <c>run --profile</c> costs on the wire: per instruction address, its seven counters.</summary>
public static class ProfileWire
{
    /// <summary>Addresses per frame: 64 bytes each, well inside a frame's limit.</summary>
    public const int PerFrame = 8192;

    public static void Send(LinkSocket link, IReadOnlyDictionary<ulong, LegoEmu.Mem.Trace.CodeProfile.Cost> costs)
    {
        var all = costs.ToArray();
        for (int start = 0; start < all.Length; start += PerFrame)
        {
            int n = Math.Min(PerFrame, all.Length - start);
            var w = LinkSocket.Begin(LinkOp.ProfileCosts, 8 + n * 64);
            w.U32((uint)n);
            for (int i = start; i < start + n; i++)
            {
                var (ip, c) = all[i];
                w.U64(ip);
                foreach (long v in (ReadOnlySpan<long>)[c.Instructions, c.Accesses, c.Misses, c.MemoryFills, c.WriteBacks, c.FetchMisses, c.KernelMisses]) w.I64(v);
            }
            link.Send(w);
        }
    }

    /// <summary>Adds one frame's costs into <paramref name="into"/>.</summary>
    public static void Merge(byte[] body, LegoEmu.Mem.Trace.CodeProfile into)
    {
        var r = LinkSocket.Payload(body);
        uint n = r.U32();
        if (n > PerFrame) throw new ProtocolException($"{n} profiled addresses in one frame");
        for (uint i = 0; i < n; i++)
        {
            var c = into.At(r.U64());
            c.Instructions += r.I64();
            c.Accesses += r.I64();
            c.Misses += r.I64();
            c.MemoryFills += r.I64();
            c.WriteBacks += r.I64();
            c.FetchMisses += r.I64();
            c.KernelMisses += r.I64();
        }
        r.End();
    }
}

/// <summary>A thread's registers on the wire: GPRs, RIP, RFLAGS, FS/GS bases, and the FXSAVE image (x87, MXCSR, XMM).</summary>
public static class CpuWire
{
    public const int Size = 16 * 8 + 4 * 8 + FxImage.Size;

    public static void Write(FrameWriter w, CpuState c)
    {
        for (int i = 0; i < 16; i++) w.U64(c.R[i]);
        w.U64(c.Rip);
        w.U64(c.Rflags);
        w.U64(c.FsBase);
        w.U64(c.GsBase);
        Span<byte> fx = stackalloc byte[FxImage.Size];
        FxImage.Save(c, fx);
        fx.CopyTo(w.Reserve(FxImage.Size));
    }

    public static void Read(ref FrameReader r, CpuState c)
    {
        for (int i = 0; i < 16; i++) c.R[i] = r.U64();
        c.Rip = r.U64();
        c.Rflags = r.U64();
        c.FsBase = r.U64();
        c.GsBase = r.U64();
        var fx = r.Bytes(FxImage.Size);
        if (fx.Length != FxImage.Size) throw new ProtocolException($"FXSAVE image of {fx.Length} bytes, not {FxImage.Size}");
        // A reserved MXCSR bit would fault the host's own LDMXCSR later.
        if ((FxImage.Mxcsr(fx) & 0xffff_0000) != 0) throw new ProtocolException($"MXCSR 0x{FxImage.Mxcsr(fx):x} sets reserved bits");
        FxImage.Restore(c, fx);
    }
}

/// <summary>
/// One end of a home↔host link: whole frames in, whole frames out (sends are serialised). Over TCP with a cluster
/// key the frames travel through <paramref name="tls"/> (see ClusterTls); otherwise straight over the socket.
/// </summary>
public sealed class LinkSocket(Socket socket, Stream? tls = null) : IDisposable
{
    readonly object _sendLock = new();
    readonly byte[] _header = new byte[4];

    public Socket Socket { get; } = socket;

    public void Send(FrameWriter w)
    {
        var frame = w.Finish();
        lock (_sendLock)
        {
            if (tls != null) tls.Write(frame);
            else Socket.Send(frame);
        }
    }

    /// <summary>Blocks for the next frame; null when the peer closed the link between frames.</summary>
    public byte[]? Receive()
    {
        if (!ReadExact(_header, 4, allowEof: true)) return null;
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(_header);
        if (len < 5 || len > Protocol.MaxFrame) throw new ProtocolException($"link frame of {len} bytes");
        var body = new byte[len];
        ReadExact(body, (int)len, allowEof: false);
        return body;
    }

    bool ReadExact(byte[] buf, int n, bool allowEof)
    {
        int got = 0;
        while (got < n)
        {
            int r = tls != null ? tls.Read(buf, got, n - got) : Socket.Receive(buf, got, n - got, SocketFlags.None);
            if (r == 0)
            {
                if (allowEof && got == 0) return false;
                throw new ProtocolException("link closed in the middle of a frame");
            }
            got += r;
        }
        return true;
    }

    public static LinkOp OpOf(byte[] body) => (LinkOp)body[0];

    public static FrameReader Payload(byte[] body) => new(body.AsSpan(5));

    public static FrameWriter Begin(LinkOp op, int capacity = 256)
    {
        var w = new FrameWriter(capacity);
        w.Begin((byte)op, 0);
        return w;
    }

    public void Dispose()
    {
        tls?.Dispose();
        Socket.Dispose();
    }
}
