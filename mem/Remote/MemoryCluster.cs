using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// The memory side of a processor component talking to memory-node processes. Each address space
/// has a home node that decides VMA placement; every 1 GiB vRegion has an owner node (chosen by the
/// <see cref="GlobalMemoryManager"/> on first use) that holds its frames and a copy of the VMAs over
/// it. The vRegion→owner table is cached here, so misses and write-backs go straight to the owner.
/// </summary>
public sealed class MemoryCluster : ICoherentMemory, IPipelinedMemory, IAsyncReplies, INodeLocator, IDisposable
{
    sealed class SpaceInfo(int home, ulong key)
    {
        public readonly int Home = home;
        /// <summary>The secret that lets another component claim this space on a node (see MemoryNodeServer.Spaces.cs).</summary>
        public readonly ulong Key = key;
        public readonly Dictionary<ulong, int> Owners = new();
        public readonly HashSet<int> Nodes = new() { home };
        public ulong Brk;
    }

    readonly MemoryNodeClient[] _nodes;
    readonly GlobalMemoryManager _gmm;
    readonly Dictionary<int, SpaceInfo> _spaces = new();
    readonly Random _asidSource = new();

    public MemoryCluster(IReadOnlyList<Endpoint> endpoints)
    {
        if (endpoints.Count == 0) throw new ArgumentException("a memory cluster needs at least one node");
        _nodes = new MemoryNodeClient[endpoints.Count];
        try
        {
            for (int i = 0; i < endpoints.Count; i++) _nodes[i] = new MemoryNodeClient(endpoints[i], i) { Async = this };
        }
        catch
        {
            foreach (var n in _nodes) n?.Dispose();
            throw;
        }
        _gmm = new GlobalMemoryManager(_nodes);
    }

    public IReadOnlyList<MemoryNodeClient> Nodes => _nodes;
    public ComponentStats Stats { get; } = new();

    SpaceInfo Space(int asid) => _spaces.TryGetValue(asid, out var s) ? s : throw new ArgumentException($"unknown address space {asid}");

    public int CreateAddressSpace(int requestedAsid = 0)
    {
        int home = _gmm.Place(countRegion: false);
        if (home < 0) return -Errno.ENOMEM;
        for (int attempt = 0; attempt < 16; attempt++)
        {
            int asid = requestedAsid != 0 ? requestedAsid : _asidSource.Next(1, int.MaxValue);
            ulong key = SpaceKeys.New();
            int r = _nodes[home].CreateSpace(asid, key);
            if (r > 0)
            {
                lock (_spaces) _spaces[asid] = new SpaceInfo(home, key);
                return asid;
            }
            if (requestedAsid != 0) return r;
        }
        return -Errno.EEXIST;
    }

    public void DestroyAddressSpace(int asid)
    {
        SpaceInfo? s;
        lock (_spaces) if (!_spaces.Remove(asid, out s)) return;
        foreach (int n in s.Nodes)
        {
            _nodes[n].Begin(Op.DestroySpace).I32(asid);
            _nodes[n].Send();
        }
        foreach (int n in s.Nodes) _nodes[n].Receive();
    }

    public int ForkAddressSpace(int asid, int requestedAsid = 0)
    {
        var s = Space(asid);
        int child = requestedAsid != 0 ? requestedAsid : _asidSource.Next(1, int.MaxValue);
        ulong key = SpaceKeys.New();
        foreach (int n in s.Nodes)
        {
            var w = _nodes[n].Begin(Op.ForkSpace);
            w.I32(asid);
            w.I32(child);
            w.U64(key);
            _nodes[n].Send();
        }
        int result = child;
        foreach (int n in s.Nodes)
        {
            int r = _nodes[n].Receive().I32();
            if (r < 0) result = r;
        }
        if (result < 0) return result;
        var c = new SpaceInfo(s.Home, key) { Brk = s.Brk };
        foreach (var kv in s.Owners) c.Owners[kv.Key] = kv.Value;
        c.Nodes.UnionWith(s.Nodes);
        lock (_spaces) _spaces[child] = c;
        return child;
    }

