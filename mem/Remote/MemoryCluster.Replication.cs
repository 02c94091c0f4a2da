using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// Replication and failover. With two replicas every vRegion has a primary (which serves its fills) and a
/// backup; write-backs go to both and count as done once both answered. Every node holds each space with all
/// its VMAs and its break, so when a node fails any survivor can become a space's home, and each region it
/// held as primary continues on its backup. A survivor with room then becomes the region's new backup: it
/// receives every write-back from that moment on, and a <see cref="RegionCopy"/> fills in the rest from the
/// primary in the background. Failures are handled only at points where no reply is pending on any link
/// (<see cref="FailOverBroken"/>), so a retried request never reads another's answer.
/// </summary>
public sealed partial class MemoryCluster
{
    readonly int _replicas;
    /// <summary>Nodes given up: never used again.</summary>
    readonly bool[] _dead;
    /// <summary>vRegions each node was given as primary and as backup (placements and failovers), for --stats.</summary>
    readonly int[] _asPrimary, _asBackup;
    /// <summary>Held while VMAs change and while a region copy moves a chunk, so a copy never revives unmapped pages.</summary>
    readonly object _vmaLock = new();
    /// <summary>Replicated write-backs still waiting for one of their two answers, by cache token.</summary>
    readonly Dictionary<int, int> _pendingAcks = new();
    readonly HashSet<int> _failedAcks = new();
    /// <summary>Copies made by failovers, started once their source has stored everything sent before.</summary>
    readonly List<RegionCopy> _toStart = new();
    readonly List<RegionCopy> _copies = new();
    int _failovers;
    /// <summary>Heartbeats on links the guest leaves idle (replicated clusters only).</summary>
    NodeWatch? _watch;
    long _suspectsSeen;

    bool Replicated => _replicas > 1;

    /// <summary>Copies of each vRegion (1, or 2 with a backup).</summary>
    public int Replicas => _replicas;

    /// <summary>Nodes this component has given up after they failed.</summary>
    public int FailedNodes => _dead.Count(d => d);

    bool Live(int n) => !_dead[n] && !_nodes[n].IsBroken;

    IEnumerable<int> LiveNodes()
    {
        for (int n = 0; n < _nodes.Length; n++)
            if (Live(n)) yield return n;
    }

    /// <summary>The answer of a node that failed (see <see cref="Broadcast"/>).</summary>
    const long Failed = long.MinValue;

    delegate long ReplyReader(ref FrameReader r);

    static long ReadI32(ref FrameReader r) => r.I32();
    static long ReadI64(ref FrameReader r) => r.I64();
    static long ReadU64(ref FrameReader r) => (long)r.U64();

    /// <summary>
    /// Sends one request to each of <paramref name="targets"/>, pipelined, then reads every answer. A node that fails
    /// on the way answers <see cref="Failed"/>; afterwards it is failed over (without replication that ends the run,
    /// as before), unless <paramref name="failOver"/> is false (tear-down, where nothing is left to save).
    /// </summary>
    long[] Broadcast(IReadOnlyList<int> targets, Op op, Action<FrameWriter> body, ReplyReader read, bool failOver = true)
    {
        var sent = new bool[targets.Count];
        var results = new long[targets.Count];
        for (int i = 0; i < targets.Count; i++)
        {
            var node = _nodes[targets[i]];
            if (!Live(targets[i])) continue;
            try
            {
                body(node.Begin(op));
                node.Send();
                sent[i] = true;
            }
            catch (MemoryNodeFailure) when (node.IsBroken) { }
        }
        for (int i = 0; i < targets.Count; i++)
        {
            results[i] = Failed;
            if (!sent[i]) continue;
            var node = _nodes[targets[i]];
            try
            {
                var r = node.Receive();
                results[i] = read(ref r);
            }
            catch (MemoryNodeFailure) when (node.IsBroken) { }
        }
        if (failOver) FailOverBroken();
        return results;
    }

