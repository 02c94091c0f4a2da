using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Remote;
using LegoEmu.Syscalls.Split;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// Threads of this process on other processor components (the Split Container idea). This component
/// is the process's home: it keeps the descriptor table, signals, futexes and the address-space
/// layout. A thread placed elsewhere has a shadow here that waits while the thread runs on its host;
/// when the thread makes a system call or faults, its registers come back, the shadow runs the call
/// like any local thread would (blocking, futexes, signal frames included) and the registers go back.
/// Memory needs no forwarding: every component's ExCache is coherent through the memory nodes.
/// </summary>
public sealed partial class GuestProcess
{
    /// <summary>The other processor components this process may place threads on (empty unless --processors).</summary>
    public List<ComponentLink> Components { get; } = new();
    MemoryCluster? _split;
    /// <summary>After execve the hosts still cache the old image's space, so new threads stay here.</summary>
    bool _splitRetired;
    readonly List<(int Tid, int Component, long Instructions)> _finishedThreads = new(4); // a capacity: see BlockedCall.Fds
    /// <summary>One host's final counters, read from its report at exit.</summary>
    sealed record ComponentReport(int Component, long Accesses, long Misses, long Upgrades, long Invalidations, long Downgrades,
        long Evictions, long WriteBacks, long MissTicks);

    readonly List<ComponentReport> _componentStats = new();

    /// <summary>
    /// Makes this process span processor components: its cache becomes coherent (before anything is
    /// cached) and each host gets the memory's whereabouts. Threads are placed as they are created.
    /// </summary>
    public void SpreadOver(MemoryCluster cluster, IReadOnlyList<Endpoint> hosts)
    {
        _split = cluster;
        cluster.EnableCoherence(((ulong)Pid << 20) ^ (ulong)Random.Shared.NextInt64(1, 1 << 20), Cache, RequestSafePoint);
        // A thread host frozen while it holds a line this process waits for: the node waits for it as long as it lives.
        cluster.Channels!.GiveUp = () => LostComponentWithThreads() != null;
        Cache.EnableCoherence();
        Cache.RangeFlushed += FlushHosts;
        foreach (var host in hosts) AddComponent(host);
    }

    /// <summary>
    /// <c>--spread processes</c>: this forked process computes on <paramref name="host"/>, and this component, its home on
    /// its origin, keeps the pid, the descriptors, the signals and the relations to other processes, and serves the
    /// system calls of its threads. Every thread of the process runs there, the first one included (<see cref="LaunchOnHost"/>).
    /// </summary>
    public void PlaceOn(MemoryCluster cluster, Endpoint host)
    {
        SpreadOver(cluster, []);
        try { AddComponent(host); }
        catch (Exception e) when (e is MemoryNodeFailure or ProtocolException or IOException or System.Net.Sockets.SocketException)
        {
            // The process runs here instead; a link that connected but was not set up goes.
            foreach (var link in Components) link.Dispose();
            Components.Clear();
            throw e as MemoryNodeFailure ?? new MemoryNodeFailure($"processor component {host}: {e.Message}", e);
        }
        _homeRunsThreads = false;
    }

    /// <summary>False for a process placed on another component: its home runs none of its threads.</summary>
    bool _homeRunsThreads = true;

    /// <summary>
    /// After <see cref="PlaceOn"/> and the fork state: the process's only thread starts on its component, with the
    /// registers the fork left it. The home then waits for its system calls.
    /// </summary>
    public void LaunchOnHost()
    {
        var t = CurrentThread;
        t.Component = 1;
        t.AwaitingRemote = true;
        Launch(t);
    }

    /// <summary>
    /// Set for <c>--processors per-thread</c>: makes a new processor component (numbered by its argument)
    /// whenever a thread is created and every component already runs one.
    /// </summary>
    public Func<int, Endpoint>? ComponentFactory { get; set; }

    /// <summary>Connects a thread host and tells it where the memory is; returns its component number.</summary>
    int AddComponent(Endpoint endpoint)
    {
        var cluster = _split!;
        int index = Components.Count + 1;
        var link = new ComponentLink(index, endpoint, (asid, region) => cluster.PlacementOf(asid, region << GlobalMemoryManager.RegionShift), RequestSafePoint);
        Components.Add(link);
        link.SetUp(Setup(index));
        return index;
    }