    /// <summary>Where an address space lives: its home node, the vRegion owners, the break and its key (handed to a forked child or a thread host).</summary>
    public (int Home, Dictionary<ulong, int> Owners, ulong Brk, ulong Key) Describe(int asid)
    {
        var s = Space(asid);
        return (s.Home, new Dictionary<ulong, int>(s.Owners), s.Brk, s.Key);
    }

    /// <summary>
    /// Takes over an address space that already exists on the nodes (a forked child's copy, or the space of the
    /// home whose threads this component runs), claiming it with its key on every node that holds part of it.
    /// </summary>
    public void Attach(int asid, int home, IReadOnlyDictionary<ulong, int> owners, ulong brk, ulong key)
    {
        var s = new SpaceInfo(home, key) { Brk = brk };
        foreach (var (region, node) in owners)
        {
            if (node < 0 || node >= _nodes.Length) throw new MemoryNodeFailure($"vRegion owner {node} is not one of the {_nodes.Length} memory nodes");
            s.Owners[region] = node;
            s.Nodes.Add(node);
        }
        if (home < 0 || home >= _nodes.Length) throw new MemoryNodeFailure($"home node {home} is not one of the {_nodes.Length} memory nodes");
        foreach (int n in s.Nodes) Claim(n, asid, key);
        lock (_spaces) _spaces[asid] = s;
    }

    void Claim(int node, int asid, ulong key)
    {
        if (_nodes[node].ClaimSpace(asid, key) < 0)
            throw new MemoryNodeFailure($"memory node {_nodes[node].Endpoint} does not hand over address space {asid} (gone, or a wrong key)");
    }

    /// <summary>Lets go of an address space without destroying it: a parent after handing a forked child its copy.</summary>
    public void ReleaseAddressSpace(int asid)
    {
        SpaceInfo? s;
        lock (_spaces) if (!_spaces.Remove(asid, out s)) return;
        foreach (int n in s.Nodes)
        {
            _nodes[n].Begin(Op.ReleaseSpace).I32(asid);
            _nodes[n].Send();
        }
        foreach (int n in s.Nodes) _nodes[n].Receive();
    }

    /// <summary>The node owning the vRegion of <paramref name="addr"/>, or -1. Safe from any thread (a link's reader answers region queries).</summary>
    public int NodeOf(int asid, ulong addr)
    {
        SpaceInfo? s;
        lock (_spaces) if (!_spaces.TryGetValue(asid, out s)) return -1;
        lock (s.Owners) return s.Owners.TryGetValue(addr >> GlobalMemoryManager.RegionShift, out int n) ? n : -1;
    }

    /// <summary>
    /// Asked when a line lies in a vRegion this component has not heard of: a component that does not
    /// place regions itself (a thread host) asks the one that does. Returns the owner or -1.
    /// </summary>
    public Func<int, ulong, int>? UnknownRegion { get; set; }

    /// <summary>Learns a vRegion's owner (a thread host hears of placements from its home component).</summary>
    public void SetOwner(int asid, ulong region, int node)
    {
        var s = Space(asid);
        if (node < 0 || node >= _nodes.Length) throw new ProtocolException($"vRegion owner {node} is not one of the {_nodes.Length} memory nodes");
        // Placed by another component of the process: this one may use the space there once it has claimed it.
        if (!s.Nodes.Contains(node)) Claim(node, asid, s.Key);
        lock (s.Owners) s.Owners[region] = node;
        s.Nodes.Add(node);
    }

    /// <summary>A copy of the vRegion→owner table of one space.</summary>
    public Dictionary<ulong, int> OwnersOf(int asid)
    {
        var s = Space(asid);
        lock (s.Owners) return new Dictionary<ulong, int>(s.Owners);
    }