    /// <summary>A request to the space's home; when the home fails, the next holder takes over and is asked instead.</summary>
    FrameReader CallHome(SpaceInfo s, Op op, Action<FrameWriter> body)
    {
        while (true)
        {
            var node = _nodes[s.Home];
            try
            {
                body(node.Begin(op));
                return node.Call();
            }
            catch (MemoryNodeFailure) when (Replicated && node.IsBroken)
            {
                FailOverBroken();
            }
        }
    }

    /// <summary>
    /// Fails over every node whose link broke, then asks the new primaries of a coherent cache's regions to rebuild
    /// their line directories and starts the region copies that made. Without replication a broken link ends the run
    /// as before. Called only where no request of this component waits for its answer.
    /// </summary>
    void FailOverBroken()
    {
        TakeSuspects();
        while (true)
        {
            int d = -1;
            for (int i = 0; i < _nodes.Length; i++)
                if (!_dead[i] && _nodes[i].IsBroken) { d = i; break; }
            if (d >= 0)
            {
                FailNode(d);
                continue;
            }
            // Said only once every broken node is failed over: when two fail together, the run ends with one line. The others
            // are looked at first: one killed with the node just failed over may not have been talked to since.
            if (_failoverLines.Count > 0)
            {
                bool more = false;
                for (int i = 0; i < _nodes.Length; i++)
                    if (!_dead[i]) more |= _nodes[i].NoticeHangUp();
                if (more) continue;
            }
            foreach (var line in _failoverLines) Console.Error.WriteLine(line);
            _failoverLines.Clear();
            if (_rebuildAt.Count > 0)
            {
                var (to, failed) = _rebuildAt.First();
                _rebuildAt.Remove((to, failed));
                if (!Live(to)) continue; // failed too: its own failover decides what is lost
                try
                {
                    var w = _nodes[to].Begin(Op.Rebuild);
                    w.Str(_nodes[failed].Endpoint.Text);
                    _nodes[to].Call();
                }
                catch (MemoryNodeFailure) when (_nodes[to].IsBroken) { }
                continue;
            }
            if (_toStart.Count == 0) return;
            var batch = _toStart.ToArray();
            _toStart.Clear();
            // A barrier: once the source answers this, it has stored every write-back sent to it before the failover,
            // which the copy must see; later ones reach the new backup directly.
            foreach (int source in batch.Where(c => !c.Cancelled).Select(c => c.Source).Distinct())
            {
                try { _nodes[source].RefreshStats(); }
                catch (MemoryNodeFailure) when (_nodes[source].IsBroken) { }
            }
            foreach (var c in batch)
            {
                if (c.Cancelled) continue;
                if (!Live(c.Source) || !Live(c.Target)) _toStart.Add(c); // its failover comes first, and cancels it
                else c.Start();
            }
        }
    }

    /// <summary>Nodes the heartbeats found silent are given up like a link that timed out.</summary>
    void TakeSuspects()
    {
        TakeGone();
        if (_watch == null) return;
        long suspects = _watch.Suspects;
        if (suspects == _suspectsSeen) return;
        _suspectsSeen = suspects;
        for (int i = 0; i < _nodes.Length && i < 64; i++)
            if ((suspects & (1L << i)) != 0 && !_dead[i])
                _nodes[i].MarkBroken(new MemoryNodeFailure($"memory node {_nodes[i].Endpoint} (node {i}) did not answer within {NodeTimeout.Text} s (--node-timeout)"));
    }

    /// <summary>True when the heartbeats found a node silent that is not failed over yet (checked on the miss path).</summary>
    bool NewSuspects => (_watch != null && _watch.Suspects != _suspectsSeen) || Volatile.Read(ref _gone) != _goneSeen; // a plain load on x64: this runs on every miss

