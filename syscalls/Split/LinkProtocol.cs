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

/// <summary>
/// A thread host's <c>run --profile</c> on the wire, in frames of at most <see cref="PerFrame"/> entries, each
/// led by its kind: costs per instruction address, call edges (call site, callee, count, inclusive costs), and
/// calling contexts in the host's order (parent, callee, own costs), which the home renumbers into its own tree.
/// </summary>
public static class ProfileWire
{
    /// <summary>Entries per frame: at most 80 bytes each, well inside a frame's limit.</summary>
    public const int PerFrame = 8192;
    const byte Costs = 0, Edges = 1, Contexts = 2;
    const int N = LegoEmu.Mem.Trace.CallGraph.Counters;

    public static void Send(LinkSocket link, LegoEmu.Mem.Trace.CodeProfile profile)
    {
        var costs = profile.Finish().ToArray();
        Frames(link, Costs, costs.Length, (w, i) =>
        {
            var (ip, c) = costs[i];
            w.U64(ip);
            foreach (long v in (ReadOnlySpan<long>)[c.Instructions, c.Accesses, c.Misses, c.MemoryFills, c.WriteBacks, c.FetchMisses, c.KernelMisses]) w.I64(v);
        });
        var edges = profile.Calls.Edges.ToArray();
        Frames(link, Edges, edges.Length, (w, i) =>
        {
            var ((site, target), e) = edges[i];
            w.U64(site);
            w.U64(target);
            w.I64(e.Count);
            foreach (long v in e.Inclusive) w.I64(v);
        });
        var contexts = profile.Calls.Contexts;
        Frames(link, Contexts, contexts.Count, (w, i) =>
        {
            var c = contexts[i];
            w.I32(c.Parent);
            w.U64(c.Target);
            foreach (long v in c.Self) w.I64(v);
        });
    }

    static void Frames(LinkSocket link, byte kind, int count, Action<LegoEmu.Mem.Remote.FrameWriter, int> entry)
    {
        for (int start = 0; start < count; start += PerFrame)
        {
            int n = Math.Min(PerFrame, count - start);
            var w = LinkSocket.Begin(LinkOp.ProfileCosts, 8 + n * 80);
            w.U8(kind);
            w.U32((uint)n);
            for (int i = start; i < start + n; i++) entry(w, i);
            link.Send(w);
        }
    }

    /// <summary>Adds one host's frames, in the order sent, into the home's profile.</summary>
    public sealed class Merger(LegoEmu.Mem.Trace.CodeProfile into)
    {
        // The host's context numbers, as the home's tree numbers them.
        readonly List<int> _contexts = new();
        readonly long[] _values = new long[N];

        public void Add(byte[] body)
        {
            var r = LinkSocket.Payload(body);
            byte kind = r.U8();
            uint n = r.U32();
            if (n > PerFrame) throw new ProtocolException($"{n} profile entries in one frame");
            var v = _values;
            for (uint i = 0; i < n; i++)
            {
                switch (kind)
                {
                    case Costs:
                    {
                        var c = into.At(r.U64());
                        Read(ref r, v);
                        c.Instructions += v[0]; c.Accesses += v[1]; c.Misses += v[2]; c.MemoryFills += v[3];
                        c.WriteBacks += v[4]; c.FetchMisses += v[5]; c.KernelMisses += v[6];
                        break;
                    }
                    case Edges:
                    {
                        var e = into.Calls.EdgeOf(r.U64(), r.U64());
                        e.Count += r.I64();
                        Read(ref r, v);
                        for (int k = 0; k < N; k++) e.Inclusive[k] += v[k];
                        break;
                    }
                    case Contexts:
                    {
                        int parent = r.I32();
                        ulong target = r.U64();
                        if (parent < -1 || parent >= _contexts.Count) throw new ProtocolException($"profile context {_contexts.Count} names parent {parent}");
                        int id = into.Calls.Enter(parent < 0 ? -1 : _contexts[parent], target);
                        _contexts.Add(id);
                        Read(ref r, v);
                        var self = into.Calls.Contexts[id].Self;
                        for (int k = 0; k < N; k++) self[k] += v[k];
                        break;
                    }
                    default: throw new ProtocolException($"profile frame of kind {kind}");
                }
            }
            r.End();
        }

        static void Read(ref LegoEmu.Mem.Remote.FrameReader r, long[] v)
        {
            for (int k = 0; k < v.Length; k++) v[k] = r.I64();
        }
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