    /// <summary>The owner of a vRegion, placing it on first use; -1 when no node has room.</summary>
    int Owner(SpaceInfo s, int asid, ulong region, bool place)
    {
        if (s.Owners.TryGetValue(region, out int n)) return n;
        if (!place)
        {
            if (UnknownRegion == null) return -1;
            n = UnknownRegion(asid, region);
            if (n < 0 || n >= _nodes.Length) return -1;
            // Another component placed the region: this one holds the space there only once it has claimed it.
            if (!s.Nodes.Contains(n)) Claim(n, asid, s.Key);
            lock (s.Owners) s.Owners[region] = n;
            s.Nodes.Add(n);
            return n;
        }
        n = _gmm.Place();
        if (n < 0) return -1;
        if (!s.Nodes.Contains(n))
        {
            int r = _nodes[n].CreateSpace(asid, s.Key);
            if (r == -Errno.EEXIST) r = _nodes[n].ClaimSpace(asid, s.Key); // another component of this process was first
            if (r < 0) return -1;
            s.Nodes.Add(n);
        }
        lock (s.Owners) s.Owners[region] = n;
        return n;
    }

    static IEnumerable<ulong> Regions(ulong start, ulong end)
    {
        for (ulong r = start >> GlobalMemoryManager.RegionShift; r <= (end - 1) >> GlobalMemoryManager.RegionShift; r++) yield return r;
    }

    /// <summary>Sends one VMA operation to every owner (other than home) of the regions it touches, pipelined.</summary>
    void Replicate(SpaceInfo s, int asid, ulong start, ulong end, Action<FrameWriter> body, Op op, bool place)
    {
        var targets = new HashSet<int>();
        foreach (var region in Regions(start, end))
        {
            int n = Owner(s, asid, region, place);
            if (n < 0 && place) throw new MemoryFault(region << GlobalMemoryManager.RegionShift, AccessKind.Write, FaultReason.NoMemory);
            if (n >= 0 && n != s.Home) targets.Add(n);
        }
        foreach (int n in targets)
        {
            body(_nodes[n].Begin(op));
            _nodes[n].Send();
        }
        foreach (int n in targets) _nodes[n].Receive();
    }

    public long Map(int asid, ulong addr, ulong length, Protection prot, MapFlags flags, string name)
    {
        var s = Space(asid);
        long r = MapOn(_nodes[s.Home], asid, addr, length, prot, flags, name);
        if (r < 0) return r;
        ulong start = (ulong)r, end = start + PageMath.Up(length);
        try
        {
            Replicate(s, asid, start, end, w => WriteMap(w, asid, start, length, prot, flags | MapFlags.Fixed, name), Op.Map, place: true);
        }
        catch (MemoryFault)
        {
            Unmap(asid, start, length);
            return -Errno.ENOMEM;
        }
        return r;
    }

    static void WriteMap(FrameWriter w, int asid, ulong addr, ulong length, Protection prot, MapFlags flags, string name)
    {
        w.I32(asid);
        w.U64(addr);
        w.U64(length);
        w.U8((byte)prot);
        w.I32((int)flags);
        w.Str(name);
    }

    static long MapOn(MemoryNodeClient n, int asid, ulong addr, ulong length, Protection prot, MapFlags flags, string name)
    {
        WriteMap(n.Begin(Op.Map), asid, addr, length, prot, flags, name);
        return n.Call().I64();
    }

    public long Share(int asid, ulong addr, ulong length, string key, ulong offset)
    {
        var s = Space(asid);
        void Body(FrameWriter w)
        {
            w.I32(asid);
            w.U64(addr);
            w.U64(length);
            w.Str(key);
            w.U64(offset);
        }
        // Every node holding the range binds it; the owners' objects hold the frames.
        var targets = new HashSet<int> { s.Home };
        foreach (var region in Regions(addr, PageMath.Up(addr + length)))
            if (Owner(s, asid, region, place: false) is int n and >= 0) targets.Add(n);
        foreach (int n in targets)
        {
            Body(_nodes[n].Begin(Op.Share));
            _nodes[n].Send();
        }
        long result = 0;
        foreach (int n in targets)
        {
            long r = _nodes[n].Receive().I64();
            result = r < 0 || result < 0 ? Math.Min(result, r) : Math.Max(result, r);
        }
        return result;
    }