    void FailNode(int d)
    {
        var node = _nodes[d];
        var failure = node.Failure ?? new MemoryNodeFailure($"memory node {node.Endpoint} (node {d}) failed");
        if (!Replicated) throw new MemoryNodeFailure(failure.Message, failure);
        bool coherent = _channels != null;
        _dead[d] = true;
        node.Abandon(failure);
        _failovers++;
        NodeFailed?.Invoke(d, failure.Message);
        int live = _dead.Count(x => !x);
        // Two copies were asked for: with fewer nodes than that left, one more failure would lose memory unannounced.
        if (live < _replicas)
            throw Lost(failure, $"{live} of {_nodes.Length} memory nodes left, fewer than the {_replicas} copies --replicas asks for");
        SpaceInfo[] spaces;
        lock (_spaces) spaces = _spaces.Values.ToArray();
        int moved = 0, copying = 0;
        foreach (var s in spaces)
        {
            s.Nodes.Remove(d);
            if (s.Home == d)
            {
                s.Home = s.Nodes.Where(Live).DefaultIfEmpty(-1).First();
                if (s.Home < 0) throw Lost(failure, "no other memory node holds the guest's address space");
            }
            lock (s.Owners)
            {
                foreach (var region in s.Owners.Keys.ToArray())
                {
                    int placement = s.Owners[region];
                    int p = Placement.Primary(placement), b = Placement.Backup(placement);
                    if (p != d && b != d) continue;
                    moved++;
                    bool backupComplete = b >= 0 && b != d && (!s.Copies.TryGetValue(region, out var pending) || pending.Done);
                    if (s.Copies.Remove(region, out var copy)) copy.Cancel();
                    if (p == d)
                    {
                        if (!backupComplete) throw Lost(failure, $"vRegion 0x{region << GlobalMemoryManager.RegionShift:x} had no other complete copy");
                        p = b;
                        _asPrimary[p]++;
                        if (coherent)
                        {
                            // The line directory died with the primary: the new one rebuilds it from the caches.
                            _movedFrom.Add((s.Asid, region, d));
                            _rebuildAt.Add((p, d));
                        }
                    }
                    // A new backup where there is room; it takes write-backs at once, and the rest comes by copy. Not for
                    // coherent caches: each of the process's components fails over on its own, and they would have to
                    // agree on the new backup and on when its copy may start (each one's write-backs before it).
                    b = coherent ? -1 : PlaceBackup(p, n => s.Nodes.Contains(n) && Live(n));
                    if (b >= 0)
                    {
                        var c = new RegionCopy(_nodes[p].Endpoint, p, _nodes[b].Endpoint, b, s.Asid, s.Key, region, _vmaLock) { Finished = CopyEnded };
                        copying++;
                        s.Copies[region] = c;
                        _toStart.Add(c);
                        lock (_copies) _copies.Add(c);
                        _asBackup[b]++;
                    }
                    s.Owners[region] = Placement.Pack(p, b);
                    RegionPlaced?.Invoke(s.Asid, region, s.Owners[region]);
                }
            }
        }
        AnnounceFailover(failure, moved, copying);
    }

    /// <summary>When the copies of the current failovers began (a Stopwatch timestamp), for the line that ends them.</summary>
    long _copiesSince;
    /// <summary>Failovers not yet told (see <see cref="FailOverBroken"/>).</summary>
    readonly List<string> _failoverLines = new();
    /// <summary>Copies already counted in a line saying every vRegion has its copies again.</summary>
    int _copiesAnnounced;

