using System.Net.Sockets;
using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// The node's line directory: single-writer/multiple-reader (MSI) coherence between the ExCaches of the
/// processor components that share an address space. A component attaches two connections: its main
/// one for requests and a callback one on which the node pushes invalidations and downgrades. A fill
/// that conflicts with other holders is parked until every holder has answered, so the node never
/// blocks a connection thread and a component can answer invalidations while it waits for its own fill.
/// All of it runs under the store's lock.
/// </summary>
public sealed partial class MemoryNodeServer
{
    /// <summary>One accepted connection; replies to parked requests and pushed invalidations are sent from other threads.</summary>
    sealed class Connection(Socket socket, int number)
    {
        public readonly Socket Socket = socket;
        public readonly int Number = number;
        /// <summary>The component slot this connection belongs to (-1: not attached, plain uncached use).</summary>
        public int Slot = -1;
        public bool IsCallback;
        /// <summary>The client maps the node's frame arena: its plain fill replies carry a grant field (see MemoryNodeServer.Grantable).</summary>
        public bool Grants;
        /// <summary>The client proved it holds the cluster key (or the node has none); until then only Authenticate is served.</summary>
        public bool Authenticated;
        public byte[]? ClientNonce, NodeNonce;
        /// <summary>The address spaces this connection holds and may touch (see MemoryNodeServer.Spaces.cs).</summary>
        public readonly HashSet<int> Spaces = new();
        readonly object _sendLock = new();
        /// <summary>The TLS channel of a TCP connection to a node with credentials; null: the socket's bytes are the frames.</summary>
        public Stream? Tls;

        /// <summary>An emulated slower link (<c>--link-latency</c>, <c>--link-bandwidth</c>); null: the real one.</summary>
        public EmulatedWire? Wire;

        /// <summary>Replies go over the emulated link when there is one: it sends them once their time has come.</summary>
        public void EmulateLink(LinkEmulation link) =>
            Wire = link.Open(SendNow, () =>
            {
                try { Socket.Shutdown(SocketShutdown.Both); }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            }, $"memnode link {Number}");

        /// <summary>The shared-memory ring this connection's frames move through once the client asked for it; null: the socket.</summary>
        public RingLink? Ring { get; private set; }

        public void Send(ReadOnlySpan<byte> frame)
        {
            lock (_sendLock)
            {
                if (Wire != null) Wire.Send(frame);
                else SendNow(frame);
            }
        }

        void SendNow(ReadOnlySpan<byte> frame)
        {
            if (Ring != null) Ring.Send(frame, -1);
            else if (Tls != null) Tls.Write(frame);
            else Socket.Send(frame);
        }

        public int Receive(byte[] buffer, int offset, int count) =>
            Ring != null ? Ring.Receive(buffer.AsSpan(offset, count), -1)
            : Tls != null ? Tls.Read(buffer, offset, count) : Socket.Receive(buffer, offset, count, SocketFlags.None);

        /// <summary>Replies go through <paramref name="ring"/> from now on (its answer went out on the socket).</summary>
        public void UseRing(RingLink ring)
        {
            lock (_sendLock) Ring = ring;
        }

        /// <summary>
        /// The connection ended: a reply another thread is still writing fails (its wait for room ends at once), then the
        /// ring is unmapped, under the send lock so no writer is left in it.
        /// </summary>
        public void CloseRing()
        {
            var ring = Ring;
            if (ring == null) return;
            ring.Cancel();
            lock (_sendLock)
            {
                Ring = null;
                ring.Dispose();
            }
        }
    }

    sealed class DirLine
    {
        public ulong Sharers;
        public int Owner = -1;
        public Pending? Busy;
        public Queue<FillRequest>? Waiting;
        /// <summary>
        /// For a line of a shared object: the address space and address each holder caches it under (processes
        /// map the same object at different places). Null for a private line, which every holder names alike.
        /// </summary>
        public Dictionary<int, (int Asid, ulong Addr)>? Alias;
    }

    sealed record FillRequest(Op Op, Connection Conn, uint Id, int Asid, ulong Addr, int Size, bool Exclusive, int WriteBackError);

    sealed class Pending(FillRequest request, DirLine line)
    {
        public readonly FillRequest Request = request;
        public readonly DirLine Line = line;
        public int Left;
    }

    sealed record Outstanding(Pending Pending, int Slot, InvalidateMode Mode, int Asid, ulong Addr);

