using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// The memory side of a processor component talking to memory-node processes. Each address space
/// has a home node that decides VMA placement; every 1 GiB vRegion has an owner node (chosen by the
/// <see cref="GlobalMemoryManager"/> on first use) that holds its frames and a copy of the VMAs over
/// it. The vRegion→owner table is cached here, so misses and write-backs go straight to the owner.
/// With replication (<see cref="Replication.Factor"/> 2) every region has a primary and a backup node and
/// every node holds the whole VMA set of each space; see MemoryCluster.Replication.cs.
/// </summary>
public sealed partial class MemoryCluster : ICoherentMemory, IPipelinedMemory, IAsyncReplies, INodeLocator, IDisposable
{
    sealed class SpaceInfo(int asid, int home, ulong key)
    {
        public readonly int Asid = asid;
        /// <summary>The secret that lets another component claim this space on a node (see MemoryNodeServer.Spaces.cs).</summary>
        public readonly ulong Key = key;
        public readonly Dictionary<ulong, int> Owners = new();
        public readonly HashSet<int> Nodes = new() { home };
        public ulong Brk;
        /// <summary>Regions being copied to a new backup after a node failed (guarded by <see cref="Owners"/>).</summary>
        public readonly Dictionary<ulong, RegionCopy> Copies = new();
        /// <summary>The node that decides VMA placement; another holder takes over when it fails (replicated spaces).</summary>
        public int Home = home;
    }

    readonly MemoryNodeClient[] _nodes;
    readonly GlobalMemoryManager _gmm;
    readonly Dictionary<int, SpaceInfo> _spaces = new();
    readonly Random _asidSource = new();

    /// <param name="replicas">Copies of each vRegion; <see cref="Replication.Factor"/> when not given.</param>
    public MemoryCluster(IReadOnlyList<Endpoint> endpoints, int? replicas = null)
    {
        if (endpoints.Count == 0) throw new ArgumentException("a memory cluster needs at least one node");
        _deliverLocalPrefetches = () => DeliverLocalPrefetches();
        _replicas = Math.Min(replicas ?? Replication.Factor, endpoints.Count);
        _dead = new bool[endpoints.Count];
        _asPrimary = new int[endpoints.Count];
        _asBackup = new int[endpoints.Count];
        _nodes = new MemoryNodeClient[endpoints.Count];
        try
        {
            for (int i = 0; i < endpoints.Count; i++)
            {
                // Replicated regions keep every write-back a message: the backup must see it too.
                int node = i;
                try
                {
                    _nodes[i] = new MemoryNodeClient(endpoints[i], i, grants: _replicas <= 1)
                    {
                        Async = this,
                        Revoking = _deliverLocalPrefetches,
                        FramesRevoked = (asid, start, end) => Target?.FramesRevoked(node, asid, start, end),
                    };
                }
                // Replicated, a node that failed before this component started (a process forked after a failover) is
                // left out from the start, as long as enough others are there for the copies asked for.
                catch (MemoryNodeFailure e) when (_replicas > 1)
                {
                    _nodes[i] = MemoryNodeClient.Unreachable(endpoints[i], i, e);
                    _dead[i] = true;
                }
            }
            int live = _dead.Count(d => !d);
            if (live < _replicas)
                throw new MemoryNodeFailure($"{_nodes.First(n => n.IsBroken).Failure!.Message}; {live} of {_nodes.Length} memory nodes left, fewer than the {_replicas} copies --replicas asks for");
        }
        catch
        {
            foreach (var n in _nodes) n?.Dispose();
            throw;
        }
        _gmm = new GlobalMemoryManager(_nodes, n => !_dead[n]);
        if (Replicated) _watch = new NodeWatch(endpoints);
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
                var info = new SpaceInfo(asid, home, key);
                // Replicated: every node holds the space and all its VMAs, so any of them can become home or backup.
                if (Replicated)
                {
                    var others = LiveNodes().Where(n => n != home).ToList();
                    var made = Broadcast(others, Op.CreateSpace, w => { w.I32(asid); w.U64(key); }, ReadI32);
                    for (int i = 0; i < others.Count; i++)
                        if (made[i] > 0) info.Nodes.Add(others[i]);
                }
                lock (_spaces) _spaces[asid] = info;
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
        StopCopies(s);
        Broadcast(s.Nodes.ToList(), Op.DestroySpace, w => w.I32(asid), ReadI32, failOver: false);
    }

