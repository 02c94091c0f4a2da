using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Remote;

/// <summary>A memory node that stopped answering; the message names it.</summary>
public sealed class MemoryNodeFailure(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One connection to a memory node. Calls are synchronous round trips; <see cref="Send"/> and
/// <see cref="Receive"/> are also exposed so a caller can pipeline one request to several nodes.
/// </summary>
public sealed class MemoryNodeClient : IDisposable
{
    readonly Socket _socket;
    /// <summary>The TLS channel over <see cref="_socket"/> on a TCP link with credentials (see <see cref="ClusterTls"/>); null otherwise.</summary>
    readonly System.Net.Security.SslStream? _tls;
    /// <summary>The shared-memory ring the frames move through on a Unix socket to a node that agreed (see <see cref="RingLink"/>); null: the socket.</summary>
    readonly RingLink? _ring;
    // Requests queued since the last send, built in place one behind the other: a batch leaves in one system call.
    readonly FrameWriter _w = new(16384);
    int _outLength;
    // Replies read ahead: one receive takes whatever has arrived, often several replies.
    byte[] _in = new byte[65536];
    int _inStart, _inEnd;
    uint _nextId = 1;
    long _sentAt;
    // Requests in flight, oldest first; replies come back in this order. A request without a kind is
    // answered through Receive; the others go to Async as their replies arrive.
    (uint Id, AsyncReply Kind, int Token, int Asid, ulong Line)[] _inFlight = new (uint, AsyncReply, int, int, ulong)[64];
    int _inFlightHead, _inFlightCount, _asyncInFlight;

    public MemoryNodeClient(Endpoint endpoint, int index) : this(endpoint, index, NodeTimeout.Milliseconds, RingTransport.Enabled) { }

    /// <param name="grants">Ask a same-host node for its frame arena, so that its fills may grant frames (see <see cref="Granted"/>).</param>
    public MemoryNodeClient(Endpoint endpoint, int index, bool grants) : this(endpoint, index, NodeTimeout.Milliseconds, RingTransport.Enabled, grants) { }

    MemoryNodeClient(Endpoint endpoint, int index, int timeoutMs, bool ring, bool grants = false)
    {
        Endpoint = endpoint;
        Index = index;
        _socket = endpoint.NewSocket();
        // A node that stops answering is declared failed after this long, rather than hanging the guest.
        _socket.ReceiveTimeout = timeoutMs;
        // A frozen node stops reading too: once the socket's buffer is full a send would wait forever.
        _socket.SendTimeout = timeoutMs;
        try
        {
            _socket.Connect(endpoint.Address);
        }
        catch (SocketException e)
        {
            _socket.Dispose();
            throw new MemoryNodeFailure($"cannot connect to memory node {endpoint}: {e.SocketErrorCode}", e);
        }
        try
        {
            if (ClusterTls.Applies(endpoint)) _tls = ClusterTls.Connect(_socket, recordBounded: true);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or CredentialsException)
        {
            _socket.Dispose();
            if (e is IOException { InnerException: SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock } }) throw Silent();
            throw new MemoryNodeFailure($"memory node {endpoint}: TLS handshake failed: {e.Message.Split('\n')[0]}", e);
        }
        try
        {
            Greet(_socket, _tls);
            if (ring && endpoint.IsUnix && _tls == null)
            {
                _ring = RingLink.Request(_socket, RingTransport.Capacity, timeoutMs, grants && RingTransport.OneSided, out _frames);
                if (_frames != null) _grants = new GrantTable();
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            _socket.Dispose();
            throw Silent();
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock })
        {
            _tls?.Dispose();
            _socket.Dispose();
            throw Silent();
        }
        catch (Exception e) when (e is SocketException or MemoryNodeFailure or ProtocolException or IOException)
        {
            _tls?.Dispose();
            _socket.Dispose();
            // A node with credentials speaks TLS on TCP: a client without them sees it hang up at once.
            if (_tls == null && !endpoint.IsUnix && Credentials.Key == null && e is MemoryNodeFailure)
                throw new MemoryNodeFailure($"{e.Message} (a node with credentials serves TCP over TLS only: give --credentials DIR or {Credentials.Variable})", e);
            throw e as MemoryNodeFailure ?? Failed(e);
        }
        RefreshStats();
    }

    MemoryNodeClient(Endpoint endpoint, int index, MemoryNodeFailure failure)
    {
        Endpoint = endpoint;
        Index = index;
        _socket = endpoint.NewSocket();
        _broken = failure;
    }

    /// <summary>A node that could not be reached at all: a broken link from the start, never used.</summary>
    public static MemoryNodeClient Unreachable(Endpoint endpoint, int index, MemoryNodeFailure failure) => new(endpoint, index, failure);

    /// <summary>
    /// A new connection's handshake: the protocol version, then each side's proof that it holds the cluster
    /// key (see <see cref="Handshake"/>); a node that cannot prove it is refused, whichever side has the key.
    /// </summary>
    void Greet(Socket s, Stream? tls)
    {
        var nonce = Handshake.NewNonce();
        var fw = new FrameWriter(128);
        fw.Begin((byte)Op.Hello, 0);
        fw.U64(Protocol.Magic);
        fw.U16(Protocol.Version);
        fw.Bytes(nonce);
        WriteAll(s, tls, fw.Finish());
        var body = ReadFrame(s, tls);
        var r = new FrameReader(body.AsSpan(5));
        if (body[0] != ((byte)Op.Hello | Protocol.ReplyBit) || r.U64() != Protocol.Magic || r.U16() != Protocol.Version)
            throw new MemoryNodeFailure($"memory node {Endpoint} speaks another protocol");
        var nodeNonce = r.Bytes(Handshake.NonceBytes).ToArray();
        bool required = r.U8() != 0;
        var proof = r.Bytes(Handshake.ProofBytes).ToArray();
        var key = Credentials.Key;
        if (key == null)
        {
            if (required) throw new MemoryNodeFailure($"memory node {Endpoint} requires credentials: give --credentials DIR (or {Credentials.Variable})");
            return;
        }
        if (!required) throw new MemoryNodeFailure($"memory node {Endpoint} does not authenticate (it was started without --credentials); refusing it");
        if (!Handshake.Verify(key, Handshake.NodeRole, nonce, nodeNonce, proof))
            throw new MemoryNodeFailure($"memory node {Endpoint} does not hold this cluster's key");
        fw.Begin((byte)Op.Authenticate, 0);
        fw.Bytes(Handshake.Proof(key, Handshake.ClientRole, nodeNonce, nonce));
        WriteAll(s, tls, fw.Finish());
        ReadFrame(s, tls); // a node that refuses the proof closes the connection instead
    }

    public Endpoint Endpoint { get; }
    public int Index { get; }
    public NodeStats Stats { get; } = new();
    /// <summary>Capacity and use the node reported with its last stats (frames of 4 KiB; -1 = unbounded).</summary>
    public long CapacityFrames { get; private set; }
    public long UsedFrames { get; private set; }
    public long NodeFills { get; private set; }
    public long NodeWriteBacks { get; private set; }

    public override string ToString() => $"node {Index} ({Endpoint})";

    /// <summary>How the frames travel: "ring" (shared memory), "unix", "tcp" or "tls".</summary>
    public string Transport => _ring != null ? "ring" : _tls != null ? "tls" : Endpoint.IsUnix ? "unix" : "tcp";

    public FrameWriter Begin(Op op)
    {
        _w.Begin((byte)op, _nextId++, _outLength);
        return _w;
    }

    // ---- one-sided access to a same-host node's frames ----

    /// <summary>The node's frame arena, mapped; null unless the node passed it with the ring (see <see cref="FrameWindow"/>).</summary>
    readonly FrameWindow? _frames;
    /// <summary>Live grants by (address space, page number); null when the link has no frame window.</summary>
    readonly GrantTable? _grants;
    /// <summary>The id of the last request that revoked grants: a grant in the reply to a later one is live.</summary>
    uint _revokedAt;
    /// <summary>
    /// The last revoking requests, newest at <see cref="_revokedHead"/> - 1: id, space (-1: every space) and pages. A
    /// grant in the reply to a request sent before one of them is stale only if that one took its page (see
    /// <see cref="RevokedSinceReply"/>): glibc grows a thread's arena with an mprotect, which would otherwise refuse
    /// every grant then on its way, and each refused one costs its page a message at its next fill.
    /// </summary>
    readonly (uint Id, int Asid, ulong First, ulong Last)[] _revoked = new (uint, int, ulong, ulong)[RevokedKept];
    int _revokedHead, _revokedCount;
    const int RevokedKept = 16;
    /// <summary>The id, and for an asynchronous fill the line, of the reply read last.</summary>
    uint _replyId;
    int _replyAsid;
    ulong _replyLine;
    long _livenessAt;

    /// <summary>True when this link's plain fill replies carry a grant field (the node passed its frame arena).</summary>
    public bool MapsFrames => _frames != null;

    /// <summary>Called when the grants are about to be revoked, before the request that revokes them leaves.</summary>
    public Action? Revoking { get; set; }

    /// <summary>
    /// Called after <see cref="Revoking"/> with what goes: the grants of (space, [start, end)), or every grant (space -1).
    /// A cache that maps granted frames stops using them here (see <see cref="IPipelinedTarget.FramesRevoked"/>).
    /// </summary>
    public Action<int, ulong, ulong>? FramesRevoked { get; set; }

    /// <summary>
    /// Before a request leaves (it was just completed, so its body can be read): the grants it may invalidate go. A
    /// request that may change or free a granted frame, or make another connection able to, takes the grants of what it
    /// touches: a range's (munmap, mprotect, a fixed mmap over it, binding it to a shared object, a poke into it), the
    /// heap's above the new break (brk), or all of them (a fork that shares them, a space made, claimed, released or
    /// destroyed, the line directory joined). A fill, a write-back, a stats query, a snapshot of the VMAs and an mmap the
    /// node places itself (in a gap, where no frame is) change no granted frame. A grant read from the reply to a request
    /// sent before any of these is not taken (see TakeGrant): the node may have answered before it changed the frame.
    /// </summary>
    void RevokeFor(ReadOnlySpan<byte> frame)
    {
        var op = (Op)frame[4];
        var r = new FrameReader(frame[Protocol.HeaderSize..]);
        ulong start = 0, end = ulong.MaxValue;
        int asid = 0;
        switch (op)
        {
            case Op.Fill or Op.WriteBack or Op.WriteBackFill or Op.Stats or Op.Snapshot:
                return;
            case Op.Map:
            {
                asid = r.I32();
                start = r.U64();
                ulong length = r.U64();
                r.U8();
                if (((MapFlags)r.I32() & (MapFlags.Fixed | MapFlags.FixedNoReplace)) == 0) return;
                end = PageMath.Up(start + length);
                break;
            }
            case Op.Unmap or Op.Protect or Op.Share:
                asid = r.I32();
                start = r.U64();
                end = PageMath.Up(start + r.U64());
                break;
            case Op.Poke or Op.PokeAbsent:
                asid = r.I32();
                start = r.U64();
                end = PageMath.Up(start + r.U32());
                break;
            case Op.SetBrkBase or Op.Brk:
            {
                // The heap shrinks from the highest break this link asked for at most: only pages between the new break and it can go.
                // A space whose break this link never set (a forked child's, claimed) may lose any page above the new one once.
                asid = r.I32();
                start = PageMath.Up(r.U64());
                _brkTops ??= new Dictionary<int, ulong>();
                bool known = _brkTops.TryGetValue(asid, out ulong top);
                if (start >= top) _brkTops[asid] = start;
                if (known && start >= top) return;
                end = known ? top : VmaSet.TaskSize;
                break;
            }
        }
        Revoking?.Invoke();
        _revokedAt = BinaryPrimitives.ReadUInt32LittleEndian(frame[5..]);
        // A range that wraps (a length no node accepts) takes everything, as an unknown request does.
        bool all = end == ulong.MaxValue || end < start || end > VmaSet.TaskSize;
        _revoked[_revokedHead] = (_revokedAt, all ? -1 : asid, start >> PageMath.PageShift, all ? ulong.MaxValue : PageMath.Up(end) >> PageMath.PageShift);
        _revokedHead = (_revokedHead + 1) % RevokedKept;
        if (_revokedCount < RevokedKept) _revokedCount++;
        FramesRevoked?.Invoke(all ? -1 : asid, all ? 0 : start, all ? ulong.MaxValue : end);
        if (_grants!.Count == 0) return;
        Stats.Revocations++;
        if (all)
        {
            _grants.Clear();
            return;
        }
        ulong first = start >> PageMath.PageShift, last = PageMath.Up(end) >> PageMath.PageShift;
        if (last - first <= (ulong)_grants.Count)
        {
            for (ulong p = first; p < last; p++) _grants.Remove(asid, p);
            return;
        }
        _grants.RemoveRange(asid, first, last);
    }

    /// <summary>The highest break asked for of each space on this link: a brk below it may free the heap's pages up to it.</summary>
    Dictionary<int, ulong>? _brkTops;

    /// <summary>
    /// Reads the grant field that ends a plain fill reply on a link that maps frames (after the line's bytes), and
    /// keeps the grant unless a request begun after the fill revoked the grants. <paramref name="asid"/> and
    /// <paramref name="lineAddr"/> name the line filled; for an asynchronous fill use <see cref="TakeAsyncGrant"/>.
    /// Only lines of a whole page take grants: a page's other lines may have write-backs on their way by message
    /// when the grant comes, which a copy into the frame must not overtake.
    /// </summary>
    public void TakeGrant(ref FrameReader r, int asid, ulong lineAddr, Protection prot, int lineBytes)
    {
        if (_grants == null || lineBytes != (int)PageMath.PageSize) return;
        int slot = r.I32();
        int ahead = r.U8();
        ulong page = lineAddr >> PageMath.PageShift;
        if (slot < 0 || RevokedSinceReply(asid, page))
        {
            if (_grants.Count > 0) _grants.Remove(asid, page);
            return;
        }
        _grants.Set(asid, page, slot, prot);
        // The pages after it the node granted too (MemoryNodeServer.WriteGrantsAhead), with the same rights; not one
        // with a write-back on its way, which would land after copies into the frame made from now on.
        for (int k = 1; k <= ahead; k++)
        {
            int next = r.I32();
            ulong p = page + (ulong)k;
            if (!RevokedSinceReply(asid, p) && !WriteBackInFlight(asid, p << PageMath.PageShift)) _grants.Set(asid, p, next, prot);
        }
    }

    /// <summary>
    /// True when a request sent after the one whose reply was read last, or that one, may have changed the frame of
    /// page <paramref name="page"/> of <paramref name="asid"/>: the node may have answered before it ran that request.
    /// Also when more revoking requests came since than <see cref="_revoked"/> keeps.
    /// </summary>
    bool RevokedSinceReply(int asid, ulong page)
    {
        if ((int)(_replyId - _revokedAt) > 0) return false;
        for (int k = 0, i = _revokedHead; k < _revokedCount; k++)
        {
            i = (i + RevokedKept - 1) % RevokedKept;
            var (id, a, first, last) = _revoked[i];
            if ((int)(_replyId - id) > 0) return false; // this one and the older ones were sent before the request
            if (a < 0 || (a == asid && page >= first && page < last)) return true;
        }
        return _revokedCount == RevokedKept;
    }

    /// <summary>True when a write-back of the page at <paramref name="pageAddr"/> is queued or unanswered on this link.</summary>
    bool WriteBackInFlight(int asid, ulong pageAddr)
    {
        for (int i = 0; i < _inFlightCount; i++)
        {
            var (_, kind, _, a, line) = _inFlight[(_inFlightHead + i) % _inFlight.Length];
            if (kind == AsyncReply.WriteBack && a == asid && (line & ~PageMath.PageMask) == pageAddr) return true;
        }
        return false;
    }

    /// <summary><see cref="TakeGrant"/> for the reply of an asynchronous fill (the line it asked for was noted when it was queued).</summary>
    public void TakeAsyncGrant(ref FrameReader r, Protection prot, int lineBytes) => TakeGrant(ref r, _replyAsid, _replyLine, prot, lineBytes);

    /// <summary>
    /// Reads the grant field of an asynchronous write-back's reply on a link that maps frames (the frame's slot and the
    /// VMA's rights: a first write-back makes the frame, and its grant spares the page's next fill a message). Not
    /// taken while another write-back of the same line is on its way: that one, older than a copy into the frame made
    /// from now on, would land after it.
    /// </summary>
    public void TakeWriteBackGrant(ref FrameReader r)
    {
        if (_grants == null) return;
        int slot = r.I32();
        var prot = (Protection)r.U8();
        if (slot < 0 || RevokedSinceReply(_replyAsid, _replyLine >> PageMath.PageShift)) return;
        for (int i = 0; i < _inFlightCount; i++)
        {
            var (_, kind, _, asid, line) = _inFlight[(_inFlightHead + i) % _inFlight.Length];
            if (kind == AsyncReply.WriteBack && asid == _replyAsid && line == _replyLine) return;
        }
        _grants.Set(_replyAsid, _replyLine >> PageMath.PageShift, slot, prot);
    }

    /// <summary>
    /// Where the line at <paramref name="lineAddr"/> of <paramref name="asid"/> lies in the node's frame window when
    /// this link holds a grant for its page, with the rights it was granted with; null otherwise. At least once a
    /// millisecond of such look-ups the socket is looked at for the node's end: a processor whose misses are all
    /// one-sided sends nothing that would notice it.
    /// </summary>
    public unsafe byte* Granted(int asid, ulong lineAddr, out Protection prot)
    {
        prot = Protection.None;
        ulong page = lineAddr >> PageMath.PageShift;
        if (_grants == null || _grants.Count == 0 || !_grants.TryGet(asid, page, out int slot, out var granted)) return null;
        byte* frame = _frames!.Frame(slot);
        if (frame == null)
        {
            // A slot the node's file does not hold: a confused node; the line goes by message.
            _grants.Remove(asid, page);
            return null;
        }
        // The clock is read every 64 look-ups (a microsecond or so of misses each), the socket once a millisecond.
        if ((++_oneSidedOps & 63) == 0)
        {
            long now = Stopwatch.GetTimestamp();
            if (now - _livenessAt >= LivenessTicks)
            {
                _livenessAt = now;
                ThrowIfBroken();
                if (_ring!.PeerGone()) throw Broken(new MemoryNodeFailure($"memory node {Endpoint} (node {Index}) closed the connection"));
                ProbeIfSilent(now);
            }
        }
        prot = granted;
        return frame + (lineAddr & PageMath.PageMask);
    }

    static readonly long LivenessTicks = Stopwatch.Frequency / 1000;
    uint _oneSidedOps;

    /// <summary>Replies read on this link so far, and their count when <see cref="_heardAt"/> was last moved.</summary>
    uint _replies, _repliesHeard;
    /// <summary>When this link last had a sign of life from its node: a reply, or a probe it answered.</summary>
    long _heardAt = Stopwatch.GetTimestamp();

    /// <summary>
    /// A node that freezes (SIGSTOP, a hung host) keeps its socket open, and a processor whose misses are all one-sided
    /// sends it nothing that would go unanswered. So once this link has heard nothing for half the timeout while it
    /// works one-sidedly, a probe on a connection of its own (a handshake and a counters request, once per half timeout
    /// at most) must be answered within the other half, or the node is declared failed as a silent reply would.
    /// </summary>
    void ProbeIfSilent(long now)
    {
        if (_replies != _repliesHeard)
        {
            _repliesHeard = _replies;
            _heardAt = now;
            return;
        }
        var half = NodeTimeout.Value / 2;
        if (now - _heardAt < (long)(half.TotalSeconds * Stopwatch.Frequency)) return;
        if (!Answers((int)Math.Max(1, half.TotalMilliseconds))) throw Broken(Silent());
        _heardAt = Stopwatch.GetTimestamp();
    }

    /// <summary>Starts loading where <see cref="Granted"/> would look the line up (see <see cref="MemoryCluster.AnticipateMiss"/>).</summary>
    public void PrefetchGrant(int asid, ulong lineAddr)
    {
        if (_grants != null && _grants.Count != 0) _grants.Prefetch(asid, lineAddr >> PageMath.PageShift);
    }

    /// <summary>True when <see cref="Granted"/> would find the line.</summary>
    public unsafe bool HoldsGrant(int asid, ulong lineAddr) => Granted(asid, lineAddr, out _) != null;

    /// <summary>Grants this link holds now (for tests and --stats).</summary>
    public int Grants => _grants?.Count ?? 0;

    /// <summary>Receives the replies of requests sent with <see cref="QueueAsync"/> (set by the owner of this link).</summary>
    public IAsyncReplies? Async { get; set; }

    /// <summary>Requests in flight whose replies go to <see cref="Async"/>.</summary>
    public int AsyncInFlight => _asyncInFlight;

    /// <summary>Ends the request begun last and adds it to the batch; its reply is read by <see cref="Receive"/>.</summary>
    public void Queue() => Enqueue(AsyncReply.None, 0, 0, 0);

    /// <summary>Ends the request begun last and adds it to the batch; its reply goes to <see cref="Async"/> with <paramref name="token"/>.</summary>
    public void QueueAsync(AsyncReply kind, int token) => QueueAsync(kind, token, 0, 0);

    /// <summary>As <see cref="QueueAsync(AsyncReply, int)"/> for a fill of <paramref name="line"/>, whose reply may grant its frame.</summary>
    public void QueueAsync(AsyncReply kind, int token, int asid, ulong line)
    {
        if (Async == null) throw new InvalidOperationException("asynchronous requests need a reply handler");
        Enqueue(kind, token, asid, line);
        _asyncInFlight++;
        Stats.Requests++;
    }

    void Enqueue(AsyncReply kind, int token, int asid, ulong line)
    {
        var frame = _w.Finish();
        if (_grants != null) RevokeFor(frame);
        // A batch sent while this request was being written (none is today) left it behind the batch's new end.
        if (_w.Start != _outLength)
        {
            if (_w.Start < _outLength) throw new InvalidOperationException("a request begun inside the batch");
            frame.CopyTo(_w.Buffer.AsSpan(_outLength));
            frame = _w.Batch(_outLength + frame.Length)[_outLength..];
        }
        _outLength += frame.Length;
        if (_inFlightCount == _inFlight.Length)
        {
            var grown = new (uint, AsyncReply, int, int, ulong)[_inFlight.Length * 2];
            for (int i = 0; i < _inFlightCount; i++) grown[i] = _inFlight[(_inFlightHead + i) % _inFlight.Length];
            _inFlight = grown;
            _inFlightHead = 0;
        }
        _inFlight[(_inFlightHead + _inFlightCount++) % _inFlight.Length] = (BinaryPrimitives.ReadUInt32LittleEndian(frame[5..]), kind, token, asid, line);
        if (_outLength >= BatchBytes) Flush();
    }

    /// <summary>A batch this large leaves at once (16 lines of 4 KiB): queued write-backs must not wait long, nor grow the buffer.</summary>
    const int BatchBytes = 64 * 1024;

    /// <summary>
    /// The failure that broke this link, if one did. Requests and replies may be half sent or half read then,
    /// so every later use fails the same way rather than reading a stream out of step.
    /// </summary>
    MemoryNodeFailure? _broken;

    void ThrowIfBroken()
    {
        if (_broken != null) throw new MemoryNodeFailure(_broken.Message, _broken);
    }

    MemoryNodeFailure Broken(MemoryNodeFailure f)
    {
        _broken ??= f;
        return f;
    }

    /// <summary>True once a failure broke this link: it is never used again.</summary>
    public bool IsBroken => _broken != null;

    /// <summary>The failure that broke this link, if one did.</summary>
    public MemoryNodeFailure? Failure => _broken;

    /// <summary>
    /// Breaks the link when its node's end of the connection is closed already (a node killed with another), without
    /// sending or waiting; true when it is broken now.
    /// </summary>
    public bool NoticeHangUp()
    {
        if (_broken == null && _ring != null && _ring.PeerHungUp())
            Broken(new MemoryNodeFailure($"memory node {Endpoint} (node {Index}) closed the connection"));
        return _broken != null;
    }

    /// <summary>Declares the link broken from outside (a heartbeat went unanswered); only where no reply is awaited.</summary>
    public void MarkBroken(MemoryNodeFailure reason) => _broken ??= reason;

    /// <summary>
    /// Gives the node up (it failed, and its data lives on elsewhere): the link is closed, and every asynchronous
    /// request still in flight is handed to <see cref="IAsyncReplies.Abandoned"/>, oldest first, so whoever
    /// waits for it can go on; requests whose callers read their replies themselves are dropped.
    /// </summary>
    public void Abandon(MemoryNodeFailure reason)
    {
        _broken ??= reason;
        _outLength = 0;
        // The ring holds the socket open under it: cutting it is what tells the node.
        _ring?.Cancel();
        try { _socket.Dispose(); } catch (ObjectDisposedException) { }
        Callback?.Dispose();
        while (_inFlightCount > 0)
        {
            var (_, kind, token, _, _) = _inFlight[_inFlightHead];
            _inFlightHead = (_inFlightHead + 1) % _inFlight.Length;
            _inFlightCount--;
            if (kind == AsyncReply.None) continue;
            _asyncInFlight--;
            Async!.Abandoned(this, kind, token);
        }
    }

    /// <summary>Sends every queued request in one system call.</summary>
    public void Flush()
    {
        if (_outLength == 0) return;
        ThrowIfBroken();
        try
        {
            _sentAt = Stopwatch.GetTimestamp();
            if (_ring != null) _ring.Send(_w.Batch(_outLength), NodeTimeout.Milliseconds);
            else if (_tls != null) _tls.Write(_w.Buffer, 0, _outLength);
            else
            {
                int sent = 0;
                while (sent < _outLength) sent += _socket.Send(_w.Buffer, sent, _outLength - sent, SocketFlags.None);
            }
            Stats.BytesSent += _outLength;
        }
        catch (Exception e) when (TimedOut(e))
        {
            throw Broken(Silent());
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            throw Broken(Failed(e));
        }
        finally
        {
            _outLength = 0;
        }
    }

    /// <summary>Sends the request begun last, with whatever was queued before it.</summary>
    public void Send()
    {
        Queue();
        Flush();
    }

    /// <summary>
    /// Reads the reply of the oldest request sent with <see cref="Send"/> or <see cref="Queue"/>; the replies of
    /// asynchronous requests sent before it are handed to <see cref="Async"/> on the way. The payload stays valid
    /// until the next call.
    /// </summary>
    public FrameReader Receive()
    {
        ThrowIfBroken();
        Flush();
        while (true)
        {
            if (_inFlightCount == 0) throw new InvalidOperationException("no request waits for a reply");
            var (id, kind, token, _, _) = _inFlight[_inFlightHead];
            var payload = NextReply(id);
            if (kind == AsyncReply.None)
            {
                Stats.Record(Stopwatch.GetTimestamp() - _sentAt);
                return new FrameReader(payload);
            }
            var r = new FrameReader(payload);
            Async!.Arrived(this, kind, token, ref r);
        }
    }

    /// <summary>Reads the reply of the oldest request in flight, which must be asynchronous, and hands it to <see cref="Async"/>.</summary>
    public void ReceiveAsyncOne()
    {
        ThrowIfBroken();
        Flush();
        if (_inFlightCount == 0 || _inFlight[_inFlightHead].Kind == AsyncReply.None) throw new InvalidOperationException("no asynchronous request in flight");
        var (id, kind, token, _, _) = _inFlight[_inFlightHead];
        var r = new FrameReader(NextReply(id));
        Async!.Arrived(this, kind, token, ref r);
    }

    /// <summary>Reads every asynchronous reply still in flight (none of this link's requests may wait for <see cref="Receive"/>).</summary>
    public void DrainAsync()
    {
        while (_asyncInFlight > 0) ReceiveAsyncOne();
    }

    /// <summary>Takes the next reply off the connection; it must answer request <paramref name="id"/>.</summary>
    ReadOnlySpan<byte> NextReply(uint id)
    {
        ReadOnlySpan<byte> body;
        try
        {
            body = NextFrame();
        }
        catch (Exception e) when (TimedOut(e))
        {
            throw Broken(Silent());
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            throw Broken(Failed(e));
        }
        catch (MemoryNodeFailure e)
        {
            throw Broken(e);
        }
        if ((body[0] & Protocol.ReplyBit) == 0) throw Broken(new MemoryNodeFailure($"memory node {Endpoint} sent a request instead of a reply"));
        if (BinaryPrimitives.ReadUInt32LittleEndian(body[1..]) != id)
            throw Broken(new MemoryNodeFailure($"memory node {Endpoint} answered out of order"));
        var (_, kind, _, replyAsid, replyLine) = _inFlight[_inFlightHead];
        _replies++;
        _replyId = id;
        _replyAsid = replyAsid;
        _replyLine = replyLine;
        _inFlightHead = (_inFlightHead + 1) % _inFlight.Length;
        _inFlightCount--;
        if (kind != AsyncReply.None) _asyncInFlight--;
        return body[5..];
    }

    /// <summary>One whole frame (op, id, payload) from the read-ahead buffer, receiving more when it holds less.</summary>
    ReadOnlySpan<byte> NextFrame()
    {
        while (true)
        {
            // A coherent cache may give the node up while it waits (see CoherenceChannels.WaitFor): a reply read ahead
            // from it must not be taken either.
            if (Channels != null && _broken != null) throw _broken;
            int have = _inEnd - _inStart;
            uint len = 0;
            if (have >= 4)
            {
                len = BinaryPrimitives.ReadUInt32LittleEndian(_in.AsSpan(_inStart));
                if (len < 5 || len > Protocol.MaxFrame) throw new MemoryNodeFailure($"memory node {Endpoint} sent a frame of {len} bytes");
                if (have >= 4 + len)
                {
                    var frame = _in.AsSpan(_inStart + 4, (int)len);
                    _inStart += 4 + (int)len;
                    Stats.BytesReceived += len + 4;
                    return frame;
                }
            }
            // Make room: move the partial frame to the front, and grow for a frame larger than the buffer.
            if (_inStart > 0)
            {
                _in.AsSpan(_inStart, have).CopyTo(_in);
                _inStart = 0;
                _inEnd = have;
            }
            if (4 + (int)len > _in.Length) Array.Resize(ref _in, 4 + (int)len);
            if (_ring != null)
            {
                int got = ReceiveFromRing();
                if (got == 0) throw new MemoryNodeFailure($"memory node {Endpoint} (node {Index}) closed the connection");
                _inEnd += got;
                continue;
            }
            // A TLS read is given room for a whole record, so the stream keeps nothing back that a poll of the socket would miss.
            if (_tls != null && _in.Length - _inEnd < TlsRecordStream.MaxPlaintext) Array.Resize(ref _in, _inEnd + TlsRecordStream.MaxPlaintext);
            // A coherent component must answer invalidations while it waits: the node may need them to serve this very request.
            // A node found failed meanwhile (its regions' new primary said so) is not waited for any longer.
            if (Channels != null && _socket.Available == 0 && !WaitCoherent()) throw _broken ?? Silent();
            int r = _tls != null ? _tls.Read(_in, _inEnd, _in.Length - _inEnd) : _socket.Receive(_in, _inEnd, _in.Length - _inEnd, SocketFlags.None);
            if (r == 0) throw new MemoryNodeFailure($"memory node {Endpoint} (node {Index}) closed the connection");
            _inEnd += r;
        }
    }

    /// <summary>
    /// Reads what the node wrote to the ring, waiting for it: spinning first, then sleeping on the socket. A coherent
    /// component sleeps in its wait over the callback channels too (<see cref="WaitCoherent"/>), which the node's
    /// doorbell on the main socket ends as a reply on it would. 0: the node closed the connection.
    /// </summary>
    int ReceiveFromRing()
    {
        var room = _in.AsSpan(_inEnd);
        if (Channels == null) return _ring!.Receive(room, NodeTimeout.Milliseconds);
        while (true)
        {
            int n = _ring!.TryReceive(room);
            if (n > 0) return n;
            if (_ring.Cancelled) return 0;
            if (_ring.SpinForData() || !_ring.PrepareToSleep()) continue;
            if (!WaitCoherent()) throw _broken ?? Silent();
            // Closed: whatever it wrote before it went is still read, then the end.
            if (!_ring.TakeDoorbells()) return _ring.TryReceive(room);
        }
    }

    /// <summary>
    /// A coherent request may wait for other components to give a line up, and one of them may itself wait for a
    /// frozen node: so after half the timeout a probe on a connection of its own tells a frozen node (no answer
    /// within the other half either: failed) from a busy one (waited for again).
    /// </summary>
    bool WaitCoherent()
    {
        var half = NodeTimeout.Value / 2;
        while (true)
        {
            if (Channels!.WaitFor(_socket, half, this)) return true;
            if (IsBroken || Channels.GiveUp?.Invoke() == true || !Answers((int)Math.Max(1, half.TotalMilliseconds))) return false;
        }
    }

    /// <summary>True when the node answers a new connection's handshake and a counters request within <paramref name="timeoutMs"/>.</summary>
    bool Answers(int timeoutMs)
    {
        try
        {
            using var probe = new MemoryNodeClient(Endpoint, Index, timeoutMs, ring: false);
            return true;
        }
        catch (MemoryNodeFailure)
        {
            return false;
        }
    }

    MemoryNodeFailure Silent() =>
        new($"memory node {Endpoint} (node {Index}) did not answer within {NodeTimeout.Text} s (--node-timeout)");

    public FrameReader Call()
    {
        Send();
        return Receive();
    }

    /// <summary>A receive or send that ran out of time, on a socket or through the TLS stream over it.</summary>
    static bool TimedOut(Exception e) =>
        (e as SocketException ?? e.InnerException as SocketException) is { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock };

    static void WriteAll(Socket s, Stream? tls, ReadOnlySpan<byte> data)
    {
        if (tls != null) tls.Write(data);
        else s.Send(data);
    }

    void ReadExact(Socket s, Stream? tls, byte[] buf, int n)
    {
        int got = 0;
        while (got < n)
        {
            int r = tls != null ? tls.Read(buf, got, n - got) : s.Receive(buf, got, n - got, SocketFlags.None);
            if (r == 0) throw new MemoryNodeFailure($"memory node {Endpoint} (node {Index}) closed the connection");
            got += r;
        }
    }

    MemoryNodeFailure Failed(Exception e) =>
        new($"memory node {Endpoint} (node {Index}) failed: {(e is SocketException se ? se.SocketErrorCode.ToString() : e.Message)}", e);

    // ---- typed calls ----

    public void ReadStats(ref FrameReader r)
    {
        CapacityFrames = r.I64();
        UsedFrames = r.I64();
        NodeFills = r.I64();
        r.I64(); // zero fills
        NodeWriteBacks = r.I64();
        r.I64(); // bytes out
        r.I64(); // bytes in
    }

    public void RefreshStats()
    {
        Begin(Op.Stats);
        var r = Call();
        ReadStats(ref r);
    }

    /// <summary>Free frames the node can still allocate (long.MaxValue when unbounded).</summary>
    public long FreeFrames => CapacityFrames < 0 ? long.MaxValue : Math.Max(0, CapacityFrames - UsedFrames);

    /// <summary>Makes address space <paramref name="asid"/>, held by this connection; <paramref name="key"/> lets others claim it.</summary>
    public int CreateSpace(int asid, ulong key)
    {
        var w = Begin(Op.CreateSpace);
        w.I32(asid);
        w.U64(key);
        return Call().I32();
    }

    /// <summary>Takes hold of a space another connection made; 0, or -ENOENT when it is not there or the key is wrong.</summary>
    public int ClaimSpace(int asid, ulong key)
    {
        var w = Begin(Op.ClaimSpace);
        w.I32(asid);
        w.U64(key);
        return Call().I32();
    }

    // ---- coherent caching ----

    /// <summary>Set when this component's cache is coherent: waits then also serve the nodes' invalidations.</summary>
    internal CoherenceChannels? Channels { get; set; }

    /// <summary>The node's invalidations and downgrades arrive here (coherent caching only).</summary>
    public Socket? Callback { get; private set; }

    /// <summary>Write-backs sent on the main connection; an invalidation answer names it so the node orders the two.</summary>
    public long WriteBacksSent;

    /// <summary>Coherent fill replies read so far (see the node's grant count on invalidations).</summary>
    public long GrantsReceived;

    /// <summary>Attaches both connections as component <paramref name="componentId"/> and opens the callback channel; returns the node's slot for it.</summary>
    public int AttachComponent(ulong componentId)
    {
        var w = Begin(Op.Attach);
        w.U64(componentId);
        w.U8(0);
        int slot = Call().I32();
        // The node counts write-backs and grants from the attach on; those before it (a process that joins
        // the directory late, at its first fork) were answered already and must not be waited for.
        WriteBacksSent = 0;
        GrantsReceived = 0;
        var cb = Endpoint.NewSocket();
        cb.ReceiveTimeout = NodeTimeout.Milliseconds;
        cb.SendTimeout = NodeTimeout.Milliseconds;
        SslStream? cbTls = null;
        try
        {
            cb.Connect(Endpoint.Address);
            // Over TLS the channel is read one record at a time too: the watcher and the waits poll its socket.
            if (_tls != null) cbTls = ClusterTls.Connect(cb, recordBounded: true);
            Greet(cb, cbTls);
            var fw = new FrameWriter(64);
            fw.Begin((byte)Op.Attach, 1);
            fw.U64(componentId);
            fw.U8(1);
            WriteAll(cb, cbTls, fw.Finish());
            ReadFrame(cb, cbTls);
        }
        catch (Exception e) when (e is SocketException or IOException or System.Security.Authentication.AuthenticationException)
        {
            cbTls?.Dispose();
            cb.Dispose();
            throw new MemoryNodeFailure($"cannot open the callback channel to memory node {Endpoint}: {(e as SocketException)?.SocketErrorCode.ToString() ?? e.Message}", e);
        }
        catch (MemoryNodeFailure)
        {
            cbTls?.Dispose();
            cb.Dispose();
            throw;
        }
        Callback = cb;
        CallbackTls = cbTls;
        return slot;
    }

    /// <summary>The TLS stream over <see cref="Callback"/> when the link is encrypted; null on a plain link.</summary>
    internal SslStream? CallbackTls { get; private set; }

    /// <summary>Sends one frame on the callback channel (an invalidation's answer).</summary>
    internal void SendOnCallback(ReadOnlySpan<byte> frame) => WriteAll(Callback!, CallbackTls, frame);

    /// <summary>Closes the callback channel; replies are read plainly again.</summary>
    internal void DetachCallback()
    {
        Channels = null;
        var tls = CallbackTls;
        var cb = Callback;
        CallbackTls = null;
        Callback = null;
        if (cb == null) return;
        // Closing a socket the channels' watcher is polling waits until that thread lets go of it (4 to 5 ms, in an
        // execve that leaves the line directory): it is closed on a thread of its own instead (the thread pool's first
        // use costs as much). The node forgets this cache as a sharer when it sees the close, as before, and nothing
        // here reads the channel any more.
        new Thread(() =>
        {
            tls?.Dispose();
            cb.Dispose();
        }) { IsBackground = true, Name = "callback close" }.Start();
    }

    /// <summary>Reads one whole frame from <paramref name="s"/>; returns the body (op, id, payload).</summary>
    internal byte[] ReadFrame(Socket s, Stream? tls = null)
    {
        var header = new byte[4];
        ReadExact(s, tls, header, 4);
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (len < 5 || len > Protocol.MaxFrame) throw new MemoryNodeFailure($"memory node {Endpoint} sent a frame of {len} bytes");
        var body = new byte[len];
        ReadExact(s, tls, body, (int)len);
        return body;
    }

    /// <summary>
    /// Cuts the link from any thread: a request waiting on it, or the next one, fails as if the node had closed the
    /// connection (for a node the cluster's membership says is gone, which may be frozen rather than dead).
    /// </summary>
    public void Sever()
    {
        _ring?.Cancel();
        try { _socket.Shutdown(SocketShutdown.Both); }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    public void Dispose()
    {
        _tls?.Dispose();
        _ring?.Dispose();
        _frames?.Dispose();
        _socket.Dispose();
        CallbackTls?.Dispose();
        Callback?.Dispose();
    }
}

/// <summary>What an asynchronous request was, so its reply can be taken apart.</summary>
public enum AsyncReply : byte
{
    /// <summary>A request whose reply the caller reads itself (<see cref="MemoryNodeClient.Receive"/>).</summary>
    None,
    /// <summary>A fill issued ahead of the guest (prefetch).</summary>
    Fill,
    /// <summary>A write-back whose acknowledgement nobody waits for.</summary>
    WriteBack,
}

/// <summary>Takes the replies of asynchronous requests as they are read off a node's connection.</summary>
public interface IAsyncReplies
{
    /// <summary>The reply to an asynchronous request of <paramref name="node"/>; <paramref name="payload"/> is valid during the call only.</summary>
    void Arrived(MemoryNodeClient node, AsyncReply kind, int token, ref FrameReader payload);

    /// <summary>An asynchronous request of <paramref name="node"/> that will never be answered: the node failed.</summary>
    void Abandoned(MemoryNodeClient node, AsyncReply kind, int token);
}