    sealed record DeferredAck(uint Token, long WriteBacksSent, bool Kept, byte[] Data);

    const int MaxComponents = 64;
    /// <summary>Directory entries by <see cref="InProcessMemoryComponent.LineKey"/>: shared lines under their object's name.</summary>
    readonly Dictionary<(int, ulong), DirLine> _directory = new();
    readonly Dictionary<ulong, int> _componentSlots = new();
    readonly Connection?[] _callbacks = new Connection?[MaxComponents];
    /// <summary>
    /// Each slot's main connection. It outlives its component's stay in the directory (a process goes on after its
    /// execve), and what it sends after the leave must not be counted for the slot's next component.
    /// </summary>
    readonly Connection?[] _mains = new Connection?[MaxComponents];
    readonly long[] _writeBacksReceived = new long[MaxComponents];
    /// <summary>
    /// Coherent fills answered per component. An invalidation carries the count, so a component that
    /// has not yet read the grant it refers to (the two travel on different connections) applies it
    /// only after installing that line.
    /// </summary>
    readonly long[] _grantsSent = new long[MaxComponents];
    readonly List<DeferredAck>?[] _deferred = new List<DeferredAck>?[MaxComponents];
    readonly Dictionary<uint, Outstanding> _outstanding = new();
    uint _nextToken = 1;

    /// <summary>Coherence traffic this node caused: invalidations and downgrades pushed, fills that had to wait for them.</summary>
    public long InvalidationsSent, DowngradesSent, ParkedFills;

    bool DispatchCoherent(Connection conn, Op op, uint id, ref FrameReader r, FrameWriter w)
    {
        var st = _store;
        switch (op)
        {
            case Op.Attach:
            {
                ulong component = r.U64();
                byte role = r.U8();
                r.End();
                if (role > 1) throw new ProtocolException($"bad attach role {role}");
                if (conn.Slot >= 0 && (conn.IsCallback || role == 1 || _componentSlots.TryGetValue(component, out int same) && same == conn.Slot))
                    throw new ProtocolException("connection attached twice");
                // A main connection whose component left the directory (execve closed its callback channel) joins again as
                // a new component. Its new attach can come before this node has read the close of the old callback channel
                // (each connection has its own thread here). The old slot then stays the old component's until that close,
                // so answers still on their way in that channel are read, but this connection speaks for it no more.
                if (conn.Slot >= 0)
                {
                    if (_callbacks[conn.Slot] == null) Leave(conn.Slot);
                    else if (_mains[conn.Slot] == conn) _mains[conn.Slot] = null;
                }
                if (!_componentSlots.TryGetValue(component, out int slot))
                {
                    slot = 0;
                    while (slot < MaxComponents && (_componentSlots.ContainsValue(slot) || _callbacks[slot] != null)) slot++;
                    if (slot == MaxComponents) throw new ProtocolException($"more than {MaxComponents} processor components attached");
                    _componentSlots[component] = slot;
                    _writeBacksReceived[slot] = 0;
                    _grantsSent[slot] = 0;
                }
                conn.Slot = slot;
                conn.IsCallback = role == 1;
                if (conn.IsCallback) _callbacks[slot] = conn;
                else _mains[slot] = conn;
                w.I32(slot);
                return true;
            }
            case Op.CoherentFill:
            {
                int asid = r.I32();
                ulong addr = r.U64();
                int size = CheckLine(addr, r.U32());
                bool exclusive = r.U8() != 0;
                r.End();
                CheckAsid(conn, asid);
                RequireMain(conn);
                Submit(new FillRequest(op, conn, id, asid, addr, size, exclusive, 0));
                return false;
            }
            case Op.CoherentWriteBackFill:
            {
                int asid = r.I32();
                ulong victim = r.U64();
                var data = r.Bytes((int)PageMath.PageSize);
                ulong addr = r.U64();
                int size = CheckLine(addr, r.U32());
                bool exclusive = r.U8() != 0;
                r.End();
                CheckLine(victim, (uint)data.Length);
                CheckAsid(conn, asid);
                RequireMain(conn);
                int err = OverQuota(conn, asid, victim) ? -Errno.ENOMEM : TryWriteBack(st, asid, victim, data);
                WroteBack(conn.Slot, asid, victim);
                Submit(new FillRequest(op, conn, id, asid, addr, size, exclusive, err));
                return false;
            }
            case Op.InvalidateAck:
            {
                long sent = r.I64();
                bool kept = r.U8() != 0;
                var data = r.Bytes((int)PageMath.PageSize).ToArray();
                r.End();
                if (!conn.IsCallback) throw new ProtocolException("invalidation answered on a main connection");
                if (_callbacks[conn.Slot] != conn) return false; // its component left: the node answered for it
                var ack = new DeferredAck(id, sent, kept, data);
                // The component wrote the line back before it answered, on its other connection: wait for that
                // write-back so the node never grants a line older than what the component last held.
                if (sent > _writeBacksReceived[conn.Slot]) (_deferred[conn.Slot] ??= new()).Add(ack);
                else Acknowledge(ack);
                return false;
            }
            case Op.Rebuild:
            {
                string failed = r.Str();
                r.End();
                RequireMain(conn);
                StartRebuild(failed);
                w.I32(0);
                return true;
            }
            case Op.RebuildLine:
            case Op.BackupLine:
            {
                int asid = r.I32();
                ulong addr = r.U64();
                var data = r.Bytes((int)PageMath.PageSize);
                r.End();
                CheckLine(addr, (uint)data.Length);
                if (!conn.IsCallback) throw new ProtocolException("a line's bytes on a main connection");
                if (_callbacks[conn.Slot] != conn || _mains[conn.Slot] is not { } main) return false; // its component left
                CheckAsid(main, asid);
                TryWriteBack(st, asid, addr, data);
                // A line handed back for a rebuild is cached there no more.
                if (op == Op.RebuildLine && _directory.TryGetValue(st.LineKey(asid, addr), out var line) && line.Busy == null) Forget(line, conn.Slot);
                return false;
            }
            case Op.RebuildDone:
            {
                r.End();
                if (!conn.IsCallback) throw new ProtocolException("a rebuild answered on a main connection");
                if (_callbacks[conn.Slot] == conn) RebuildAnswered(conn.Slot, id);
                return false;
            }
            default:
                throw new ProtocolException($"unknown op {(byte)op}");
        }
    }