    public int ForkAddressSpace(int asid, int requestedAsid = 0)
    {
        var s = Space(asid);
        // A region still being copied to its new backup would be forked there half copied.
        WaitForCopies(s);
        int child = requestedAsid != 0 ? requestedAsid : _asidSource.Next(1, int.MaxValue);
        ulong key = SpaceKeys.New();
        var targets = s.Nodes.ToList();
        var made = Broadcast(targets, Op.ForkSpace, w => { w.I32(asid); w.I32(child); w.U64(key); }, ReadI32);
        int result = child;
        var holders = new HashSet<int>();
        for (int i = 0; i < targets.Count; i++)
        {
            if (made[i] == Failed) continue; // a node that failed meanwhile: the copy lives on the others
            if (made[i] < 0) result = (int)made[i];
            else holders.Add(targets[i]);
        }
        if (result < 0) return result;
        var c = new SpaceInfo(child, s.Home, key) { Brk = s.Brk };
        lock (s.Owners)
            foreach (var (region, placement) in s.Owners)
            {
                // A backup whose copy had not finished when a node failed during the fork holds nothing of the child's.
                int p = Placement.Primary(placement), b = Placement.Backup(placement);
                if (b >= 0 && (s.Copies.ContainsKey(region) || !holders.Contains(b))) b = -1;
                c.Owners[region] = _replicas > 1 || b >= 0 ? Placement.Pack(p, b) : p;
            }
        c.Nodes.UnionWith(holders);
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
        var s = new SpaceInfo(asid, home, key) { Brk = brk };
        foreach (var (region, placement) in owners)
        {
            int p = Placement.Primary(placement), b = Placement.Backup(placement);
            if (p < 0 || p >= _nodes.Length || b >= _nodes.Length)
                throw new MemoryNodeFailure($"vRegion placement {placement} is not on the {_nodes.Length} memory nodes");
            s.Owners[region] = placement;
            s.Nodes.Add(p);
            if (b >= 0) s.Nodes.Add(b);
        }
        if (home < 0 || home >= _nodes.Length) throw new MemoryNodeFailure($"home node {home} is not one of the {_nodes.Length} memory nodes");
        foreach (int n in s.Nodes) Claim(n, asid, key);
        // Replicated spaces live on every node (any of them may become home or a new backup): hold it wherever it is.
        if (Replicated)
            for (int n = 0; n < _nodes.Length; n++)
                if (!s.Nodes.Contains(n) && !_dead[n] && _nodes[n].ClaimSpace(asid, key) == 0) s.Nodes.Add(n);
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
        StopCopies(s);
        Broadcast(s.Nodes.ToList(), Op.ReleaseSpace, w => w.I32(asid), ReadI32, failOver: false);
    }

    /// <summary>The node serving the vRegion of <paramref name="addr"/> (its primary), or -1. Safe from any thread.</summary>
    public int NodeOf(int asid, ulong addr) => Placement.Primary(PlacementOf(asid, addr));

    /// <summary>Where the vRegion of <paramref name="addr"/> lives (see <see cref="Placement"/>), or -1. Safe from any thread (a link's reader answers region queries).</summary>
    public int PlacementOf(int asid, ulong addr)
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

    /// <summary>Learns a vRegion's placement (a thread host hears of placements from its home component).</summary>
    public void SetOwner(int asid, ulong region, int placement)
    {
        var s = Space(asid);
        int p = Placement.Primary(placement), b = Placement.Backup(placement);
        if (p < 0 || p >= _nodes.Length || b >= _nodes.Length) throw new ProtocolException($"vRegion placement {placement} is not on the {_nodes.Length} memory nodes");
        // Placed by another component of the process: this one may use the space there once it has claimed it.
        foreach (int n in b >= 0 ? [p, b] : new[] { p })
        {
            if (!s.Nodes.Contains(n)) Claim(n, asid, s.Key);
            s.Nodes.Add(n);
        }
        lock (s.Owners) s.Owners[region] = placement;
    }