    public long Unmap(int asid, ulong addr, ulong length) => RangeOp(Op.Unmap, asid, addr, length, Protection.None);

    public long Protect(int asid, ulong addr, ulong length, Protection prot) => RangeOp(Op.Protect, asid, addr, length, prot);

    long RangeOp(Op op, int asid, ulong addr, ulong length, Protection prot)
    {
        var s = Space(asid);
        void Body(FrameWriter w)
        {
            w.I32(asid);
            w.U64(addr);
            w.U64(length);
            if (op == Op.Protect) w.U8((byte)prot);
        }
        var home = _nodes[s.Home];
        Body(home.Begin(op));
        long r = home.Call().I64();
        if (r == 0 && length > 0 && addr + length > addr)
            Replicate(s, asid, addr, Math.Min(PageMath.Up(addr + length), VmaSet.TaskSize), Body, op, place: false);
        return r;
    }

    public void SetBrkBase(int asid, ulong brkBase)
    {
        var s = Space(asid);
        var w = _nodes[s.Home].Begin(Op.SetBrkBase);
        w.I32(asid);
        w.U64(brkBase);
        _nodes[s.Home].Call();
        s.Brk = brkBase;
    }

    public ulong Brk(int asid, ulong newBreak)
    {
        var s = Space(asid);
        if (newBreak == 0) return s.Brk;
        var home = _nodes[s.Home];
        var w = home.Begin(Op.Brk);
        w.I32(asid);
        w.U64(newBreak);
        ulong r = home.Call().U64();
        ulong oldTop = PageMath.Up(s.Brk), newTop = PageMath.Up(r);
        if (newTop > oldTop)
        {
            try
            {
                Replicate(s, asid, oldTop, newTop,
                    fw => WriteMap(fw, asid, oldTop, newTop - oldTop, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "[heap]"),
                    Op.Map, place: true);
            }
            catch (MemoryFault)
            {
                // No node can hold the new heap region: undo the growth, as a failed brk leaves the break alone.
                var u = home.Begin(Op.Brk);
                u.I32(asid);
                u.U64(s.Brk);
                home.Call();
                return s.Brk;
            }
        }
        else if (newTop < oldTop)
        {
            Replicate(s, asid, newTop, oldTop, fw => { fw.I32(asid); fw.U64(newTop); fw.U64(oldTop - newTop); }, Op.Unmap, place: false);
        }
        s.Brk = r;
        return r;
    }

    public FillStatus Fill(int asid, ulong lineAddr, Span<byte> destination, out Protection prot)
    {
        var s = Space(asid);
        int n = Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        if (n < 0) { prot = Protection.None; return FillStatus.Unmapped; }
        var node = _nodes[n];
        var w = node.Begin(Op.Fill);
        w.I32(asid);
        w.U64(lineAddr);
        w.U32((uint)destination.Length);
        var r = node.Call();
        node.Stats.Fills++;
        return ReadFill(ref r, destination, out prot, lineAddr);
    }

    FillStatus ReadFill(ref FrameReader r, Span<byte> destination, out Protection prot, ulong lineAddr)
    {
        int wbError = r.I32();
        var status = (FillStatus)r.U8();
        prot = (Protection)r.U8();
        var data = r.Bytes(destination.Length);
        if (wbError < 0) throw new MemoryFault(lineAddr, AccessKind.Write, FaultReason.NoMemory);
        if (status == FillStatus.Data)
        {
            if (data.Length != destination.Length) throw new MemoryNodeFailure("memory node returned a line of the wrong size");
            data.CopyTo(destination);
            Stats.BytesOut += data.Length;
        }
        else destination.Clear();
        Stats.Fills++;
        if (status == FillStatus.Zero) Stats.ZeroFills++;
        return status;
    }