    /// <summary>What a host needs to run threads of this process's address space: where the memory is, and the cache to keep.</summary>
    Mem.Remote.FrameWriter Setup(int index)
    {
        var cluster = _split!;
        var w = LinkSocket.Begin(LinkOp.Setup, 4096);
        w.Str(string.Join(",", cluster.Nodes.Select(n => n.Endpoint.Text)));
        var (home, owners, brk, key) = cluster.Describe(Space.Asid);
        w.I32(Space.Asid);
        w.U64(key);
        w.I32(home);
        w.U64(brk);
        var cfg = Cache.Config;
        w.I64(cfg.Size);
        w.I32(cfg.Ways);
        w.I32(cfg.LineSize);
        w.U8((byte)cfg.Policy);
        w.I32(index);
        WriteOwners(w, owners);
        w.U8(Cache.Profile != null ? (byte)1 : (byte)0);
        w.U8((byte)cluster.Replicas);
        return w;
    }

    /// <summary>
    /// execve in a process placed on another component: the new image computes there too. The host, whose threads of
    /// the old image were stopped, is set up afresh for the new address space (its cache and connections of the old one
    /// go), and the thread that called execve starts there with the new image's registers. A host that is gone leaves
    /// the process here.
    /// </summary>
    void FollowExec(GuestThread t)
    {
        if (_homeRunsThreads || Components.Count != 1 || Components[0].Lost) return;
        var link = Components[0];
        link.Link.Send(Setup(link.Index));
        _splitRetired = false;
        t.Component = link.Index;
        t.AwaitingRemote = true;
        Launch(t);
    }

    /// <summary>
    /// The CPUs the guest is told about (affinity, /proc/cpuinfo, /sys lists): one per processor component
    /// it may place threads on, so a program that sizes its thread pool by the CPU count fills them.
    /// </summary>
    public int CpuCount => _splitRetired ? 1 : ComponentFactory != null ? Environment.ProcessorCount : Components.Count + (_homeRunsThreads ? 1 : 0);

    /// <summary>Any thread: a host or a memory node's directory wants the home to look soon.</summary>
    void RequestSafePoint()
    {
        _current.Cpu.RaiseInterrupt();
        _wake.Signal();
    }

    static void WriteOwners(Mem.Remote.FrameWriter w, Dictionary<ulong, int> owners)
    {
        w.U32((uint)owners.Count);
        foreach (var (region, node) in owners)
        {
            w.U64(region);
            w.I32(node);
        }
    }

    /// <summary>The component with the fewest running threads (the home on a tie), as the global process manager places them.</summary>
    int PlaceThread()
    {
        if ((Components.Count == 0 && ComponentFactory == null) || _splitRetired) return 0;
        var counts = new int[Components.Count + 1];
        foreach (var t in Threads)
            if (!t.Exited) counts[t.Component]++;
        int best = _homeRunsThreads ? 0 : 1;
        for (int i = best + 1; i < counts.Length; i++)
            if (counts[i] < counts[best] && !Components[i - 1].Lost) best = i;
        if (counts[best] == 0 || ComponentFactory == null || Components.Count >= MaxComponents) return best;
        try
        {
            return AddComponent(ComponentFactory(Components.Count + 1));
        }
        catch (MemoryNodeFailure e)
        {
            Options.Diagnostics.WriteLine($"legoemu: {e.Message}; the new thread runs on component {best}");
            return best;
        }
    }

    /// <summary>Components a process may grow to with --processors per-thread (each has a host thread and an ExCache).</summary>
    const int MaxComponents = 256;

    /// <summary>clone's last step: a thread placed elsewhere starts there once its tid words are written.</summary>
    public void Launch(GuestThread t)
    {
        if (t.Component == 0) return;
        var link = Components[t.Component - 1];
        link.Used = true;
        var w = LinkSocket.Begin(LinkOp.Start, 2048);
        w.I32(t.Tid);
        CpuWire.Write(w, t.Cpu);
        WriteOwners(w, _split!.OwnersOf(Space.Asid));
        link.Link.Send(w);
    }