    /// <summary>A copy of the vRegion→owner table of one space.</summary>
    public Dictionary<ulong, int> OwnersOf(int asid)
    {
        var s = Space(asid);
        lock (s.Owners) return new Dictionary<ulong, int>(s.Owners);
    }

    /// <summary>The placement of a vRegion (see <see cref="Placement"/>), placing it on first use; -1 when no node has room.</summary>
    int Owner(SpaceInfo s, int asid, ulong region, bool place)
    {
        if (s.Owners.TryGetValue(region, out int n)) return n;
        if (!place)
        {
            if (UnknownRegion == null) return -1;
            n = UnknownRegion(asid, region);
            int p = Placement.Primary(n), b = Placement.Backup(n);
            if (p < 0 || p >= _nodes.Length || b >= _nodes.Length) return -1;
            // Another component placed the region: this one holds the space there only once it has claimed it.
            foreach (int k in b >= 0 ? [p, b] : new[] { p })
            {
                if (!s.Nodes.Contains(k)) Claim(k, asid, s.Key);
                s.Nodes.Add(k);
            }
            lock (s.Owners) s.Owners[region] = n;
            return n;
        }
        // Replicated spaces are on every node already; a node that could not take one is not used for it.
        Func<int, bool>? holds = Replicated ? k => s.Nodes.Contains(k) : null;
        n = _gmm.Place(allowed: holds);
        if (n < 0 || !Holds(s, asid, n)) return -1;
        int backup = -1;
        if (Replicated)
        {
            backup = PlaceBackup(n, holds);
            if (backup >= 0 && !Holds(s, asid, backup)) backup = -1;
            _asPrimary[n]++;
            if (backup >= 0) _asBackup[backup]++;
        }
        int placement = Replicated ? Placement.Pack(n, backup) : n;
        lock (s.Owners) s.Owners[region] = placement;
        RegionPlaced?.Invoke(asid, region, placement);
        return placement;
    }