    static void RequireMain(Connection conn)
    {
        if (conn.Slot < 0 || conn.IsCallback) throw new ProtocolException("coherent fill on a connection not attached as a component's main channel");
    }

    DirLine Line(int asid, ulong addr)
    {
        var key = _store.LineKey(asid, addr);
        if (!_directory.TryGetValue(key, out var line))
        {
            _directory[key] = line = new DirLine();
            if (key.Space < 0) line.Alias = new();
        }
        return line;
    }

    void Submit(FillRequest req)
    {
        // While the directory of a failed node's regions is rebuilt here, no fill may be granted: a component that has
        // not answered yet may hold the line, even modified.
        if (_rebuilds.Count > 0)
        {
            _heldFills.Add(req);
            return;
        }
        var line = Line(req.Asid, req.Addr);
        if (line.Busy != null)
        {
            if (Debug) _log.WriteLine($"  queued slot {req.Conn.Slot} id {req.Id} 0x{req.Addr:x}");
            (line.Waiting ??= new()).Enqueue(req);
            return;
        }
        Start(line, req);
    }

    void Start(DirLine line, FillRequest req)
    {
        ulong me = 1UL << req.Conn.Slot;
        ulong holders = req.Exclusive
            ? line.Sharers | (line.Owner >= 0 ? 1UL << line.Owner : 0)
            : line.Owner >= 0 ? 1UL << line.Owner : 0;
        holders &= ~me;
        // A component asking for a shared line under another name than the one it holds it by must drop the
        // other copy first, or it would hold two copies of one line (the same object mapped twice).
        ulong self = 0;
        if (line.Alias != null && line.Alias.TryGetValue(req.Conn.Slot, out var mine) && mine != (req.Asid, req.Addr)
            && ((line.Sharers & me) != 0 || line.Owner == req.Conn.Slot))
            self = me;
        var mode = req.Exclusive ? InvalidateMode.Invalidate : InvalidateMode.Downgrade;
        var pending = new Pending(req, line);
        for (ulong b = holders | self; b != 0; b &= b - 1)
        {
            int slot = System.Numerics.BitOperations.TrailingZeroCount(b);
            var (asid, addr) = line.Alias != null && line.Alias.TryGetValue(slot, out var alias) ? alias : (req.Asid, req.Addr);
            var slotMode = slot == req.Conn.Slot ? InvalidateMode.Invalidate : mode;
            var cb = _callbacks[slot];
            if (cb == null)
            {
                Forget(line, slot); // the component is gone, and its cached copy with it
                continue;
            }
            uint token = _nextToken++;
            var w = new FrameWriter(64);
            w.Begin((byte)Op.Invalidate, token);
            w.I32(asid);
            w.U64(addr);
            w.U32((uint)req.Size);
            w.U8((byte)slotMode);
            w.I64(_grantsSent[slot]);
            try
            {
                cb.Send(w.Finish());
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                Forget(line, slot);
                continue;
            }
            _outstanding[token] = new Outstanding(pending, slot, slotMode, asid, addr);
            if (Debug) _log.WriteLine($"  invalidate token {token} slot {slot} 0x{addr:x} {slotMode} grants {_grantsSent[slot]} for slot {req.Conn.Slot} id {req.Id}");
            pending.Left++;
            if (slotMode == InvalidateMode.Invalidate) InvalidationsSent++;
            else DowngradesSent++;
        }
        if (pending.Left == 0) Grant(line, req);
        else
        {
            line.Busy = pending;
            ParkedFills++;
        }
    }