    /// <summary>
    /// <c>run --cluster</c>: a memory node that leaves the membership while it holds this process's only copy of some
    /// memory ends the guest at its next safe point, asked for at once, even while the guest computes in its ExCache or
    /// waits in a system call.
    /// </summary>
    public void EndWhenNodesLeave(MemoryCluster cluster)
    {
        _leftWatch = cluster;
        cluster.GoneNoticed = RequestSafePoint;
    }

    MemoryCluster? _leftWatch;

    /// <summary>At a safe point: applies pending invalidations and takes in what the hosts sent. True when a shadow became runnable.</summary>
    bool ServeComponents()
    {
        _leftWatch?.ThrowIfLeft();
        ServeSharedDirectory();
        Timers?.Serve();
        if (_split == null) return false;
        _split.DrainCoherence();
        bool any = false;
        foreach (var link in Components)
        {
            while (link.Inbox.TryDequeue(out var body))
            {
                var r = LinkSocket.Payload(body);
                var op = LinkSocket.OpOf(body);
                int tid = r.I32();
                var t = FindThread(tid);
                if (t == null || t.Component != link.Index) continue; // a thread stopped here (execve, exit) whose host had not heard yet
                t.Cpu.InstructionsRetired = r.I64();
                CpuWire.Read(ref r, t.Cpu);
                if (op == LinkOp.Fault)
                {
                    var info = new SignalInfo(r.I32(), r.I32(), r.U64(), TrapNo: r.I32(), Error: r.U64());
                    t.RemoteFault = (info, r.Str());
                }
                else if (op == LinkOp.Syscall) t.RemoteCall = true;
                else if (op == LinkOp.CheckIn) t.RemoteCheckIn = true;
                else throw new ProtocolException($"unexpected {op} from processor component {link.Index}");
                t.AwaitingRemote = false;
                any = true;
            }
            if (link.Lost && Threads.Any(x => !x.Exited && x.Component == link.Index) && !_exiting)
            {
                Options.Diagnostics.WriteLine($"legoemu: {LostMessage(link)}; guest terminated by SIGKILL");
                KilledBySignal = 9;
                Exit(128 + 9);
            }
        }
        PokeForSignals();
        return any;
    }

    /// <summary>What happened to a lost component with guest threads on it, for the line that ends the guest.</summary>
    static string LostMessage(ComponentLink link) =>
        $"processor component {link.Index} ({link.Endpoint}) {(link.TimedOut ? $"did not answer within {NodeTimeout.Text} s (--node-timeout)" : "went away")} with guest threads on it";

    /// <summary>A processor component whose link is gone while guest threads of this process were on it, if any.</summary>
    ComponentLink? LostComponentWithThreads()
    {
        foreach (var link in Components)
            if (link.Lost && Threads.Any(x => !x.Exited && x.Component == link.Index)) return link;
        return null;
    }

    /// <summary>
    /// A signal that only a thread computing on another component can take would wait for its next
    /// system call; ask that component to send the thread in at its next block boundary instead.
    /// </summary>
    void PokeForSignals()
    {
        ulong all = Volatile.Read(ref Signals.Pending);
        // The current thread's directed signals sit in the process set while it is current; they are its alone.
        ulong pending = all & ~_current.DirectedInFlight;
        foreach (var t in Threads)
        {
            if (t.Exited || !t.AwaitingRemote || t.RemotePoked) continue;
            ulong own = t.DirectedPending | (t == _current ? all & t.DirectedInFlight : 0);
            ulong mine = (own | pending) & ~MaskOf(t);
            if (mine == 0) continue;
            // A process-wide signal goes to a thread here when one can take it at its next block boundary.
            if ((own & ~MaskOf(t)) == 0 && Threads.Any(x => x.Component == 0 && x.Runnable && (MaskOf(x) & pending) != pending)) continue;
            t.RemotePoked = true;
            var w = LinkSocket.Begin(LinkOp.Interrupt);
            w.I32(t.Tid);
            Components[t.Component - 1].Link.Send(w);
        }
    }

