using System.Collections.Concurrent;
using System.Net.Sockets;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.Interp;
using LegoEmu.Cpu.State;
using LegoEmu.Mem;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Remote;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Syscalls.Split;

/// <summary>
/// A processor component that runs threads of a process homed elsewhere (<c>legoemu procnode --listen</c>).
/// It has its own ExCache, kept coherent with the others' by the memory nodes' directories, its own
/// decoded blocks and its own green-thread loop. Every system call and fault goes to the home
/// component, which owns the descriptor table, signals, futexes and the address-space layout; a thread
/// that waits for its answer lets the other threads here run.
/// </summary>
public sealed class ThreadHost : ICpuHost, IDisposable
{
    sealed class HostedThread(int tid, CpuState cpu)
    {
        public readonly int Tid = tid;
        public readonly CpuState Cpu = cpu;
        /// <summary>Its system call or fault is with the home component.</summary>
        public bool Waiting;
        /// <summary>The home has a signal for it: send the registers at the next block boundary.</summary>
        public bool CheckIn;
    }

    /// <summary>As <see cref="Runtime.GuestProcess.TimeSlice"/>, for the threads this host runs.</summary>
    const long TimeSlice = Runtime.GuestProcess.TimeSlice;

    readonly LinkSocket _link;
    readonly TextWriter _log;
    readonly ConcurrentQueue<byte[]> _inbox = new();
    readonly ManualResetEventSlim _signal = new(false);
    readonly List<HostedThread> _threads = new();
    readonly Dictionary<int, long> _retiredByGone = new();
    MemoryCluster _cluster = null!;
    ExCache _cache = null!;
    CacheView _view = null!;
    BlockCache _blocks = null!;
    Interpreter _interp = null!;
    int _asid;
    int _index;
    HostedThread? _current;
    int _roundRobin;
    bool _shutdown;
    volatile bool _lost;
    // A region query's answer, written by the link's reader thread.
    readonly ManualResetEventSlim _regionAnswered = new(false);
    volatile int _regionOwner;

    ThreadHost(LinkSocket link, TextWriter log)
    {
        _link = link;
        _log = log;
    }

    /// <summary>Serves one home component over an accepted link until it shuts the host down; returns the exit status.</summary>
    public static int Serve(Socket accepted, TextWriter log) => Serve(accepted, log, Timeout.InfiniteTimeSpan, out _);

