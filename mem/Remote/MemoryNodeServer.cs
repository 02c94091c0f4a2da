using System.Buffers.Binary;
using System.Net.Sockets;
using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// A memory-node process's server: serves one <see cref="InProcessMemoryComponent"/> to any number of
/// processor components. One thread per connection with blocking I/O keeps a miss to two system calls
/// on each side. A malformed frame closes only the connection that sent it.
/// </summary>
public sealed partial class MemoryNodeServer : IDisposable
{
    readonly InProcessMemoryComponent _store;
    readonly object _lock;
    readonly Socket _listener;
    readonly TextWriter _log;
    /// <summary>The cluster key every client must prove it holds (null: none; same-user Unix sockets and loopback only).</summary>
    readonly byte[]? _key = Credentials.Key;
    readonly uint _uid = Credentials.EffectiveUid;
    /// <summary>TCP connections are encrypted when the node has a cluster key (see <see cref="ClusterTls"/>).</summary>
    readonly bool _tls;
    static readonly TimeSpan TlsHandshakeTimeout = TimeSpan.FromSeconds(10);
    readonly List<Connection> _clients = new();
    int _connections;
    static readonly bool Debug = Environment.GetEnvironmentVariable("LEGOEMU_MEMNODE_DEBUG") == "1";
    volatile bool _stopping;

    public MemoryNodeServer(Endpoint endpoint, long capacityBytes, TextWriter log)
        : this(endpoint, new InProcessMemoryComponent(capacityBytes, arena: endpoint.IsUnix && RingTransport.Enabled && RingTransport.OneSided), log)
    {
    }