    static void Forget(DirLine line, int slot)
    {
        if (line.Owner == slot) line.Owner = -1;
        line.Sharers &= ~(1UL << slot);
        line.Alias?.Remove(slot);
    }

    void Grant(DirLine line, FillRequest req)
    {
        int slot = req.Conn.Slot;
        var w = new FrameWriter(req.Size + 64);
        w.Begin((byte)((byte)req.Op | Protocol.ReplyBit), req.Id);
        var status = WriteFill(_store, w, req.Asid, req.Addr, req.Size, req.WriteBackError);
        if (status != FillStatus.Unmapped)
        {
            if (req.Exclusive)
            {
                line.Sharers = 0;
                line.Owner = slot;
            }
            else
            {
                if (line.Owner == slot) line.Owner = -1;
                line.Sharers |= 1UL << slot;
            }
            if (line.Alias != null) line.Alias[slot] = (req.Asid, req.Addr);
        }
        _grantsSent[slot]++;
        if (Debug) _log.WriteLine($"  grant slot {slot} id {req.Id} 0x{req.Addr:x} excl {req.Exclusive} (grant #{_grantsSent[slot]})");
        try { req.Conn.Send(w.Finish()); }
        // A ring its client broke fails here as a reset socket does; that connection's own thread closes it.
        catch (Exception e) when (e is SocketException or ObjectDisposedException or RingCorruptException) { Forget(line, slot); }
    }

    void Acknowledge(DeferredAck ack)
    {
        if (!_outstanding.Remove(ack.Token, out var o)) return; // answered already (its component disconnected)
        var p = o.Pending;
        // The holder's bytes go back under the name it held the line by (the same frame as the request's). A holder
        // leaving the directory answers on its callback channel and then closes its main connection, which each have
        // their own thread here: its space may be gone already. A shared object's line is then written back under the
        // requester's name, which is the same frame; a private line of a destroyed space has nowhere to go.
        if (ack.Data.Length > 0)
        {
            if (_store.HasAddressSpace(o.Asid)) TryWriteBack(_store, o.Asid, o.Addr, ack.Data);
            else if (p.Line.Alias != null && _store.HasAddressSpace(p.Request.Asid)) TryWriteBack(_store, p.Request.Asid, p.Request.Addr, ack.Data);
        }
        if (o.Mode == InvalidateMode.Downgrade && ack.Kept)
        {
            if (p.Line.Owner == o.Slot) p.Line.Owner = -1;
            p.Line.Sharers |= 1UL << o.Slot;
        }
        else Forget(p.Line, o.Slot);
        if (--p.Left > 0) return;
        var line = p.Line;
        line.Busy = null;
        Grant(line, p.Request);
        while (line.Busy == null && line.Waiting is { Count: > 0 } q) Start(line, q.Dequeue());
    }

    /// <summary>A write-back from a component's main channel: the line is no longer cached there.</summary>
    void WroteBack(int slot, int asid, ulong addr)
    {
        _writeBacksReceived[slot]++;
        var key = _store.LineKey(asid, addr);
        if (_directory.TryGetValue(key, out var line)
            && (line.Alias == null || !line.Alias.TryGetValue(slot, out var held) || held == (asid, addr)))
        {
            Forget(line, slot);
            // Cached nowhere and nothing waiting: the entry goes, so the directory follows what is cached, not what ever was.
            if (line.Sharers == 0 && line.Owner < 0 && line.Busy == null && line.Waiting is not { Count: > 0 }) _directory.Remove(key);
        }
        if (_deferred[slot] is not { Count: > 0 } list) return;
        long received = _writeBacksReceived[slot];
        var ready = list.FindAll(a => a.WriteBacksSent <= received);
        list.RemoveAll(a => a.WriteBacksSent <= received);
        foreach (var a in ready) Acknowledge(a);
    }