    public void WriteBack(int asid, ulong lineAddr, ReadOnlySpan<byte> data)
    {
        var s = Space(asid);
        int n = Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        if (n < 0) return; // the mapping is gone: nothing to keep
        var node = _nodes[n];
        var w = node.Begin(Op.WriteBack);
        w.I32(asid);
        w.U64(lineAddr);
        w.Bytes(data);
        node.WriteBacksSent++;
        int err = node.Call().I32();
        node.Stats.WriteBacks++;
        Stats.WriteBacks++;
        Stats.BytesIn += data.Length;
        if (err < 0) throw new MemoryFault(lineAddr, AccessKind.Write, FaultReason.NoMemory);
    }

    public FillStatus WriteBackAndFill(int asid, ulong victimAddr, ReadOnlySpan<byte> victim, ulong lineAddr, Span<byte> destination,
        out Protection prot, out bool combined)
    {
        var s = Space(asid);
        int vn = Owner(s, asid, victimAddr >> GlobalMemoryManager.RegionShift, place: false);
        int fn = Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        if (vn < 0 || fn < 0 || vn != fn)
        {
            combined = false;
            WriteBack(asid, victimAddr, victim);
            return Fill(asid, lineAddr, destination, out prot);
        }
        combined = true;
        var node = _nodes[fn];
        var w = node.Begin(Op.WriteBackFill);
        w.I32(asid);
        w.U64(victimAddr);
        w.Bytes(victim);
        w.U64(lineAddr);
        w.U32((uint)destination.Length);
        var r = node.Call();
        node.Stats.WriteBacks++;
        node.Stats.Fills++;
        Stats.WriteBacks++;
        Stats.BytesIn += victim.Length;
        return ReadFill(ref r, destination, out prot, lineAddr);
    }

    // ---- pipelined requests: write-backs nobody waits for, fills ahead of the guest ----

    public IPipelinedTarget? Target { get; set; }

    int KnownOwner(int asid, ulong lineAddr)
    {
        SpaceInfo? s;
        lock (_spaces) if (!_spaces.TryGetValue(asid, out s)) return -1;
        lock (s.Owners) return s.Owners.TryGetValue(lineAddr >> GlobalMemoryManager.RegionShift, out int n) ? n : -1;
    }

    public bool QueueWriteBack(int asid, ulong lineAddr, ReadOnlySpan<byte> data, int token)
    {
        var s = Space(asid);
        int n = Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        if (n < 0) return false; // the mapping is gone: nothing to keep
        QueueWriteBackOn(_nodes[n], asid, lineAddr, data, token);
        return true;
    }

    void QueueWriteBackOn(MemoryNodeClient node, int asid, ulong lineAddr, ReadOnlySpan<byte> data, int token)
    {
        var w = node.Begin(Op.WriteBack);
        w.I32(asid);
        w.U64(lineAddr);
        w.Bytes(data);
        node.WriteBacksSent++;
        node.QueueAsync(AsyncReply.WriteBack, token);
        node.Stats.WriteBacks++;
        Stats.WriteBacks++;
        Stats.BytesIn += data.Length;
    }

    public int QueuePrefetch(int asid, ulong lineAddr, int size, int token)
    {
        // Only regions already placed: a prefetch never asks another component where a region lives.
        int n = KnownOwner(asid, lineAddr);
        if (n < 0) return -1;
        var node = _nodes[n];
        var w = node.Begin(Op.Fill);
        w.I32(asid);
        w.U64(lineAddr);
        w.U32((uint)size);
        node.QueueAsync(AsyncReply.Fill, token);
        node.Stats.Fills++;
        return n;
    }

    public void FlushQueued()
    {
        foreach (var n in _nodes) n.Flush();
    }