    /// <summary>Makes sure <paramref name="node"/> holds the space (creating or claiming it there); false when it cannot.</summary>
    bool Holds(SpaceInfo s, int asid, int node)
    {
        if (s.Nodes.Contains(node)) return true;
        int r = _nodes[node].CreateSpace(asid, s.Key);
        if (r == -Errno.EEXIST) r = _nodes[node].ClaimSpace(asid, s.Key); // another component of this process was first
        if (r < 0) return false;
        s.Nodes.Add(node);
        return true;
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
            if (n >= 0 && Placement.Primary(n) != s.Home) targets.Add(Placement.Primary(n));
        }
        // Replicated: every node holding the space keeps all of its VMAs.
        if (Replicated) targets = s.Nodes.Where(n => n != s.Home).ToHashSet();
        Broadcast(targets.ToList(), op, body, ReadI64);
    }

    public long Map(int asid, ulong addr, ulong length, Protection prot, MapFlags flags, string name)
    {
        var s = Space(asid);
        lock (_vmaLock) return MapLocked(s, asid, addr, length, prot, flags, name);
    }

    long MapLocked(SpaceInfo s, int asid, ulong addr, ulong length, Protection prot, MapFlags flags, string name)
    {
        long r = CallHome(s, Op.Map, w => WriteMap(w, asid, addr, length, prot, flags, name)).I64();
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
            if (Owner(s, asid, region, place: false) is int n and >= 0) targets.Add(Placement.Primary(n));
        if (Replicated) targets = s.Nodes.ToHashSet();
        long result = 0;
        lock (_vmaLock)
            foreach (long r in Broadcast(targets.ToList(), Op.Share, Body, ReadI64))
                if (r != Failed) result = r < 0 || result < 0 ? Math.Min(result, r) : Math.Max(result, r);
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
        lock (_vmaLock)
        {
            long r = CallHome(s, op, Body).I64();
            if (r == 0 && length > 0 && addr + length > addr)
                Replicate(s, asid, addr, Math.Min(PageMath.Up(addr + length), VmaSet.TaskSize), Body, op, place: false);
            return r;
        }
    }

    public void SetBrkBase(int asid, ulong brkBase)
    {
        var s = Space(asid);
        void Body(FrameWriter w)
        {
            w.I32(asid);
            w.U64(brkBase);
        }
        // Replicated: every node keeps the break too, so any of them can take over as home.
        if (Replicated) Broadcast(s.Nodes.ToList(), Op.SetBrkBase, Body, ReadI64);
        else CallHome(s, Op.SetBrkBase, Body);
        s.Brk = brkBase;
    }

    public ulong Brk(int asid, ulong newBreak)
    {
        var s = Space(asid);
        if (newBreak == 0) return s.Brk;
        lock (_vmaLock) return Replicated ? BrkReplicated(s, asid, newBreak) : BrkLocked(s, asid, newBreak);
    }

    ulong BrkLocked(SpaceInfo s, int asid, ulong newBreak)
    {
        ulong r = CallHome(s, Op.Brk, w => { w.I32(asid); w.U64(newBreak); }).U64();
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
                CallHome(s, Op.Brk, u => { u.I32(asid); u.U64(s.Brk); });
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
        if (NewSuspects) FailOverBroken();
        while (true)
        {
            int n = Placement.Primary(Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false));
            if (n < 0) { prot = Protection.None; return FillStatus.Unmapped; }
            var node = _nodes[n];
            if (FillOneSided(node, asid, lineAddr, destination, out prot)) return FillStatus.Data;
            try
            {
                var w = node.Begin(Op.Fill);
                w.I32(asid);
                w.U64(lineAddr);
                w.U32((uint)destination.Length);
                var r = node.Call();
                node.Stats.Fills++;
                var status = ReadFill(ref r, destination, out prot, lineAddr);
                node.TakeGrant(ref r, asid, lineAddr, prot, destination.Length);
                return status;
            }
            catch (MemoryNodeFailure) when (Replicated && node.IsBroken)
            {
                FailOverBroken(); // the backup, promoted, serves the retry
            }
        }
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
            Cache.LineBytes.Copy(data, destination);
            Stats.BytesOut += data.Length;
        }
        else Cache.LineBytes.Zero(destination);
        Stats.Fills++;
        if (status == FillStatus.Zero) Stats.ZeroFills++;
        return status;
    }

    public void WriteBack(int asid, ulong lineAddr, ReadOnlySpan<byte> data)
    {
        var s = Space(asid);
        int placement = Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        if (placement < 0) return; // the mapping is gone: nothing to keep
        if (!Replicated && WriteBackOneSided(_nodes[placement], asid, lineAddr, data)) return;
        int p = Placement.Primary(placement), b = Placement.Backup(placement);
        // Both copies are sent before either answer is read: a replicated write-back costs one round trip.
        bool sentP = SendWriteBack(p, asid, lineAddr, data), sentB = b >= 0 && SendWriteBack(b, asid, lineAddr, data);
        int err = 0;
        if (sentP) err = Math.Min(err, ReceiveI32(p));
        if (sentB) err = Math.Min(err, ReceiveI32(b));
        FailOverBroken();
        Stats.WriteBacks++;
        Stats.BytesIn += data.Length;
        if (err < 0) throw new MemoryFault(lineAddr, AccessKind.Write, FaultReason.NoMemory);
    }

    bool SendWriteBack(int n, int asid, ulong lineAddr, ReadOnlySpan<byte> data)
    {
        if (!Live(n)) return false;
        var node = _nodes[n];
        try
        {
            var w = node.Begin(Op.WriteBack);
            w.I32(asid);
            w.U64(lineAddr);
            w.Bytes(data);
            node.WriteBacksSent++;
            node.Send();
            node.Stats.WriteBacks++;
            return true;
        }
        catch (MemoryNodeFailure) when (node.IsBroken) { return false; }
    }

    /// <summary>The I32 answer of node <paramref name="n"/>'s oldest request; 0 when the node failed (the caller fails it over).</summary>
    int ReceiveI32(int n)
    {
        try { return _nodes[n].Receive().I32(); }
        catch (MemoryNodeFailure) when (_nodes[n].IsBroken) { return 0; }
    }

    public FillStatus WriteBackAndFill(int asid, ulong victimAddr, ReadOnlySpan<byte> victim, ulong lineAddr, Span<byte> destination,
        out Protection prot, out bool combined)
    {
        var s = Space(asid);
        int vn = Owner(s, asid, victimAddr >> GlobalMemoryManager.RegionShift, place: false);
        int fn = Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        // A replicated victim goes to two nodes: it travels on its own. So does one copied into its granted frame.
        if (vn < 0 || fn < 0 || vn != fn || Replicated || _nodes[vn].HoldsGrant(asid, victimAddr))
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
        var status = ReadFill(ref r, destination, out prot, lineAddr);
        node.TakeGrant(ref r, asid, lineAddr, prot, destination.Length);
        return status;
    }

    // ---- pipelined requests: write-backs nobody waits for, fills ahead of the guest ----

    public IPipelinedTarget? Target { get; set; }

    int KnownOwner(int asid, ulong lineAddr)
    {
        SpaceInfo? s;
        lock (_spaces) if (!_spaces.TryGetValue(asid, out s)) return -1;
        lock (s.Owners) return s.Owners.TryGetValue(lineAddr >> GlobalMemoryManager.RegionShift, out int n) ? Placement.Primary(n) : -1;
    }

    public bool QueueWriteBack(int asid, ulong lineAddr, ReadOnlySpan<byte> data, int token)
    {
        var s = Space(asid);
        int placement = Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        if (placement < 0) return false; // the mapping is gone: nothing to keep
        if (!Replicated)
        {
            // Copied into its granted frame: acknowledged at once, as the node would once it had stored it.
            if (WriteBackOneSided(_nodes[placement], asid, lineAddr, data)) Target!.WriteBackAcknowledged(token, false);
            else QueueWriteBackOn(_nodes[placement], asid, lineAddr, data, token);
            return true;
        }
        QueueWriteBackPair(placement, asid, lineAddr, data, token);
        FailOverBroken();
        return true;
    }

    /// <summary>
    /// Queues a replicated write-back on the region's primary and backup; the cache hears of it once both have
    /// answered (or failed, their copy living on in the other). Never fails over: a caller may have a reply pending.
    /// </summary>
    void QueueWriteBackPair(int placement, int asid, ulong lineAddr, ReadOnlySpan<byte> data, int token)
    {
        int p = Placement.Primary(placement), b = Placement.Backup(placement);
        bool toP = Live(p), toB = b >= 0 && Live(b);
        if (!toP && !toB)
        {
            // Both copies are gone: the next failover ends the run; the cache must not wait for this one meanwhile.
            Target!.WriteBackAcknowledged(token, true);
            return;
        }
        if (toP && toB) _pendingAcks[token] = 2;
        if (toP) TryQueueWriteBack(_nodes[p], asid, lineAddr, data, token);
        if (toB) TryQueueWriteBack(_nodes[b], asid, lineAddr, data, token);
    }

    void TryQueueWriteBack(MemoryNodeClient node, int asid, ulong lineAddr, ReadOnlySpan<byte> data, int token)
    {
        // The request is in flight even when the batch's send fails: the failover hands it back as abandoned.
        try { QueueWriteBackOn(node, asid, lineAddr, data, token); }
        catch (MemoryNodeFailure) when (node.IsBroken) { }
    }

    void QueueWriteBackOn(MemoryNodeClient node, int asid, ulong lineAddr, ReadOnlySpan<byte> data, int token)
    {
        var w = node.Begin(Op.WriteBack);
        w.I32(asid);
        w.U64(lineAddr);
        w.Bytes(data);
        node.WriteBacksSent++;
        node.Stats.WriteBacks++;
        Stats.WriteBacks++;
        Stats.BytesIn += data.Length;
        node.QueueAsync(AsyncReply.WriteBack, token, asid, lineAddr);
    }

    public int QueuePrefetch(int asid, ulong lineAddr, int size, int token)
    {
        // Only regions already placed: a prefetch never asks another component where a region lives.
        int n = KnownOwner(asid, lineAddr);
        if (n < 0 || !Live(n)) return -1;
        var node = _nodes[n];
        if (QueueLocalPrefetch(node, asid, lineAddr, size, token)) return n;
        var w = node.Begin(Op.Fill);
        w.I32(asid);
        w.U64(lineAddr);
        w.U32((uint)size);
        node.Stats.Fills++;
        try { node.QueueAsync(AsyncReply.Fill, token, asid, lineAddr); }
        catch (MemoryNodeFailure) when (Replicated && node.IsBroken) { } // abandoned at the failover: the line is fetched again on demand
        return n;
    }

    public void FlushQueued()
    {
        DeliverLocalPrefetches();
        for (int i = 0; i < _nodes.Length; i++)
        {
            if (_dead[i]) continue;
            try { _nodes[i].Flush(); }
            catch (MemoryNodeFailure) when (Replicated && _nodes[i].IsBroken) { }
        }
        if (Replicated) FailOverBroken();
    }

    public FillStatus FillThenWriteBack(int asid, ulong lineAddr, Span<byte> destination, out Protection prot,
        int victimAsid, ulong victimAddr, ReadOnlySpan<byte> victim, int token, out bool queued)
    {
        if (Replicated) return FillThenWriteBackReplicated(asid, lineAddr, destination, out prot, victimAsid, victimAddr, victim, token, out queued);
        var s = Space(asid);
        int fn = Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        SpaceInfo? vs = s;
        if (victimAsid != asid) lock (_spaces) _spaces.TryGetValue(victimAsid, out vs);
        int vn = vs != null ? Owner(vs, victimAsid, victimAddr >> GlobalMemoryManager.RegionShift, place: false) : -1;
        queued = vn >= 0;
        // A victim copied into its granted frame is done with: acknowledged at once, and nothing goes behind the fill.
        bool message = queued;
        if (queued && WriteBackOneSided(_nodes[vn], victimAsid, victimAddr, victim))
        {
            Target!.WriteBackAcknowledged(token, false);
            message = false;
        }
        if (fn < 0)
        {
            if (message) QueueWriteBackOn(_nodes[vn], victimAsid, victimAddr, victim, token);
            FlushQueued();
            prot = Protection.None;
            return FillStatus.Unmapped;
        }
        var node = _nodes[fn];
        if (FillOneSided(node, asid, lineAddr, destination, out prot))
        {
            // The victim's write-back waits in its link's batch for the next request to that node (or a full batch): the
            // line is in the cache's write-back queue, which serves its fills until the node has acknowledged it.
            if (message) QueueWriteBackOn(_nodes[vn], victimAsid, victimAddr, victim, token);
            return FillStatus.Data;
        }
        var w = node.Begin(Op.Fill);
        w.I32(asid);
        w.U64(lineAddr);
        w.U32((uint)destination.Length);
        node.Queue();
        // Behind the fill, in the same send: the node answers the fill before it stores the victim.
        if (message) QueueWriteBackOn(_nodes[vn], victimAsid, victimAddr, victim, token);
        if (message && vn != fn) _nodes[vn].Flush();
        var r = node.Receive();
        node.Stats.Fills++;
        var status = ReadFill(ref r, destination, out prot, lineAddr);
        node.TakeGrant(ref r, asid, lineAddr, prot, destination.Length);
        return status;
    }

    /// <summary>
    /// <see cref="FillThenWriteBack"/> over replicated regions: the fill from the primary, the victim to both of its
    /// nodes behind it. A node that fails on the way is failed over once the fill's answer is in (or known lost),
    /// and a lost fill is asked again of the promoted backup.
    /// </summary>
    FillStatus FillThenWriteBackReplicated(int asid, ulong lineAddr, Span<byte> destination, out Protection prot,
        int victimAsid, ulong victimAddr, ReadOnlySpan<byte> victim, int token, out bool queued)
    {
        FailOverBroken();
        var s = Space(asid);
        int fn = Placement.Primary(Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false));
        SpaceInfo? vs = s;
        if (victimAsid != asid) lock (_spaces) _spaces.TryGetValue(victimAsid, out vs);
        int vpl = vs != null ? Owner(vs, victimAsid, victimAddr >> GlobalMemoryManager.RegionShift, place: false) : -1;
        queued = vpl >= 0;
        bool fillQueued = false;
        MemoryNodeClient? node = fn >= 0 ? _nodes[fn] : null;
        if (node != null && Live(fn))
        {
            try
            {
                var w = node.Begin(Op.Fill);
                w.I32(asid);
                w.U64(lineAddr);
                w.U32((uint)destination.Length);
                node.Queue();
                fillQueued = true;
            }
            catch (MemoryNodeFailure) when (node.IsBroken) { }
        }
        if (queued) QueueWriteBackPair(vpl, victimAsid, victimAddr, victim, token);
        for (int i = 0; i < _nodes.Length; i++)
        {
            if (i == fn || _dead[i]) continue;
            try { _nodes[i].Flush(); }
            catch (MemoryNodeFailure) when (_nodes[i].IsBroken) { }
        }
        if (fn < 0)
        {
            FailOverBroken();
            prot = Protection.None;
            return FillStatus.Unmapped;
        }
        if (fillQueued)
        {
            FillStatus status;
            try
            {
                var r = node!.Receive();
                node.Stats.Fills++;
                status = ReadFill(ref r, destination, out prot, lineAddr);
            }
            catch (MemoryNodeFailure) when (node!.IsBroken)
            {
                FailOverBroken();
                return Fill(asid, lineAddr, destination, out prot);
            }
            FailOverBroken();
            return status;
        }
        FailOverBroken();
        return Fill(asid, lineAddr, destination, out prot);
    }

    public void ReceiveOne(int node)
    {
        // Lines copied out of granted frames count as arrived first: the caller may wait for one of them.
        if (DeliverLocalPrefetches()) return;
        // A failed node's prefetches were handed back when it was failed over.
        if (_dead[node]) return;
        try { _nodes[node].ReceiveAsyncOne(); }
        catch (MemoryNodeFailure) when (Replicated && _nodes[node].IsBroken) { FailOverBroken(); }
    }

    public void DrainAll()
    {
        DeliverLocalPrefetches();
        for (int i = 0; i < _nodes.Length; i++)
        {
            if (_dead[i]) continue;
            try { _nodes[i].DrainAsync(); }
            catch (MemoryNodeFailure) when (Replicated && _nodes[i].IsBroken) { }
        }
        if (Replicated) FailOverBroken();
    }

    void IAsyncReplies.Arrived(MemoryNodeClient node, AsyncReply kind, int token, ref FrameReader r)
    {
        var target = Target ?? throw new InvalidOperationException("an asynchronous reply with nobody to take it");
        if (kind == AsyncReply.WriteBack)
        {
            int err = r.I32();
            if (err == 0) node.TakeWriteBackGrant(ref r);
            WriteBackAnswered(target, token, err < 0);
            return;
        }
        r.I32(); // a plain fill carries no write-back
        var status = (FillStatus)r.U8();
        var prot = (Protection)r.U8();
        var data = r.Bytes((int)PageMath.PageSize);
        node.TakeAsyncGrant(ref r, prot, data.Length);
        if (status == FillStatus.Data) Stats.BytesOut += data.Length;
        if (status != FillStatus.Unmapped)
        {
            Stats.Fills++;
            if (status == FillStatus.Zero) Stats.ZeroFills++;
        }
        target.PrefetchArrived(token, status, prot, status == FillStatus.Data ? data : default);
    }

    void IAsyncReplies.Abandoned(MemoryNodeClient node, AsyncReply kind, int token)
    {
        var target = Target ?? throw new InvalidOperationException("an asynchronous request with nobody to take it");
        // A write-back the failed node never acknowledged is held by the region's other copy.
        if (kind == AsyncReply.WriteBack) WriteBackAnswered(target, token, false);
        // A prefetch that will never come: the slot is dropped at its first lookup and the line fetched on demand.
        else target.PrefetchArrived(token, FillStatus.Unmapped, Protection.None, default);
    }

    /// <summary>A replicated write-back is acknowledged to the cache once both of its copies have answered.</summary>
    void WriteBackAnswered(IPipelinedTarget target, int token, bool failed)
    {
        if (_pendingAcks.TryGetValue(token, out int left))
        {
            if (failed) _failedAcks.Add(token);
            if (left > 1)
            {
                _pendingAcks[token] = left - 1;
                return;
            }
            _pendingAcks.Remove(token);
            failed |= _failedAcks.Remove(token);
        }
        target.WriteBackAcknowledged(token, failed);
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
        if (Replicated)
        {
            _channels.HandedOver = HandOverToBackup;
            _channels.Rebuild = (from, failed, sink) => HandBackMoved(target, from, failed, sink);
            _channels.ClosedMeansFailed = true;
        }
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
        if (Replicated && (NewSuspects || MarkedBroken())) FailOverBroken();
        while (true)
        {
            int n = Placement.Primary(Owner(s, asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false));
            if (n < 0) { prot = Protection.None; return FillStatus.Unmapped; }
            var node = _nodes[n];
            FrameReader r;
            try
            {
                var w = node.Begin(Op.CoherentFill);
                w.I32(asid);
                w.U64(lineAddr);
                w.U32((uint)destination.Length);
                w.U8(exclusive ? (byte)1 : (byte)0);
                r = node.Call();
            }
            catch (MemoryNodeFailure) when (Replicated && node.IsBroken)
            {
                FailOverBroken(); // the backup, promoted, rebuilds the line directory and serves the retry
                continue;
            }
            node.GrantsReceived++;
            node.Stats.Fills++;
            _channels?.AfterGrant();
            return ReadFill(ref r, destination, out prot, lineAddr);
        }
    }

    public FillStatus WriteBackAndFillCoherent(int victimAsid, ulong victimAddr, ReadOnlySpan<byte> victim, int asid, ulong lineAddr,
        Span<byte> destination, bool exclusive, out Protection prot, out bool combined)
    {
        int vn = victimAsid == asid ? Owner(Space(asid), asid, victimAddr >> GlobalMemoryManager.RegionShift, place: false) : -1;
        int fn = Owner(Space(asid), asid, lineAddr >> GlobalMemoryManager.RegionShift, place: false);
        // The directory lives at the primary; a replicated victim also goes to its backup, on its own.
        if (vn < 0 || fn < 0 || vn != fn || Placement.Backup(vn) >= 0)
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
            int placement = Owner(s, asid, region, place: true);
            if (placement < 0) throw new MemoryFault(addr, AccessKind.Write, FaultReason.NoMemory);
            var chunk = data[..n].ToArray();
            ulong at = addr;
            var nodes = new List<int> { Placement.Primary(placement) };
            if (Placement.Backup(placement) >= 0) nodes.Add(Placement.Backup(placement));
            foreach (long r in Broadcast(nodes, onlyAbsent ? Op.PokeAbsent : Op.Poke, w => { w.I32(asid); w.U64(at); w.Bytes(chunk); }, ReadI32))
                if (r < 0 && r != Failed) throw new MemoryFault(addr, AccessKind.Write, FaultReason.NoMemory);
            data = data[n..];
            addr += (ulong)n;
        }
    }

    public IReadOnlyList<Vma> Snapshot(int asid)
    {
        var s = Space(asid);
        var r = CallHome(s, Op.Snapshot, w => w.I32(asid));
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
            if (!_dead[n.Index]) try { n.RefreshStats(); } catch (MemoryNodeFailure) { }
            var st = n.Stats;
            string held = Replicated ? $"vRegions as primary {_asPrimary[n.Index]}, as backup {_asBackup[n.Index]}" : $"vRegions {_gmm.RegionsOn(n.Index)}";
            w.WriteLine($"legoemu: memory node {n.Index,-2} {n.Endpoint}: {(_dead[n.Index] ? "FAILED, " : "")}requests {st.Requests:N0}, fills {st.Fills:N0}, write-backs {st.WriteBacks:N0}, " +
                        $"bytes sent {st.BytesSent:N0} received {st.BytesReceived:N0}, latency p50 {st.Percentile(0.5):F1} us p99 {st.Percentile(0.99):F1} us, " +
                        $"{held}, frames {n.UsedFrames:N0}, " +
                        (n.MapsFrames ? $"one-sided fills {st.OneSidedFills:N0} write-backs {st.OneSidedWriteBacks:N0} (grants revoked {st.Revocations:N0} times), " : "") +
                        $"over {n.Transport}");
        }
        if (Replicated) ReportReplication(w);
    }

    public void Dispose()
    {
        StopAllCopies();
        _channels?.Dispose();
        foreach (var n in _nodes) n.Dispose();
    }
}