    /// <summary>The address space is gone: so are its directory entries (none can be busy, its components have left).</summary>
    void ForgetSpace(int asid)
    {
        var dead = new List<(int, ulong)>();
        foreach (var (key, line) in _directory)
            if (key.Item1 == asid && line.Busy == null) dead.Add(key);
        foreach (var key in dead) _directory.Remove(key);
    }

    /// <summary>A connection closed: a component's callback channel means the component left the directory.</summary>
    void Disconnected(Connection conn)
    {
        if (conn.Slot < 0) return;
        if (conn.IsCallback)
        {
            if (_callbacks[conn.Slot] == conn) Leave(conn.Slot);
        }
        else if (_mains[conn.Slot] == conn) _mains[conn.Slot] = null;
    }

    /// <summary>
    /// The component in <paramref name="slot"/> left: its invalidations will never be answered, so they are answered for
    /// it, and its main connection no longer speaks for the slot. Write-backs it sends from now on (a process after its
    /// execve) were counted against whichever component got the slot next, which then had an invalidation answer
    /// taken for complete before the write-back it named had arrived, and the line was granted without it.
    /// </summary>
    void Leave(int slot)
    {
        _callbacks[slot] = null;
        if (_mains[slot] is { } main && main.Slot == slot) main.Slot = -1;
        _mains[slot] = null;
        foreach (var key in _componentSlots.Where(kv => kv.Value == slot).Select(kv => kv.Key).ToList()) _componentSlots.Remove(key);
        _deferred[slot] = null;
        foreach (var (token, o) in _outstanding.Where(kv => kv.Value.Slot == slot).ToList())
            Acknowledge(new DeferredAck(token, 0, false, []));
        foreach (uint token in _rebuilds.Keys.ToList()) RebuildAnswered(slot, token);
    }

    // ---- rebuilding the directory of regions taken over from a failed node (replication) ----

    /// <summary>Rebuilds under way: the components that have not answered yet, by the token their request carried.</summary>
    readonly Dictionary<uint, ulong> _rebuilds = new();
    /// <summary>Failed nodes whose regions' lines every attached component has been asked for already.</summary>
    readonly HashSet<string> _rebuilt = new();
    /// <summary>Coherent fills that arrived during a rebuild, served in order once it ends.</summary>
    readonly List<FillRequest> _heldFills = new();

    /// <summary>Directories rebuilt here (nodes failed over to this one), for the node's log and tests.</summary>
    public long Rebuilds;

    /// <summary>
    /// A component failed <paramref name="failed"/> over, and this node is the new primary of regions whose directory
    /// died with it. Rather than copying directories ahead of a failure (a message per grant on the fill path), this
    /// node asks every attached component to hand back the lines of those regions it holds, the dirty ones with their
    /// bytes, and grants nothing until all have answered: then no copy is cached anywhere, and an empty directory is exact.
    /// Each component knows which regions were the failed node's from its own placement table.
    /// </summary>
    void StartRebuild(string failed)
    {
        if (!_rebuilt.Add(failed)) return; // asked already: every component then attached has answered or will
        uint token = _nextToken++;
        ulong waiting = 0;
        var w = new FrameWriter(failed.Length * 3 + 64);
        for (int slot = 0; slot < MaxComponents; slot++)
        {
            if (_callbacks[slot] is not { } cb) continue;
            w.Begin((byte)Op.RebuildRequest, token);
            w.Str(failed);
            try { cb.Send(w.Finish()); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { continue; }
            waiting |= 1UL << slot;
        }
        Rebuilds++;
        if (waiting != 0) _rebuilds[token] = waiting;
    }

    void RebuildAnswered(int slot, uint token)
    {
        if (!_rebuilds.TryGetValue(token, out ulong waiting)) return;
        waiting &= ~(1UL << slot);
        if (waiting != 0)
        {
            _rebuilds[token] = waiting;
            return;
        }
        _rebuilds.Remove(token);
        if (_rebuilds.Count > 0) return;
        var held = _heldFills.ToArray();
        _heldFills.Clear();
        foreach (var req in held) Submit(req);
    }
}