    public FillStatus FillThenWriteBack(int asid, ulong lineAddr, Span<byte> destination, out Protection prot,
        int victimAsid, ulong victimAddr, ReadOnlySpan<byte> victim, int token, out bool queued)
    {
        var s = Space(asid);
        int fn = Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        SpaceInfo? vs = s;
        if (victimAsid != asid) lock (_spaces) _spaces.TryGetValue(victimAsid, out vs);
        int vn = vs != null ? Owner(vs, victimAsid, victimAddr >> GlobalMemoryManager.RegionShift, place: false) : -1;
        queued = vn >= 0;
        if (fn < 0)
        {
            if (queued) QueueWriteBackOn(_nodes[vn], victimAsid, victimAddr, victim, token);
            FlushQueued();
            prot = Protection.None;
            return FillStatus.Unmapped;
        }
        var node = _nodes[fn];
        var w = node.Begin(Op.Fill);
        w.I32(asid);
        w.U64(lineAddr);
        w.U32((uint)destination.Length);
        node.Queue();
        // Behind the fill, in the same send: the node answers the fill before it stores the victim.
        if (queued) QueueWriteBackOn(_nodes[vn], victimAsid, victimAddr, victim, token);
        if (vn >= 0 && vn != fn) _nodes[vn].Flush();
        var r = node.Receive();
        node.Stats.Fills++;
        return ReadFill(ref r, destination, out prot, lineAddr);
    }

    public void ReceiveOne(int node) => _nodes[node].ReceiveAsyncOne();

    public void DrainAll()
    {
        foreach (var n in _nodes) n.DrainAsync();
    }

    void IAsyncReplies.Arrived(MemoryNodeClient node, AsyncReply kind, int token, ref FrameReader r)
    {
        var target = Target ?? throw new InvalidOperationException("an asynchronous reply with nobody to take it");
        if (kind == AsyncReply.WriteBack)
        {
            target.WriteBackAcknowledged(token, r.I32() < 0);
            return;
        }
        r.I32(); // a plain fill carries no write-back
        var status = (FillStatus)r.U8();
        var prot = (Protection)r.U8();
        var data = r.Bytes((int)PageMath.PageSize);
        if (status == FillStatus.Data) Stats.BytesOut += data.Length;
        if (status != FillStatus.Unmapped)
        {
            Stats.Fills++;
            if (status == FillStatus.Zero) Stats.ZeroFills++;
        }
        target.PrefetchArrived(token, status, prot, status == FillStatus.Data ? data : default);
    }

    // ---- coherent caching (threads of one process on several processor components) ----

    CoherenceChannels? _channels;

    /// <summary>The callback channels once <see cref="EnableCoherence"/> ran.</summary>
    public CoherenceChannels? Channels => _channels;

    /// <summary>
    /// Makes this component's cache one of several coherent ones: every node learns its id and opens a
    /// callback channel for invalidations, which <paramref name="target"/> applies.
    /// </summary>
    public void EnableCoherence(ulong componentId, ICoherenceTarget target, Action notify)
    {
        foreach (var n in _nodes) n.AttachComponent(componentId);
        _channels = new CoherenceChannels(_nodes, target, notify);
    }

    public void DrainCoherence() => _channels?.Drain();

    /// <summary>
    /// Leaves the nodes' directories: the callback channels close, so each node answers for this component
    /// whatever it would still ask of it (its cache dropped every tracked line before).
    /// </summary>
    public void DisableCoherence()
    {
        _channels?.Dispose();
        _channels = null;
        foreach (var n in _nodes) n.DetachCallback();
    }

    public FillStatus FillCoherent(int asid, ulong lineAddr, Span<byte> destination, bool exclusive, out Protection prot)
    {
        var s = Space(asid);
        int n = Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        if (n < 0) { prot = Protection.None; return FillStatus.Unmapped; }
        var node = _nodes[n];
        var w = node.Begin(Op.CoherentFill);
        w.I32(asid);
        w.U64(lineAddr);
        w.U32((uint)destination.Length);
        w.U8(exclusive ? (byte)1 : (byte)0);
        var r = node.Call();
        node.GrantsReceived++;
        node.Stats.Fills++;
        _channels?.AfterGrant();
        return ReadFill(ref r, destination, out prot, lineAddr);
    }