    /// <summary>
    /// Runs a placed thread's turn at home: its system call (which may block here like any other), or
    /// the signal for its fault; then its registers, possibly with a signal frame set up, go back.
    /// </summary>
    void ServeRemote(GuestThread t)
    {
        if (t.RemoteFault is { } fault)
        {
            t.RemoteFault = null;
            if (!DeliverFault(fault.Info))
            {
                Exit(Die(fault.Info.Signo, SignalState.Name(fault.Info.Signo), fault.Message));
                return;
            }
        }
        else if (t.RemoteCheckIn)
        {
            // Sent in for a signal: the frame is set up below, like after a call.
            t.RemoteCheckIn = false;
        }
        else if (t.RemoteCall)
        {
            t.RemoteCall = false;
            t.Cpu.YieldRequested = false;
            SyscallOutsideBlock(t.Cpu);
            if (!t.Runnable || _exiting) return; // blocked: the scheduler finishes the call later
            if (t.Component == 0)
            {
                FollowExec(t); // execve made it a home thread: a process placed elsewhere goes back there
                return;
            }
        }
        if (t.Cpu.InterruptPending && !t.Exited)
        {
            t.Cpu.TakeInterrupt();
            Interrupt(t.Cpu);
            if (_exiting) return;
        }
        t.Cpu.YieldRequested = false;
        t.AwaitingRemote = !t.Exited;
        t.RemotePoked = false;
        var w = LinkSocket.Begin(LinkOp.Resume, 2048);
        w.I32(t.Tid);
        w.U8(t.Exited ? (byte)1 : (byte)0);
        CpuWire.Write(w, t.Cpu);
        WriteOwners(w, _split!.OwnersOf(Space.Asid));
        Components[t.Component - 1].Link.Send(w);
    }

    /// <summary>munmap, mprotect and friends at home: hosts drop (or write back) their copies of the range before the call returns.</summary>
    void FlushHosts(int asid, ulong start, ulong end, bool writeBack)
    {
        if (_splitRetired) return;
        var targets = Components.Where(c => c.Used && !c.Lost).ToList();
        if (targets.Count == 0) return;
        foreach (var link in targets)
        {
            var w = LinkSocket.Begin(LinkOp.Flush);
            w.I32(asid);
            w.U64(start);
            w.U64(end);
            w.U8(writeBack ? (byte)1 : (byte)0);
            link.Link.Send(w);
        }
        foreach (var link in targets)
        {
            // Keep answering the directories: the host may need this component's lines to get there.
            while (!link.FlushSignal.Wait(1)) _split!.DrainCoherence();
        }
    }

    /// <summary>execve: the hosts' threads end, and the new image runs here only.</summary>
    void RetireHosts()
    {
        if (Components.Count == 0) return;
        // What the old image wrote there to MAP_SHARED memory must reach the nodes: other processes see it.
        FlushHosts(Space.Asid, 0, Mem.Component.VmaSet.TaskSize, writeBack: true);
        foreach (var t in Threads)
        {
            if (t.Component == 0) continue;
            var w = LinkSocket.Begin(LinkOp.Stop);
            w.I32(t.Tid);
            Components[t.Component - 1].Link.Send(w);
            if (t == _current)
            {
                t.Component = 0;
                t.AwaitingRemote = false;
            }
        }
        _splitRetired = true;
    }