    /// <summary>
    /// As <see cref="Serve(Socket, TextWriter)"/>; <paramref name="placed"/> stays false when the peer never set this
    /// host up (it closed, sent something else, or sent nothing within <paramref name="setupTimeout"/>), so a
    /// listener can drop that connection and wait for its real home instead of ending.
    /// </summary>
    public static int Serve(Socket accepted, TextWriter log, TimeSpan setupTimeout, out bool placed)
    {
        placed = false;
        if (setupTimeout != Timeout.InfiniteTimeSpan) accepted.ReceiveTimeout = accepted.SendTimeout = (int)Math.Max(1, setupTimeout.TotalMilliseconds);
        // Over TCP with a cluster key the home must come through TLS (see ClusterTls), as clients of memory nodes do.
        Stream? tls = null;
        if (accepted.ProtocolType == ProtocolType.Tcp && Credentials.Key != null)
        {
            try { tls = ClusterTls.Accept(accepted); }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or SocketException or CredentialsException or System.Security.Cryptography.CryptographicException)
            {
                log.WriteLine($"legoemu procnode: closing a connection: TLS handshake failed: {(e.InnerException ?? e).Message.Split('\n')[0]}");
                accepted.Dispose();
                return 70;
            }
        }
        accepted.SendTimeout = 0;
        using var link = new LinkSocket(accepted, tls);
        using var host = new ThreadHost(link, log);
        try
        {
            if (Handshake.PeerUid(accepted) is uint uid && uid != Credentials.EffectiveUid)
                throw new ProtocolException($"peer uid {uid} is not this host's ({Credentials.EffectiveUid})");
            var setup = Authenticate(link);
            if (setup == null) return 0; // nobody placed anything here
            if (LinkSocket.OpOf(setup) != LinkOp.Setup) throw new ProtocolException($"expected setup, got {LinkSocket.OpOf(setup)}");
            host.SetUp(setup);
            accepted.ReceiveTimeout = 0;
            link.Send(LinkSocket.Begin(LinkOp.Ready));
            placed = true;
            var reader = new Thread(host.ReadLink) { IsBackground = true, Name = "thread-host-link" };
            reader.Start();
            return host.Loop();
        }
        catch (ProtocolException e)
        {
            log.WriteLine($"legoemu procnode: bad message from the home component: {e.Message}");
            return 70;
        }
        catch (MemoryNodeFailure e)
        {
            log.WriteLine($"legoemu procnode: {e.Message}");
            return 70;
        }
        catch (SocketException e) when (!placed && e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            log.WriteLine($"legoemu procnode: bad message from the home component: no setup within {setupTimeout.TotalSeconds:0.#} s");
            return 70;
        }
        catch (IOException e) when (!placed && e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock })
        {
            log.WriteLine($"legoemu procnode: bad message from the home component: no setup within {setupTimeout.TotalSeconds:0.#} s");
            return 70;
        }
        catch (SocketException e)
        {
            log.WriteLine($"legoemu procnode: the link to the home component failed: {e.SocketErrorCode}");
            return 70;
        }
        catch (IOException e)
        {
            log.WriteLine($"legoemu procnode: the link to the home component failed: {e.Message.Split('\n')[0]}");
            return 70;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A message no correct home sends can still trip something: one line, and this host ends alone.
            log.WriteLine($"legoemu procnode: bad message from the home component: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            if (Environment.GetEnvironmentVariable("LEGOEMU_DEBUG") == "1") log.WriteLine(e.ToString());
            return 70;
        }
    }

    /// <summary>
    /// The host's side of the link's handshake: a challenge, and with a cluster key the home's proof and this
    /// host's in return (see <see cref="Handshake"/>). Returns the first message after it (the setup), or null.
    /// </summary>
    static byte[]? Authenticate(LinkSocket link)
    {
        var key = Credentials.Key;
        var nonce = Handshake.NewNonce();
        var challenge = LinkSocket.Begin(LinkOp.Challenge);
        challenge.Bytes(nonce);
        challenge.U8(key != null ? (byte)1 : (byte)0);
        link.Send(challenge);
        var first = link.Receive();
        if (first == null || key == null) return first;
        if (LinkSocket.OpOf(first) != LinkOp.Authenticate) throw new ProtocolException("the home did not authenticate (this host has credentials)");
        var r = LinkSocket.Payload(first);
        var homeNonce = r.Bytes(Handshake.NonceBytes).ToArray();
        var proof = r.Bytes(Handshake.ProofBytes);
        r.End();
        if (homeNonce.Length != Handshake.NonceBytes || !Handshake.Verify(key, Handshake.HomeRole, nonce, homeNonce, proof))
            throw new ProtocolException("authentication failed: the home does not hold this cluster's key");
        var answer = LinkSocket.Begin(LinkOp.Authenticated);
        answer.Bytes(Handshake.Proof(key, Handshake.HostRole, homeNonce, nonce));
        link.Send(answer);
        return link.Receive();
    }

    void SetUp(byte[] body)
    {
        var r = LinkSocket.Payload(body);
        var endpoints = new List<Endpoint>();
        foreach (var text in r.Str().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Endpoint.TryParse(text, out var ep, out string err)) throw new ProtocolException(err);
            endpoints.Add(ep!);
        }
        _asid = r.I32();
        ulong key = r.U64();
        int homeNode = r.I32();
        ulong brk = r.U64();
        long size = r.I64();
        int ways = r.I32(), line = r.I32();
        var policy = (ReplacementPolicy)r.U8();
        _index = r.I32();
        var owners = ReadOwners(ref r);
        bool profiled = r.U8() != 0;
        int replicas = r.U8();
        r.End();
        if (replicas is < 1 or > Replication.MaxFactor) throw new ProtocolException($"{replicas} copies of each vRegion");
        var config = new CacheConfig(size, ways, line, policy);
        if (config.Validate() is { } bad) throw new ProtocolException(bad);
        if (endpoints.Count == 0) throw new ProtocolException("the setup names no memory node");
        // The home's copies, whatever this host was started with: a host may serve runs with and without replicas.
        _cluster = new MemoryCluster(endpoints, replicas);
        _cluster.Attach(_asid, homeNode, owners, brk, key);
        _cluster.UnknownRegion = AskRegion;
        _cache = new ExCache(config, _cluster);
        if (profiled) _cache.Profile = new LegoEmu.Mem.Trace.CodeProfile();
        _cluster.EnableCoherence(((ulong)Environment.ProcessId << 20) ^ (ulong)Random.Shared.NextInt64(1, 1 << 20), _cache, Notify);
        _cache.EnableCoherence();
        _view = new CacheView(_cache, _asid);
        _blocks = new BlockCache(_view);
        _interp = new Interpreter(_blocks);
    }

    static Dictionary<ulong, int> ReadOwners(ref LegoEmu.Mem.Remote.FrameReader r)
    {
        uint n = r.U32();
        if (n > 1 << 17) throw new ProtocolException($"{n} vRegions");
        var d = new Dictionary<ulong, int>((int)n);
        for (uint i = 0; i < n; i++)
        {
            ulong region = r.U64();
            d[region] = r.I32();
        }
        return d;
    }

    void LearnOwners(ref LegoEmu.Mem.Remote.FrameReader r)
    {
        foreach (var (region, node) in ReadOwners(ref r))
        {
            // A placement names a primary and, with replication, a backup (see Placement).
            if (Placement.Primary(node) is < 0 || Placement.Primary(node) >= _cluster.Nodes.Count || Placement.Backup(node) >= _cluster.Nodes.Count
                || region > (LegoEmu.Mem.Component.VmaSet.TaskSize - 1) >> GlobalMemoryManager.RegionShift)
                throw new ProtocolException($"vRegion {region} placed on node {node} of {_cluster.Nodes.Count}");
            if (_cluster.PlacementOf(_asid, region << GlobalMemoryManager.RegionShift) != node) _cluster.SetOwner(_asid, region, node);
        }
    }

    /// <summary>Any thread may call this: something arrived that the loop should look at soon.</summary>
    void Notify()
    {
        if (_current is { } t) t.Cpu.RaiseInterrupt();
        _signal.Set();
    }

    void ReadLink()
    {
        try
        {
            while (true)
            {
                var body = _link.Receive();
                if (body == null) break;
                if (LinkSocket.OpOf(body) == LinkOp.RegionOwner)
                {
                    var r = LinkSocket.Payload(body);
                    _regionOwner = r.I32();
                    _regionAnswered.Set();
                    continue;
                }
                // Answered here, not by the guest loop: a host busy computing is alive, only a frozen one is silent.
                if (LinkSocket.OpOf(body) == LinkOp.Ping)
                {
                    _link.Send(LinkSocket.Begin(LinkOp.Pong, 16));
                    continue;
                }
                _inbox.Enqueue(body);
                Notify();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException) { } // any failure of the link ends it, never the process
        _lost = true;
        _regionAnswered.Set();
        Notify();
    }

    /// <summary>A line in a vRegion placed after this host last heard: the home component knows its owner.</summary>
    int AskRegion(int asid, ulong region)
    {
        _regionAnswered.Reset();
        var w = LinkSocket.Begin(LinkOp.RegionQuery);
        w.I32(asid);
        w.U64(region);
        _link.Send(w);
        // Wait serving the directories: the home may need this component's lines before it can answer.
        while (!_regionAnswered.Wait(1)) _cluster.DrainCoherence();
        if (_lost) throw new MemoryNodeFailure("the home processor component went away");
        return _regionOwner;
    }

    int Loop()
    {
        while (!_shutdown)
        {
            _signal.Reset();
            _cluster.DrainCoherence();
            ServeInbox();
            if (_shutdown) break;
            if (_lost)
            {
                _log.WriteLine("legoemu procnode: the home processor component went away; its threads here end");
                return 70;
            }
            var t = Next();
            if (t == null)
            {
                _signal.Wait(200);
                continue;
            }
            if (t.CheckIn)
            {
                SendCheckIn(t);
                continue;
            }
            // A profile's call tracking keeps each thread's costs apart from the others' on this host.
            if (_cache.Profile != null && _lastRun != t) LegoEmu.Cpu.Profile.CallTracker.Switch(_lastRun?.Cpu, t.Cpu);
            _lastRun = t;
            _current = t;
            try
            {
                _interp.Run(t.Cpu, _threads.Count > 1 ? TimeSlice : long.MaxValue);
            }
            catch (CpuFault f)
            {
                // The kernel reports the address after INT3.
                SendFault(t, FaultSignals.For(f), f.Message, f.Kind == FaultKind.Breakpoint ? f.Rip + 1 : t.Cpu.Rip);
            }
            catch (MemoryFault m)
            {
                SendFault(t, FaultSignals.For(m), FaultSignals.Describe(m, t.Cpu.Rip), t.Cpu.Rip);
            }
            finally
            {
                _current = null;
            }
        }
        return 0;
    }

    /// <summary>The thread that ran last (a profile's call tracker is told when another follows it).</summary>
    HostedThread? _lastRun;

    HostedThread? Next()
    {
        for (int k = 0; k < _threads.Count; k++)
        {
            var t = _threads[(_roundRobin + 1 + k) % _threads.Count];
            if (!t.Waiting)
            {
                _roundRobin = _threads.IndexOf(t);
                return t;
            }
        }
        return null;
    }

    void SendFault(HostedThread t, SignalInfo info, string message, ulong rip)
    {
        t.Cpu.Rip = rip;
        var w = LinkSocket.Begin(LinkOp.Fault, 1024);
        w.I32(t.Tid);
        w.I64(t.Cpu.InstructionsRetired);
        CpuWire.Write(w, t.Cpu);
        w.I32(info.Signo);
        w.I32(info.Code);
        w.U64(info.Address);
        w.I32(info.TrapNo);
        w.U64(info.Error);
        w.Str(message.Length > 1000 ? message[..1000] : message);
        _link.Send(w);
        t.Waiting = true;
    }

    void ServeInbox()
    {
        bool resumed = false;
        while (_inbox.TryDequeue(out var body))
        {
            var r = LinkSocket.Payload(body);
            switch (LinkSocket.OpOf(body))
            {
                case LinkOp.Start:
                {
                    int tid = r.I32();
                    var cpu = new CpuState(_view, this);
                    CpuWire.Read(ref r, cpu);
                    LearnOwners(ref r);
                    _threads.Add(new HostedThread(tid, cpu));
                    resumed = true;
                    break;
                }
                case LinkOp.Resume:
                {
                    int tid = r.I32();
                    bool exited = r.U8() != 0;
                    var t = _threads.Find(x => x.Tid == tid) ?? throw new ProtocolException($"resume of unknown thread {tid}");
                    CpuWire.Read(ref r, t.Cpu);
                    LearnOwners(ref r);
                    t.Waiting = false;
                    if (exited) Drop(t);
                    else resumed = true;
                    break;
                }
                case LinkOp.Interrupt:
                {
                    int tid = r.I32();
                    // A thread whose call is at home gets its signal there anyway.
                    if (_threads.Find(x => x.Tid == tid) is { Waiting: false } t)
                    {
                        t.CheckIn = true;
                        t.Cpu.RaiseInterrupt();
                    }
                    break;
                }
                case LinkOp.Stop:
                {
                    int tid = r.I32();
                    if (_threads.Find(x => x.Tid == tid) is { } t) Drop(t);
                    break;
                }
                case LinkOp.Flush:
                {
                    int asid = r.I32();
                    ulong start = r.U64(), end = r.U64();
                    bool writeBack = r.U8() != 0;
                    _cache.FlushRange(asid, start, end, writeBack);
                    _blocks.Invalidate(start, end);
                    _link.Send(LinkSocket.Begin(LinkOp.Flushed));
                    break;
                }
                case LinkOp.Setup:
                {
                    // execve in a process placed here: its new image runs here too, in an address space of its own.
                    // What this host cached of the old one goes with its connections (the home destroyed that space).
                    if (_threads.Count > 0) throw new ProtocolException("a new setup while threads of the old one run here");
                    var (oldCluster, oldCache) = (_cluster, _cache);
                    SetUp(body);
                    oldCluster.Dispose();
                    oldCache.Dispose();
                    break;
                }
                case LinkOp.Shutdown:
                    Report();
                    _shutdown = true;
                    foreach (var t in _threads) t.Cpu.StopRequested = true;
                    return;
                default:
                    throw new ProtocolException($"unexpected {LinkSocket.OpOf(body)} from the home component");
            }
        }
        // A thread whose call returned should not wait a whole time slice for the one running now.
        if (resumed && _current is { } cur) cur.Cpu.YieldRequested = true;
    }

    void Drop(HostedThread t)
    {
        t.Cpu.StopRequested = true;
        _retiredByGone[t.Tid] = t.Cpu.InstructionsRetired;
        _threads.Remove(t);
    }

    void Report()
    {
        // Lines this host wrote must reach the nodes before the home reads the guest's last state.
        _cache.WriteBackAll();
        if (_cache.Profile is { } profile) ProfileWire.Send(_link, profile);
        var w = LinkSocket.Begin(LinkOp.Report, 1024);
        var all = new Dictionary<int, long>(_retiredByGone);
        foreach (var t in _threads) all[t.Tid] = t.Cpu.InstructionsRetired;
        w.U32((uint)all.Count);
        foreach (var (tid, n) in all)
        {
            w.I32(tid);
            w.I64(n);
        }
        var s = _cache.Stats;
        w.I64(_view.Accesses);
        w.I64(s.Misses);
        w.I64(s.Upgrades);
        w.I64(s.Invalidations);
        w.I64(s.Downgrades);
        w.I64(s.Evictions);
        w.I64(s.WriteBacks);
        w.I64(s.MissTicks);
        _link.Send(w);
    }

    // ---- ICpuHost ----

    public void Syscall(CpuState c)
    {
        var t = _current!;
        var w = LinkSocket.Begin(LinkOp.Syscall, 1024);
        w.I32(t.Tid);
        w.I64(c.InstructionsRetired);
        CpuWire.Write(w, c);
        _link.Send(w);
        t.Waiting = true;
        c.YieldRequested = true;
    }

    public void Interrupt(CpuState c)
    {
        _cluster.DrainCoherence();
        ServeInbox();
        if (_current is { CheckIn: true, Waiting: false } t && t.Cpu == c) SendCheckIn(t);
    }

    /// <summary>Sends a thread's registers home at a block boundary so the home can set up its signal frame.</summary>
    void SendCheckIn(HostedThread t)
    {
        t.CheckIn = false;
        var w = LinkSocket.Begin(LinkOp.CheckIn, 1024);
        w.I32(t.Tid);
        w.I64(t.Cpu.InstructionsRetired);
        CpuWire.Write(w, t.Cpu);
        _link.Send(w);
        t.Waiting = true;
        t.Cpu.YieldRequested = true;
    }

    public void Dispose()
    {
        _cluster?.Dispose();
        _cache?.Dispose();
    }
}