    public FillStatus WriteBackAndFillCoherent(int victimAsid, ulong victimAddr, ReadOnlySpan<byte> victim, int asid, ulong lineAddr,
        Span<byte> destination, bool exclusive, out Protection prot, out bool combined)
    {
        int vn = victimAsid == asid ? Owner(Space(asid), asid, victimAddr >> GlobalMemoryManager.RegionShift, place: false) : -1;
        int fn = Owner(Space(asid), asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        if (vn < 0 || fn < 0 || vn != fn)
        {
            combined = false;
            WriteBack(victimAsid, victimAddr, victim);
            return FillCoherent(asid, lineAddr, destination, exclusive, out prot);
        }
        combined = true;
        var node = _nodes[fn];
        var w = node.Begin(Op.CoherentWriteBackFill);
        w.I32(asid);
        w.U64(victimAddr);
        w.Bytes(victim);
        w.U64(lineAddr);
        w.U32((uint)destination.Length);
        w.U8(exclusive ? (byte)1 : (byte)0);
        node.WriteBacksSent++;
        var r = node.Call();
        node.GrantsReceived++;
        _channels?.AfterGrant();
        node.Stats.WriteBacks++;
        node.Stats.Fills++;
        Stats.WriteBacks++;
        Stats.BytesIn += victim.Length;
        return ReadFill(ref r, destination, out prot, lineAddr);
    }

    public void Poke(int asid, ulong addr, ReadOnlySpan<byte> data, bool onlyAbsent = false)
    {
        var s = Space(asid);
        while (!data.IsEmpty)
        {
            ulong region = addr >> GlobalMemoryManager.RegionShift;
            ulong regionEnd = (region + 1) << GlobalMemoryManager.RegionShift;
            int n = (int)Math.Min((ulong)data.Length, Math.Min(regionEnd - addr, 1UL << 19));
            int owner = Owner(s, asid, region, place: true);
            if (owner < 0) throw new MemoryFault(addr, AccessKind.Write, FaultReason.NoMemory);
            var w = _nodes[owner].Begin(onlyAbsent ? Op.PokeAbsent : Op.Poke);
            w.I32(asid);
            w.U64(addr);
            w.Bytes(data[..n]);
            if (_nodes[owner].Call().I32() < 0) throw new MemoryFault(addr, AccessKind.Write, FaultReason.NoMemory);
            data = data[n..];
            addr += (ulong)n;
        }
    }

    public IReadOnlyList<Vma> Snapshot(int asid)
    {
        var s = Space(asid);
        var home = _nodes[s.Home];
        home.Begin(Op.Snapshot).I32(asid);
        var r = home.Call();
        uint count = r.U32();
        var list = new List<Vma>((int)Math.Min(count, 65536));
        for (uint k = 0; k < count; k++)
        {
            ulong start = r.U64(), end = r.U64();
            var prot = (Protection)r.U8();
            var flags = (MapFlags)r.I32();
            string name = r.Str(), key = r.Str();
            ulong offset = r.U64();
            list.Add(new Vma(start, end, prot, flags, name) { Object = key.Length > 0 ? new SharedObject(0, key) : null, ObjectOffset = offset });
        }
        return list;
    }

    /// <summary>One line per node for --stats: traffic, latency percentiles, regions and frames held.</summary>
    public void Report(TextWriter w)
    {
        foreach (var n in _nodes)
        {
            try { n.RefreshStats(); } catch (MemoryNodeFailure) { }
            var st = n.Stats;
            w.WriteLine($"legoemu: memory node {n.Index,-2} {n.Endpoint}: requests {st.Requests:N0}, fills {st.Fills:N0}, write-backs {st.WriteBacks:N0}, " +
                        $"bytes sent {st.BytesSent:N0} received {st.BytesReceived:N0}, latency p50 {st.Percentile(0.5):F1} us p99 {st.Percentile(0.99):F1} us, " +
                        $"vRegions {_gmm.RegionsOn(n.Index)}, frames {n.UsedFrames:N0}");
        }
    }

    public void Dispose()
    {
        _channels?.Dispose();
        foreach (var n in _nodes) n.Dispose();
    }
}