    /// <summary>At exit: each host writes its dirty lines back and reports its counters.</summary>
    void ShutDownHosts()
    {
        foreach (var link in Components)
        {
            if (link.Lost) continue;
            try { link.Link.Send(LinkSocket.Begin(LinkOp.Shutdown)); }
            catch (System.Net.Sockets.SocketException) { continue; }
        }
        foreach (var link in Components)
        {
            while (!link.Lost && !link.ReportArrived.Wait(1)) _split?.DrainCoherence();
            if (link.Report is not { } body) continue;
            var r = LinkSocket.Payload(body);
            uint n = r.U32();
            var retired = new Dictionary<int, long>();
            for (uint i = 0; i < n; i++)
            {
                int tid = r.I32();
                retired[tid] = r.I64();
            }
            for (int i = 0; i < _finishedThreads.Count; i++)
                if (_finishedThreads[i].Component == link.Index && retired.TryGetValue(_finishedThreads[i].Tid, out long v))
                    _finishedThreads[i] = (_finishedThreads[i].Tid, link.Index, v);
            foreach (var t in Threads)
                if (t.Component == link.Index && retired.TryGetValue(t.Tid, out long v)) t.Cpu.InstructionsRetired = v;
            _componentStats.Add(new ComponentReport(link.Index, Accesses: r.I64(), Misses: r.I64(), Upgrades: r.I64(), Invalidations: r.I64(),
                Downgrades: r.I64(), Evictions: r.I64(), WriteBacks: r.I64(), MissTicks: r.I64()));
            // Its threads' costs join the home's profile: one file per process, as callgrind writes.
            if (Cache.Profile is { } profile)
            {
                var merger = new ProfileWire.Merger(profile);
                lock (link.ProfileFrames)
                    foreach (var frame in link.ProfileFrames) merger.Add(frame);
            }
        }
        foreach (var link in Components) link.Dispose();
    }

    /// <summary>Instructions retired by threads on components other than the home (each compiles and counts its own regions).</summary>
    long InstructionsElsewhere()
    {
        long n = 0;
        foreach (var f in _finishedThreads) if (f.Component != 0) n += f.Instructions;
        foreach (var t in Threads) if (t.Component != 0) n += t.Cpu.InstructionsRetired;
        return n;
    }

    /// <summary>--stats over several components: where each thread ran, and the coherence traffic of each cache.</summary>
    void PrintSplitStats(TextWriter w)
    {
        if (Components.Count == 0) return;
        var all = new List<(int Tid, int Component, long Instructions)>(_finishedThreads);
        foreach (var t in Threads) all.Add((t.Tid, t.Component, t.Cpu.InstructionsRetired));
        all.Sort((a, b) => a.Tid.CompareTo(b.Tid));
        w.WriteLine($"legoemu: processor components {Components.Count + 1} (0 is the home)");
        foreach (var link in Components) w.WriteLine($"legoemu:   component {link.Index} is {link.Endpoint}");
        foreach (var (tid, comp, n) in all)
            w.WriteLine($"legoemu:   thread {tid,-8} ran on component {comp}, {n:N0} instructions");
        var s = Cache.Stats;
        w.WriteLine($"legoemu:   component 0 coherence: upgrades {s.Upgrades:N0}, invalidations {s.Invalidations:N0}, downgrades {s.Downgrades:N0}, misses {s.Misses:N0}");
        foreach (var c in _componentStats)
        {
            double missUs = c.Misses == 0 ? 0 : c.MissTicks * 1e6 / System.Diagnostics.Stopwatch.Frequency / c.Misses;
            w.WriteLine($"legoemu:   component {c.Component} coherence: upgrades {c.Upgrades:N0}, invalidations {c.Invalidations:N0}, downgrades {c.Downgrades:N0}, " +
                        $"misses {c.Misses:N0} of {c.Accesses:N0} accesses (mean {missUs:F1} us), evictions {c.Evictions:N0}, write-backs {c.WriteBacks:N0}");
        }
    }

    /// <summary>Coherence counters summed over every component (for --stats-json and benchmarks).</summary>
    public (long Upgrades, long Invalidations, long Downgrades) CoherenceTraffic
    {
        get
        {
            var s = Cache.Stats;
            long u = s.Upgrades, i = s.Invalidations, d = s.Downgrades;
            foreach (var c in _componentStats)
            {
                u += c.Upgrades;
                i += c.Invalidations;
                d += c.Downgrades;
            }
            return (u, i, d);
        }
    }

    /// <summary>A thread that exits is forgotten by the scheduler; its placement is kept for --stats.</summary>
    void RememberFinished(GuestThread t) => _finishedThreads.Add((t.Tid, t.Component, t.Cpu.InstructionsRetired));
}