    /// <summary>
    /// The run goes on after a node failed, so the user hears of it at once and not only from --stats at exit: a
    /// second failure before the new backups are complete would lose memory, and the line that ends the copies says
    /// when that risk is over (and how long it lasted).
    /// </summary>
    void AnnounceFailover(MemoryNodeFailure failure, int moved, int copying)
    {
        string next = copying > 0 ? $"{copying} of the {moved} vRegions it held {(copying == 1 ? "is" : "are")} being copied to a new backup"
            : moved > 0 ? $"the {moved} vRegions it held have one copy from now on" : "it held none of this process's vRegions";
        _failoverLines.Add($"legoemu: {failure.Message}; the guest goes on with the other copies; {next}");
        if (copying > 0)
            lock (_copies)
                if (_copiesSince == 0) _copiesSince = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <summary>On a copy's thread: once no copy runs or waits to start any more, says how the copies ended.</summary>
    void CopyEnded(RegionCopy _)
    {
        string line;
        lock (_copies)
        {
            foreach (var c in _copies)
                if (!c.Ended) return;
            if (_copies.Count == _copiesAnnounced) return;
            int done = 0, failed = 0;
            long pages = 0;
            string? error = null;
            for (int i = _copiesAnnounced; i < _copies.Count; i++)
            {
                var c = _copies[i];
                pages += c.Pages;
                if (c.Done) done++;
                else if (c.Error != null) { failed++; error ??= c.Error; }
            }
            double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(_copiesSince).TotalSeconds;
            line = failed == 0
                ? $"legoemu: every vRegion has {_replicas} copies again: {done} copied to a new backup ({pages:N0} pages) in {seconds:F1} s"
                : $"legoemu: {failed} of {_copies.Count - _copiesAnnounced} vRegion copies failed, those vRegions keep one copy: {error}";
            _copiesAnnounced = _copies.Count;
            _copiesSince = 0;
        }
        Console.Error.WriteLine(line);
    }

    /// <summary>Regions whose primary failed while this cache was coherent: (space, vRegion, the failed node).</summary>
    readonly HashSet<(int Asid, ulong Region, int Failed)> _movedFrom = new();
    /// <summary>New primaries still to be told which failed node's directory they take over (see <see cref="Op.Rebuild"/>).</summary>
    readonly HashSet<(int To, int Failed)> _rebuildAt = new();
    /// <summary>Rebuilds this component answered, and the dirty lines it handed back for them.</summary>
    long _rebuildsAnswered, _linesHandedBack;

    bool MarkedBroken()
    {
        for (int i = 0; i < _nodes.Length; i++)
            if (!_dead[i] && _nodes[i].IsBroken) return true;
        return false;
    }

    /// <summary>
    /// A node asks for the lines of the regions <paramref name="failed"/> was primary of and it took over (its backup).
    /// That node is given up here too, if this component had not noticed yet, so no line comes from it any more; then
    /// every such line leaves the cache, the dirty ones to the asking node. A region counts whether this component
    /// has already failed it over (it remembers) or not (its table still names the failed node as primary).
    /// </summary>
    void HandBackMoved(ICoherenceTarget cache, MemoryNodeClient from, string failed, LineSink sink)
    {
        int e = Array.FindIndex(_nodes, n => n.Endpoint.Text == failed);
        if (e < 0 || e == from.Index) return;
        if (!_dead[e]) _nodes[e].MarkBroken(new MemoryNodeFailure($"memory node {_nodes[e].Endpoint} (node {e}) failed: its regions went on at {from.Endpoint}"));
        int to = from.Index;
        _rebuildsAnswered++;
        cache.DropMoved((asid, addr) =>
        {
            SpaceInfo? s;
            lock (_spaces) if (!_spaces.TryGetValue(asid, out s)) return false;
            ulong region = addr >> GlobalMemoryManager.RegionShift;
            lock (s.Owners)
            {
                if (!s.Owners.TryGetValue(region, out int placement)) return false;
                int p = Placement.Primary(placement);
                return p == e ? Placement.Backup(placement) == to : p == to && _movedFrom.Contains((asid, region, e));
            }
        }, (asid, addr, data) =>
        {
            _linesHandedBack++;
            sink(asid, addr, data);
        });
    }

    readonly FrameWriter _backupLine = new((int)PageMath.PageSize + 64);

    /// <summary>
    /// A dirty line goes to another component through its directory (an invalidation's answer): its backup gets the
    /// bytes first, so the line survives its primary. They go on the callback channel, which has no replies: this runs
    /// inside waits for other answers, and a request on the main connection would be answered before a parked fill
    /// sent ahead of it. The bytes leave before the invalidation's answer does, long before anyone can write the line again.
    /// </summary>
    void HandOverToBackup(int asid, ulong lineAddr, ReadOnlySpan<byte> data)
    {
        int b = Placement.Backup(PlacementOf(asid, lineAddr));
        if (b < 0 || !Live(b) || _nodes[b].Callback == null) return;
        _backupLine.Begin((byte)Op.BackupLine, 0);
        _backupLine.I32(asid);
        _backupLine.U64(lineAddr);
        _backupLine.Bytes(data);
        try { _nodes[b].SendOnCallback(_backupLine.Finish()); }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException or IOException)
        {
            _nodes[b].MarkBroken(new MemoryNodeFailure($"memory node {_nodes[b].Endpoint} (node {b}) failed: {e.Message}", e));
        }
    }