    /// <summary>Serves an existing store; every call takes the store's own lock, so its owner can keep using it.</summary>
    public MemoryNodeServer(Endpoint endpoint, InProcessMemoryComponent store, TextWriter log)
    {
        _store = store;
        _lock = store;
        _log = log;
        Endpoint = endpoint;
        _listener = endpoint.NewSocket();
        try
        {
            // A stale socket file from a killed node would make bind fail; anything else at the path is not ours.
            if (endpoint.IsUnix) UnixSocketFile.PrepareForBind(endpoint.Text[5..]);
            _listener.Bind(endpoint.Address);
            // Connecting to a Unix socket needs write permission on its file: the owner's only.
            if (endpoint.IsUnix && OperatingSystem.IsLinux()) File.SetUnixFileMode(endpoint.Text[5..], UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        _tls = ClusterTls.Applies(endpoint);
        if (_tls)
        {
            try { ClusterTls.CheckServerFiles(); }
            catch
            {
                _listener.Dispose();
                throw;
            }
        }
        _listener.Listen(64);
        BoundAddress = _listener.LocalEndPoint!.ToString()!;
    }

    public Endpoint Endpoint { get; }
    public string BoundAddress { get; }
    public ComponentStats Stats => _store.Stats;

    /// <summary>A slower link than the real one for every connection (see <see cref="LinkEmulation"/>); null: none.</summary>
    public LinkEmulation? Link { get; init; }

    /// <summary>Connections being served now: the node's load, as the cluster's membership reports it.</summary>
    public int OpenConnections { get { lock (_clients) return _clients.Count; } }

    /// <summary>Accepts connections until <see cref="Dispose"/>.</summary>
    public void Serve()
    {
        while (!_stopping)
        {
            Socket s;
            try { s = _listener.Accept(); }
            catch (SocketException) when (_stopping) { return; }
            catch (ObjectDisposedException) { return; }
            if (s.ProtocolType == ProtocolType.Tcp) s.NoDelay = true;
            int n = Interlocked.Increment(ref _connections);
            if (!Admit(s, n)) continue;
            var conn = new Connection(s, n);
            if (Link is { Slows: true }) conn.EmulateLink(Link);
            lock (_clients) _clients.Add(conn);
            var t = new Thread(() => Handle(conn)) { IsBackground = true, Name = $"memnode-conn-{n}" };
            t.Start();
        }
    }

    /// <summary>Most connections served at once: each costs a thread and a frame buffer.</summary>
    public const int MaxConnections = 1024;

    /// <summary>Refuses, before reading a byte, a Unix-socket peer of another user and a connection beyond the limit.</summary>
    bool Admit(Socket s, int n)
    {
        string? refusal = null;
        try
        {
            if (Handshake.PeerUid(s) is uint uid && uid != _uid) refusal = $"peer uid {uid} is not this node's ({_uid})";
        }
        catch (SocketException e) { refusal = $"cannot read the peer's credentials: {e.SocketErrorCode}"; }
        lock (_clients) if (refusal == null && _clients.Count >= MaxConnections) refusal = $"more than {MaxConnections} connections";
        if (refusal == null) return true;
        _log.WriteLine($"memnode {Endpoint}: refusing connection {n}: {refusal}");
        s.Dispose();
        return false;
    }

    void Handle(Connection conn)
    {
        var s = conn.Socket;
        int n = conn.Number;
        var writer = new FrameWriter();
        // Requests read ahead: one receive takes whatever the client sent, often a batch of them.
        var input = new byte[Protocol.MaxFrame + 65536];
        int start = 0, end = 0;
        // Replies of a batch go out together once no whole request is left to read (one send for the batch).
        var output = new byte[65536];
        int outLength = 0;
        bool greeted = false;
        if (_tls)
        {
            // The handshake is bounded like a request: a peer that connects and says nothing costs a thread only that long.
            s.ReceiveTimeout = s.SendTimeout = (int)TlsHandshakeTimeout.TotalMilliseconds;
            try { conn.Tls = ClusterTls.Accept(s); }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or SocketException or ObjectDisposedException)
            {
                _log.WriteLine($"memnode {Endpoint}: closing connection {n}: TLS handshake failed: {(e.InnerException ?? e).Message.Split('\n')[0]}");
                lock (_clients) _clients.Remove(conn);
                s.Dispose();
                return;
            }
            s.ReceiveTimeout = s.SendTimeout = 0;
        }
        void FlushReplies()
        {
            if (outLength == 0) return;
            conn.Send(output.AsSpan(0, outLength));
            outLength = 0;
        }
        try
        {
            while (true)
            {
                // The next whole frame, receiving more (after sending the replies so far) when none is buffered.
                uint len;
                while (true)
                {
                    int have = end - start;
                    if (have >= 4)
                    {
                        len = BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(start));
                        if (len < 5 || len > Protocol.MaxFrame) throw new ProtocolException($"frame length {len} out of range");
                        if (have >= 4 + len) break;
                    }
                    FlushReplies();
                    if (start > 0)
                    {
                        input.AsSpan(start, have).CopyTo(input);
                        start = 0;
                        end = have;
                    }
                    int r = conn.Receive(input, end, input.Length - end);
                    if (r == 0)
                    {
                        if (have == 0) return; // orderly close between frames
                        throw new ProtocolException("connection closed in the middle of a frame");
                    }
                    end += r;
                }
                var body = input.AsSpan(start + 4, (int)len);
                start += 4 + (int)len;
                byte op = body[0];
                uint id = BinaryPrimitives.ReadUInt32LittleEndian(body[1..]);
                var reader = new FrameReader(body[5..]);
                if (!greeted && op != (byte)Op.Hello) throw new ProtocolException($"op {op} before the handshake");
                if (greeted && !conn.Authenticated && op != (byte)Op.Authenticate) throw new ProtocolException($"op {op} before authentication");
                if (greeted && op == (byte)Op.Hello) throw new ProtocolException("a second handshake");
                if (op == (byte)Op.RingOpen)
                {
                    FlushReplies();
                    // The ring takes over the stream at this frame's end: a request read behind it would belong to neither.
                    if (start != end) throw new ProtocolException("a request sent behind a ring request, before its answer");
                    OpenRing(conn, id, ref reader, writer);
                    continue;
                }
                // A coherent request may be answered from another connection's thread: what was answered before it goes first.
                // A write-back queued behind a fill must not hold the fill's answer back while it is stored.
                if (op is (byte)Op.Attach or (byte)Op.CoherentFill or (byte)Op.CoherentWriteBackFill or (byte)Op.InvalidateAck or (byte)Op.WriteBack
                    or (byte)Op.Rebuild or (byte)Op.RebuildDone) FlushReplies();
                writer.Begin((byte)(op | Protocol.ReplyBit), id);
                bool reply;
                if (Debug) _log.WriteLine($"conn {n} slot {conn.Slot} op {(Op)op} id {id} len {len}");
                lock (_lock) reply = Dispatch(conn, (Op)op, id, ref reader, writer);
                greeted = true;
                // Coherent fills may wait for other components; their replies are sent when the directory grants them.
                if (reply)
                {
                    var frame = writer.Finish();
                    // Batched over a ring too, at the cost of a copy: replies sent one by one each may wake a processor that
                    // went to sleep between them (more system time, and slower runs whose misses are sparse).
                    if (outLength + frame.Length > output.Length) FlushReplies();
                    if (frame.Length > output.Length) conn.Send(frame);
                    else
                    {
                        frame.CopyTo(output.AsSpan(outLength));
                        outLength += frame.Length;
                    }
                }
            }
        }
        catch (ProtocolException e)
        {
            _log.WriteLine($"memnode {Endpoint}: closing connection {n}: {e.Message}");
        }
        catch (RingCorruptException e)
        {
            _log.WriteLine($"memnode {Endpoint}: closing connection {n}: {e.Message}");
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            // A link that held no space and was no component's (an idle component's connection made ahead of a fork
            // that never came, ended with its run) leaves nothing behind: only a link that mattered is worth a line.
            bool mattered;
            lock (_lock) mattered = conn.Spaces.Count > 0 || conn.Slot >= 0;
            if (mattered) _log.WriteLine($"memnode {Endpoint}: connection {n} lost: {((e as SocketException ?? e.InnerException as SocketException)?.SocketErrorCode.ToString() ?? e.Message)}");
        }
        catch (ObjectDisposedException) { }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever a request provokes ends that one connection, never the node and the guests it serves.
            _log.WriteLine($"memnode {Endpoint}: closing connection {n}: internal error: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }
        finally
        {
            lock (_clients) _clients.Remove(conn);
            lock (_lock)
            {
                Disconnected(conn);
                ReleaseAll(conn);
            }
            conn.Wire?.Close();
            conn.CloseRing();
            conn.Tls?.Dispose();
            s.Dispose();
        }
    }

    /// <summary>
    /// Answers <see cref="Op.RingOpen"/>: moves the connection to a shared-memory ring, or declines (status
    /// -EOPNOTSUPP, the connection stays on its socket) where a ring cannot serve it: TCP, TLS, an emulated link (its
    /// thread sends on the socket, late), a connection already attached to the line directory, a node told not to.
    /// </summary>
    void OpenRing(Connection conn, uint id, ref FrameReader reader, FrameWriter writer)
    {
        uint capacity = reader.U32();
        bool wantFrames = reader.Remaining > 0 && (reader.U8() & 1) != 0;
        reader.End();
        if (conn.Ring != null) throw new ProtocolException("a second ring request");
        if (!RingTransport.ValidCapacity(capacity)) throw new ProtocolException($"a ring of {capacity} bytes asked for");
        writer.Begin((byte)((byte)Op.RingOpen | Protocol.ReplyBit), id);
        if (RingTransport.Enabled && Endpoint.IsUnix && conn.Tls == null && conn.Wire == null && conn.Slot < 0)
        {
            try
            {
                // The frame arena goes with the ring to a client that asked for it: its fills may be granted frames from now on.
                var frames = wantFrames && RingTransport.OneSided ? _store.Arena : null;
                conn.UseRing(RingLink.Serve(conn.Socket, (int)capacity, writer, frames));
                conn.Grants = frames != null;
                return;
            }
            catch (IOException e) when (e is not RingCorruptException)
            {
                // Out of memory for it, say: the connection is served as it was.
                _log.WriteLine($"memnode {Endpoint}: connection {conn.Number} stays on its socket: {e.Message}");
                writer.Begin((byte)((byte)Op.RingOpen | Protocol.ReplyBit), id);
            }
        }
        writer.I32(-95); // EOPNOTSUPP
        writer.U32(0);
        writer.I64(0);
        conn.Send(writer.Finish());
    }

    /// <summary>Pages one ReadFrames reply carries at most (it must fit <see cref="Protocol.MaxFrame"/>), and pages it looks at.</summary>
    public const int ReadFramesPages = 240, ReadFramesScan = 1 << 16;

    static ulong CheckAddr(ulong a, ulong len = 0)
    {
        if (a >= VmaSet.TaskSize || len > VmaSet.TaskSize || a + len > VmaSet.TaskSize)
            throw new ProtocolException($"address 0x{a:x}+{len} outside the user address space");
        return a;
    }

    static int CheckLine(ulong addr, uint size)
    {
        if (size < 64 || size > PageMath.PageSize || (size & (size - 1)) != 0) throw new ProtocolException($"bad line size {size}");
        if ((addr & (size - 1)) != 0) throw new ProtocolException($"line address 0x{addr:x} not aligned to {size}");
        CheckAddr(addr, size);
        return (int)size;
    }

    /// <summary>Handles one request; false when the reply is not written now (a coherent fill the directory parked).</summary>
    bool Dispatch(Connection conn, Op op, uint id, ref FrameReader r, FrameWriter w)
    {
        var st = _store;
        switch (op)
        {
            case Op.Attach:
            case Op.CoherentFill:
            case Op.CoherentWriteBackFill:
            case Op.InvalidateAck:
            case Op.Rebuild:
            case Op.RebuildLine:
            case Op.RebuildDone:
            case Op.BackupLine:
                return DispatchCoherent(conn, op, id, ref r, w);
            case Op.Hello:
            {
                ulong magic = r.U64();
                ushort version = r.U16();
                if (magic != Protocol.Magic) throw new ProtocolException("bad handshake magic");
                if (version != Protocol.Version) throw new ProtocolException($"protocol version {version} not supported (this node speaks {Protocol.Version})");
                var clientNonce = r.Bytes(Handshake.NonceBytes);
                r.End();
                if (clientNonce.Length != Handshake.NonceBytes) throw new ProtocolException($"handshake nonce of {clientNonce.Length} bytes");
                conn.ClientNonce = clientNonce.ToArray();
                conn.NodeNonce = Handshake.NewNonce();
                w.U64(Protocol.Magic);
                w.U16(Protocol.Version);
                w.Bytes(conn.NodeNonce);
                w.U8(_key != null ? (byte)1 : (byte)0);
                w.Bytes(_key != null ? Handshake.Proof(_key, Handshake.NodeRole, conn.ClientNonce, conn.NodeNonce) : []);
                conn.Authenticated = _key == null;
                break;
            }
            case Op.Authenticate:
            {
                var proof = r.Bytes(Handshake.ProofBytes);
                r.End();
                if (_key == null || conn.Authenticated) throw new ProtocolException("authentication nobody asked for");
                if (!Handshake.Verify(_key, Handshake.ClientRole, conn.NodeNonce!, conn.ClientNonce!, proof))
                    throw new ProtocolException("authentication failed: the client does not hold this cluster's key");
                conn.Authenticated = true;
                w.I32(0);
                break;
            }
            case Op.CreateSpace:
            {
                int asid = r.I32();
                ulong key = r.U64();
                r.End();
                if (conn.Spaces.Count >= MaxSpacesPerConnection) { w.I32(-Errno.ENOMEM); break; }
                int made = st.CreateAddressSpace(asid);
                if (made > 0) Created(conn, made, key, forChild: false);
                w.I32(made);
                break;
            }
            case Op.DestroySpace:
            {
                int asid = r.I32();
                r.End();
                CheckAsid(conn, asid);
                Destroy(asid);
                w.I32(0);
                break;
            }
            case Op.ForkSpace:
            {
                int asid = r.I32(), child = r.I32();
                ulong key = r.U64();
                r.End();
                CheckAsid(conn, asid);
                if (conn.Spaces.Count >= MaxSpacesPerConnection) { w.I32(-Errno.ENOMEM); break; }
                int made = st.ForkAddressSpace(asid, child);
                if (made > 0) Created(conn, made, key, forChild: true);
                w.I32(made);
                break;
            }
            case Op.ClaimSpace:
            {
                int asid = r.I32();
                ulong key = r.U64();
                r.End();
                w.I32(Claim(conn, asid, key));
                break;
            }
            case Op.ReleaseSpace:
            {
                int asid = r.I32();
                r.End();
                CheckAsid(conn, asid);
                Release(conn, asid);
                w.I32(0);
                break;
            }
            case Op.Map:
            {
                int asid = r.I32();
                ulong addr = r.U64(), len = r.U64();
                byte prot = r.U8();
                int flags = r.I32();
                string name = r.Str();
                r.End();
                CheckAsid(conn, asid);
                if (prot > 7) throw new ProtocolException($"bad protection {prot}");
                w.I64(st.Map(asid, addr, len, (Protection)prot, (MapFlags)flags, name));
                break;
            }
            case Op.Share:
            {
                int asid = r.I32();
                ulong addr = r.U64(), len = r.U64();
                string key = r.Str();
                ulong offset = r.U64();
                r.End();
                CheckAsid(conn, asid);
                CheckAddr(addr, len);
                if (key.Length == 0) throw new ProtocolException("a shared object needs a name");
                w.I64(st.Share(asid, addr, len, key, offset));
                break;
            }
            case Op.Unmap:
            case Op.Protect:
            {
                int asid = r.I32();
                ulong addr = r.U64(), len = r.U64();
                byte prot = op == Op.Protect ? r.U8() : (byte)0;
                r.End();
                CheckAsid(conn, asid);
                if (prot > 7) throw new ProtocolException($"bad protection {prot}");
                w.I64(op == Op.Unmap ? st.Unmap(asid, addr, len) : st.Protect(asid, addr, len, (Protection)prot));
                break;
            }
            case Op.SetBrkBase:
            {
                int asid = r.I32();
                ulong b = r.U64();
                r.End();
                CheckAsid(conn, asid);
                CheckAddr(b);
                st.SetBrkBase(asid, b);
                w.I64(0);
                break;
            }
            case Op.Brk:
            {
                int asid = r.I32();
                ulong b = r.U64();
                r.End();
                CheckAsid(conn, asid);
                w.U64(st.Brk(asid, b));
                break;
            }
            case Op.Fill:
            {
                int asid = r.I32();
                ulong addr = r.U64();
                int size = CheckLine(addr, r.U32());
                r.End();
                CheckAsid(conn, asid);
                WriteFill(st, w, asid, addr, size, writeBackError: 0, Grantable(conn, asid));
                break;
            }
            case Op.WriteBack:
            {
                int asid = r.I32();
                ulong addr = r.U64();
                var data = r.Bytes((int)PageMath.PageSize);
                r.End();
                CheckLine(addr, (uint)data.Length);
                CheckAsid(conn, asid);
                int stored = OverQuota(conn, asid, addr) ? -Errno.ENOMEM : TryWriteBack(st, asid, addr, data);
                w.I32(stored);
                if (conn.Slot >= 0) WroteBack(conn.Slot, asid, addr);
                // The page's frame may now exist (a first write-back makes it): granted here, its next fill needs no message.
                if (Grantable(conn, asid) is { } grant)
                {
                    var prot = Protection.None;
                    int slot = grant && stored == 0 && data.Length == (int)PageMath.PageSize ? st.OwnSlot(asid, addr, out prot) : -1;
                    w.I32(slot);
                    w.U8(slot >= 0 ? (byte)prot : (byte)0);
                }
                break;
            }
            case Op.WriteBackFill:
            {
                int asid = r.I32();
                ulong victim = r.U64();
                var data = r.Bytes((int)PageMath.PageSize);
                ulong addr = r.U64();
                int size = CheckLine(addr, r.U32());
                r.End();
                CheckLine(victim, (uint)data.Length);
                CheckAsid(conn, asid);
                int err = OverQuota(conn, asid, victim) ? -Errno.ENOMEM : TryWriteBack(st, asid, victim, data);
                WriteFill(st, w, asid, addr, size, err, Grantable(conn, asid));
                break;
            }
            case Op.Poke:
            case Op.PokeAbsent:
            {
                int asid = r.I32();
                ulong addr = r.U64();
                var data = r.Bytes(1 << 20);
                r.End();
                CheckAddr(addr, (ulong)data.Length);
                CheckAsid(conn, asid);
                if (OverQuota(conn, asid, addr)) { w.I32(-Errno.ENOMEM); break; }
                try { st.Poke(asid, addr, data, op == Op.PokeAbsent); w.I32(0); }
                catch (MemoryFault) { w.I32(-Errno.ENOMEM); }
                break;
            }
            case Op.Snapshot:
            {
                int asid = r.I32();
                r.End();
                CheckAsid(conn, asid);
                var vmas = st.Snapshot(asid);
                w.U32((uint)vmas.Count);
                foreach (var v in vmas)
                {
                    w.U64(v.Start);
                    w.U64(v.End);
                    w.U8((byte)v.Prot);
                    w.I32((int)v.Flags);
                    w.Str(v.Name);
                    w.Str(v.Object?.Key ?? "");
                    w.U64(v.ObjectOffset);
                }
                break;
            }
            case Op.ReadFrames:
            {
                int asid = r.I32();
                ulong start = r.U64(), end = r.U64();
                r.End();
                CheckAsid(conn, asid);
                CheckAddr(start, end >= start ? end - start : throw new ProtocolException("a range that ends before it starts"));
                var pages = new List<(ulong Addr, byte[] Data)>();
                ulong next = st.ReadFrames(asid, start, end, ReadFramesPages, ReadFramesScan, pages);
                w.U64(next);
                w.U32((uint)pages.Count);
                foreach (var (addr, data) in pages)
                {
                    w.U64(addr);
                    w.Bytes(data);
                }
                break;
            }
            case Op.Stats:
                r.End();
                WriteStats(w);
                break;
            default:
                throw new ProtocolException($"unknown op {(byte)op}");
        }
        return true;
    }

    /// <summary>Most frames the address spaces one connection holds may have (memnode --connection-memory); 0: no limit but the node's.</summary>
    public long FramesPerConnection { get; init; }

    /// <summary>
    /// True when a write by <paramref name="conn"/> at <paramref name="addr"/> would give its spaces a frame beyond
    /// <see cref="FramesPerConnection"/>: one client cannot take a shared node's memory from the others. Answered as a
    /// full node is (ENOMEM), which the guest sees as a failed mmap or a SIGSEGV.
    /// </summary>
    bool OverQuota(Connection conn, int asid, ulong addr)
    {
        if (FramesPerConnection <= 0) return false;
        long held = 0;
        foreach (int a in conn.Spaces) held += _store.PrivateFrames(a);
        return held >= FramesPerConnection && !_store.HasOwnFrame(asid, PageMath.Down(addr));
    }

    static int TryWriteBack(InProcessMemoryComponent st, int asid, ulong addr, ReadOnlySpan<byte> data)
    {
        try
        {
            st.WriteBack(asid, addr, data);
            return 0;
        }
        catch (MemoryFault)
        {
            return -Errno.ENOMEM; // capacity exhausted: the processor turns this into a guest fault
        }
    }

    /// <summary>
    /// Null when fills of <paramref name="asid"/> on <paramref name="conn"/> carry no grant field (the client did not take
    /// the arena); false when they carry one that says "none": the connection is in the line directory (other components
    /// may cache the space's lines, and the directory must see every write-back), or another connection holds the space
    /// too (it could fork it, or write its frames). Only requests on this connection can then change or free a frame
    /// granted on it, and the client drops its grants when it begins any such request.
    /// </summary>
    bool? Grantable(Connection conn, int asid)
    {
        if (!conn.Grants) return null;
        return conn.Slot < 0 && _records.TryGetValue(asid, out var rec) && rec.Holders.Count == 1 && !rec.HeldByOwner && !rec.AwaitingClaim;
    }

    /// <param name="grant">Null: no grant field; else whether the frame may be granted (see <see cref="Grantable"/>).</param>
    FillStatus WriteFill(InProcessMemoryComponent st, FrameWriter w, int asid, ulong addr, int size, int writeBackError, bool? grant = null)
    {
        w.I32(writeBackError);
        // The line goes straight into the reply: status and protection are known only after the fill, so their bytes
        // are reserved ahead, and a fill without data takes its room back.
        int head = w.Length;
        w.U16(0);
        // A file page or a page with no frame becomes the space's own frame only where that costs no connection its quota.
        var status = st.Fill(asid, addr, w.Reserve(size), out var prot, out int slot, ownPages: grant == true && FramesPerConnection <= 0);
        var frame = w.Written(head, 2);
        frame[0] = (byte)status;
        frame[1] = (byte)prot;
        if (status != FillStatus.Data)
        {
            w.Truncate(head + 2);
            w.U32(0);
        }
        // The grant: the frame's arena slot, or -1. Only whole pages: a smaller line's neighbours may be on their way by message.
        if (grant == null) return status;
        bool granted = grant.Value && status == FillStatus.Data && size == (int)PageMath.PageSize && slot >= 0;
        w.I32(granted ? slot : -1);
        int countAt = w.Length;
        w.U8(0);
        if (granted) w.Written(countAt, 1)[0] = (byte)WriteGrantsAhead(st, w, asid, PageMath.Down(addr), prot);
        return status;
    }

    /// <summary>Pages after a filled one that its reply grants too, at most (see <see cref="WriteGrantsAhead"/>).</summary>
    public const int GrantsAhead = 16;

    /// <summary>
    /// Behind a granted fill of the page at <paramref name="page"/>: the slots of the pages after it, up to the first that
    /// is not the space's own frame with the same rights (<paramref name="prot"/>). A same-host link otherwise learns of
    /// a frame only from the reply to a message about its own page, so a guest reading through memory the node holds
    /// and this link was never granted (a file mapping's pages, placed at its mmap; pages first written back by message)
    /// waits for a message at each page's first miss, a prefetch being late or evicted unused while the cache is busy
    /// with lines it reuses (Phoenix 2's word_count at 25 % of its footprint: its input, ~2 300 such misses of
    /// 20-100 us). Grants are not data: nothing enters a cache, no frame is made, and a later miss of one of these pages
    /// is a one-sided copy or mapping. Returns how many were written.
    /// </summary>
    int WriteGrantsAhead(InProcessMemoryComponent st, FrameWriter w, int asid, ulong page, Protection prot)
    {
        int n = 0;
        for (ulong a = page + PageMath.PageSize; n < GrantsAhead && a < VmaSet.TaskSize; a += PageMath.PageSize)
        {
            int slot = st.OwnSlot(asid, a, out var rights);
            if (slot < 0 || rights != prot) break;
            w.I32(slot);
            n++;
        }
        return n;
    }

    void WriteStats(FrameWriter w)
    {
        var s = _store.Stats;
        w.I64(s.CapacityFrames == long.MaxValue ? -1 : s.CapacityFrames);
        w.I64(s.Frames);
        w.I64(s.Fills);
        w.I64(s.ZeroFills);
        w.I64(s.WriteBacks);
        w.I64(s.BytesOut);
        w.I64(s.BytesIn);
    }

    public void Dispose()
    {
        _stopping = true;
        _sweeper?.Dispose();
        _listener.Dispose();
        lock (_clients)
            foreach (var c in _clients)
            {
                // A connection on a ring holds its socket open under the ring: cutting the ring is what ends it.
                c.Ring?.Cancel();
                c.Socket.Dispose();
            }
        if (Endpoint.IsUnix)
        {
            string path = Endpoint.Text[5..];
            try { File.Delete(path); } catch (IOException) { }
        }
    }
}