    static MemoryNodeFailure Lost(MemoryNodeFailure failure, string what) => new($"{failure.Message}; {what}", failure);

    /// <summary>brk over replicated nodes: each node moves its own break, so any of them can take over as home.</summary>
    ulong BrkReplicated(SpaceInfo s, int asid, ulong newBreak)
    {
        ulong r = CallHome(s, Op.Brk, w => { w.I32(asid); w.U64(newBreak); }).U64();
        Broadcast(s.Nodes.Where(n => n != s.Home).ToList(), Op.Brk, w => { w.I32(asid); w.U64(newBreak); }, ReadU64);
        ulong oldTop = PageMath.Up(s.Brk), newTop = PageMath.Up(r);
        if (newTop > oldTop)
        {
            foreach (var region in Regions(oldTop, newTop))
            {
                if (Owner(s, asid, region, place: true) >= 0) continue;
                // No node can hold the new heap region: undo the growth, as a failed brk leaves the break alone.
                ulong old = s.Brk;
                Broadcast(s.Nodes.ToList(), Op.Brk, w => { w.I32(asid); w.U64(old); }, ReadU64);
                return s.Brk;
            }
        }
        s.Brk = r;
        return r;
    }

    /// <summary>Waits until every region of <paramref name="s"/> being copied has its new backup complete.</summary>
    void WaitForCopies(SpaceInfo s)
    {
        RegionCopy[] copies;
        lock (s.Owners) copies = s.Copies.Values.ToArray();
        foreach (var c in copies) c.Wait();
        lock (s.Owners)
            foreach (var (region, c) in s.Copies.ToArray())
                if (c.Done) s.Copies.Remove(region);
    }

    /// <summary>Stops the copies of a space that goes away (their connections hold it on the nodes).</summary>
    void StopCopies(SpaceInfo s)
    {
        RegionCopy[] copies;
        lock (s.Owners) copies = s.Copies.Values.ToArray();
        foreach (var c in copies) c.Cancel();
        foreach (var c in copies) c.Wait();
    }

    void StopAllCopies()
    {
        _watch?.Dispose();
        RegionCopy[] copies;
        lock (_copies) copies = _copies.ToArray();
        foreach (var c in copies) c.Cancel();
        foreach (var c in copies) c.Wait();
    }

    void ReportReplication(TextWriter w)
    {
        RegionCopy[] copies;
        lock (_copies) copies = _copies.ToArray();
        long pages = copies.Sum(c => c.Pages);
        int done = copies.Count(c => c.Done);
        w.WriteLine($"legoemu: replication: {_replicas} copies of each vRegion; memory nodes failed {FailedNodes}, failovers {_failovers}; " +
                    $"vRegions copied to a new backup {done} of {copies.Length} ({pages:N0} pages)" +
                    (_channels != null ? $"; line directories rebuilt {_rebuildsAnswered} ({_linesHandedBack:N0} dirty lines handed back)" : "") +
                    string.Concat(copies.Where(c => c.Error != null).Select(c => $"; a copy failed: {c.Error}")));
    }
}
