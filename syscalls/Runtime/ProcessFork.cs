using System.Diagnostics;
using LegoEmu.Cpu.State;
using LegoEmu.Loader.Elf;
using LegoEmu.Loader.Image;
using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;
using LegoEmu.Mem.Space;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// fork and execve. A fork makes a copy-on-write duplicate of the address space in the memory
/// component and starts a new processor component (a `legoemu procnode` process) over it; when the
/// memory is in-process, this process starts serving it on a Unix socket so the child can reach it.
/// execve replaces the image in place, keeping the pid and the descriptors without close-on-exec.
/// </summary>
public sealed partial class GuestProcess
{
    MemoryNodeServer? _memoryServer;
    int _forks;

    /// <summary>This process's memory is an ancestor's, reached through the socket it served for the fork (see <see cref="ForkState.MemoryBorrowed"/>).</summary>
    public bool MemoryBorrowed { get; private set; }

    /// <summary>
    /// The guest's children not yet reaped. Waits for "any child" or a process group go through this
    /// list: spawned memory-node processes and idle pooled components are children of this emulator too,
    /// and the guest must never see them. Read by the host-signal thread as well, hence the lock.
    /// </summary>
    readonly Dictionary<int, ChildLink> _children = new();

    const int PidfdOpen = 434;

    /// <summary>
    /// Counts a new child of the guest, with a pidfd that turns readable when its component ends (or -1 on a kernel
    /// without them) and the socket to its component (<see cref="ForkControl"/>), which this process now owns.
    /// </summary>
    public void AddChild(int pid, int control = -1)
    {
        long pidfd = Host.Native.Sys(PidfdOpen, pid, 0); // close-on-exec, and never one of the guest's descriptors
        lock (_children) _children[pid] = new ChildLink(pid, pidfd < 0 ? -1 : (int)pidfd, control, ChildReported);
    }

    /// <summary>
    /// A child's component reported its guest's exit (first read): SIGCHLD for the guest, as the kernel raises it at a
    /// child's exit; a wait blocked on the report's socket wakes by itself.
    /// </summary>
    void ChildReported(ChildLink link)
    {
        const int SIGCHLD = 17;
        var news = new ChildNews(link.Pid, 1 /* CLD_EXITED */, (link.Report!.Status >> 8) & 0xff);
        if (ChildSignalWanted)
        {
            ChildSignalled(news);
            RaiseSignal(new SignalInfo(SIGCHLD, news.Code, Pid: news.Pid, Uid: (int)Host.Native.Sys(Abi.Nr.getuid), Status: news.Status));
        }
        // With SIGCHLD ignored or SA_NOCLDWAIT a child leaves no zombie: the kernel reaps it at once, and so does this
        // (its component goes back to the pool instead of waiting for a wait that never comes).
        if (ChildrenLeaveNoZombies) ReapReported(link);
        Wake();
    }

    /// <summary>
    /// A SIGCHLD would reach the guest: it has a handler, or it is blocked under its default action (the kernel
    /// queues a blocked signal even when its default is to ignore it, for sigwaitinfo and signalfd to take).
    /// </summary>
    public bool ChildSignalWanted
    {
        get
        {
            const int SIGCHLD = 17;
            ulong handler = Signals.Actions[SIGCHLD].Handler;
            return handler > 1 || (handler == 0 && (Signals.Mask & SignalState.Bit(SIGCHLD)) != 0);
        }
    }

    /// <summary>SIGCHLD is ignored or has SA_NOCLDWAIT: the kernel reaps this process's children as they exit.</summary>
    public bool ChildrenLeaveNoZombies
    {
        get
        {
            const ulong SA_NOCLDWAIT = 2;
            var act = Signals.Actions[17];
            return act.Handler == 1 || (act.Flags & SA_NOCLDWAIT) != 0;
        }
    }

    /// <summary>Reads the exit reports the guest's children's components have sent (they announce them with <see cref="ReportSignal"/>).</summary>
    public void PollReports()
    {
        foreach (int pid in ChildrenNow())
            if (Child(pid) is { } link) ForkControl.PollExit(link);
    }

    /// <summary>The host signal a component sends its parent after an exit report: a wake-up, not the guest's SIGCHLD.</summary>
    public const int ReportSignal = 23; // SIGURG: never forwarded to guests, ignored by default

    /// <summary>A child that never was: the hand-over to its component failed (the socket is the pool's to close).</summary>
    void ForgetChild(int pid)
    {
        ChildLink? c;
        lock (_children)
            if (!_children.Remove(pid, out c)) return;
        TableReaped(pid);
        if (c.Pidfd >= 0) Host.Native.Sys(Abi.Nr.close, c.Pidfd);
    }

    /// <summary>The host reaped the child's component: its pidfd and socket go.</summary>
    public void RemoveChild(int pid)
    {
        ChildLink? c;
        lock (_children)
            if (!_children.Remove(pid, out c)) return;
        TableReaped(pid);
        if (c.Pidfd >= 0) Host.Native.Sys(Abi.Nr.close, c.Pidfd);
        if (c.Control >= 0) Host.Native.Sys(Abi.Nr.close, c.Control);
    }

    /// <summary>
    /// The guest reaped a child whose component reported its exit and lives on: the component comes back to this
    /// process's pool for a later fork (or is stopped when there is no pool, or when a signal the guest sent the child
    /// may still be on its way to the component).
    /// </summary>
    public void ReapReported(ChildLink link)
    {
        lock (_children)
            if (!_children.Remove(link.Pid)) return;
        TableReaped(link.Pid, link.Report?.Status ?? 0);
        if (link.Pidfd >= 0) Host.Native.Sys(Abi.Nr.close, link.Pidfd);
        if (Options.PoolSize > 0 && !link.Closed && !link.Signalled) ForkPool.Get().Return(link.Pid, link.Control);
        else ForkPool.Stop(link.Pid, link.Control);
    }

    public int[] ChildrenNow() { lock (_children) return [.. _children.Keys]; }

    /// <summary>The guest's children whose exit no report has told of yet (some may have exited unannounced).</summary>
    int RunningChildren()
    {
        int n = 0;
        lock (_children)
            foreach (var c in _children.Values)
                if (c.Report == null && !c.Closed) n++;
        return n;
    }

    /// <summary>The link to the guest's child <paramref name="pid"/>, or null when it is not one (or was reaped).</summary>
    public ChildLink? Child(int pid) { lock (_children) return _children.GetValueOrDefault(pid); }

    /// <summary>
    /// The descriptors a wait for <paramref name="pid"/> can poll: the pidfd turns readable the moment the child's
    /// component ends, without the round of the host's SIGCHLD through the runtime's signal thread, and the control
    /// socket when the component reports its guest's exit. -1 when there is none.
    /// </summary>
    public (int Pidfd, int Control) ExitDescriptors(int pid) { lock (_children) return _children.TryGetValue(pid, out var c) ? (c.Pidfd, c.Closed ? -1 : c.Control) : (-1, -1); }

    /// <summary>The guest has called execve since its fork: its parent may no longer set its process group.</summary>
    public bool Execed { get; private set; }

    /// <summary>A child's change of state as the guest's own wait reported it (a CLD_* code and si_status).</summary>
    public sealed record ChildNews(int Pid, int Code, int Status);

    ChildNews? _signalledNews;

    /// <summary>A SIGCHLD was raised for this news: the guest's wait that reports it later raises none.</summary>
    public void ChildSignalled(ChildNews news) => Volatile.Write(ref _signalledNews, news);

    /// <summary>
    /// A wait reported news of a child. The kernel queues the child's SIGCHLD when the child changes state, before
    /// any wait can report it, and the host's signal may still be on its way through the runtime's signal thread (a
    /// wait wakes on the child's pidfd). So unless it was raised already, it is raised now: pending when the wait
    /// returns, as it would be natively. The host's signal that comes after finds no news left and raises nothing.
    /// </summary>
    public void ChildSeen(int pid, int code, int status)
    {
        const int SIGCHLD = 17;
        const ulong SA_NOCLDSTOP = 1;
        var news = new ChildNews(pid, code, status);
        if (Interlocked.Exchange(ref _signalledNews, null) == news) return;
        // Neither handled nor blocked, the kernel discarded the signal; under SA_NOCLDSTOP a stop or continue raises none.
        if (!ChildSignalWanted || (code > 3 && (Signals.Actions[SIGCHLD].Flags & SA_NOCLDSTOP) != 0)) return;
        RaiseSignal(new SignalInfo(SIGCHLD, code, Pid: pid, Uid: (int)Host.Native.Sys(Abi.Nr.getuid), Status: status));
    }
    string? _memoryServerDir;

    /// <summary>How to start another `legoemu`: executable and leading arguments, from <see cref="SelfCommandSource"/> at first use.</summary>
    public static (string File, string[] Prefix) SelfCommand
    {
        get
        {
            // Forks ask on the guest's thread, a component started ahead on a timer's: the pair must not be read half made.
            lock (SelfCommandLock) return _selfCommand ??= SelfCommandSource();
        }
    }

    /// <summary>
    /// Where <see cref="SelfCommand"/> comes from (set by the CLI). Asked only when a component is started: finding the
    /// process's own path costs milliseconds of a start that most runs never need.
    /// </summary>
    public static Func<(string File, string[] Prefix)> SelfCommandSource { get; set; } = () => ("legoemu", []);
    static (string File, string[] Prefix)? _selfCommand;
    static readonly object SelfCommandLock = new();

    /// <summary>fork/vfork/clone without CLONE_VM: returns the child's pid (a real host process) or a negated errno.</summary>
    public long Fork(ulong childSetTid, ulong childClearTid, ulong childStack)
    {
        // The copy must see every byte the parent has written, including lines still dirty in this cache
        // and in the caches of other components running its threads.
        FlushHosts(Space.Asid, 0, VmaSet.TaskSize, writeBack: true);
        Cache.WriteBackAll();
        var home = Space.Home;
        int child = home.ForkAddressSpace(Space.Asid);
        if (child < 0) return child;

        string[] endpoints;
        int homeNode;
        Dictionary<ulong, int> owners;
        ulong brk, key;
        if (home is MemoryCluster cluster)
        {
            endpoints = cluster.Nodes.Select(n => n.Endpoint.Text).ToArray();
            (homeNode, owners, brk, key) = cluster.Describe(child);
        }
        else if (home is LockedMemoryComponent local)
        {
            try { endpoints = [ServeLocalMemory(local)]; }
            catch (Host.TempDirectoryException e)
            {
                home.DestroyAddressSpace(child);
                return ForkFailed(e);
            }
            homeNode = 0;
            _memoryServedToChildren = true;
            // The child's copy lives here; the child claims it over the socket, and it goes when the child's connection does.
            key = SpaceKeys.New();
            _memoryServer!.Grant(child, key, ownerHolds: false);
            owners = new Dictionary<ulong, int>();
            foreach (var v in local.Snapshot(child))
                for (ulong r = v.Start >> GlobalMemoryManager.RegionShift; r <= (v.End - 1) >> GlobalMemoryManager.RegionShift; r++) owners[r] = 0;
            brk = local.Brk(child, 0);
        }
        else return -Errno.ENOSYS;
        // From now on another process caches this memory: MAP_SHARED lines go through the directory.
        EnsureSharedCoherence();

        var c = Cpu;
        var state = new ForkState
        {
            MemoryEndpoints = endpoints, Asid = child, HomeNode = homeNode, SpaceKey = key, RegionOwners = owners, Brk = brk,
            ExePath = ExePath, InterpreterPath = InterpreterPath, Argv = Argv, Envp = Envp, AuxVector = AuxVector, ThreadName = (byte[])CurrentThread.Name.Clone(),
            Registers = ChildRegisters(c, childStack), Rip = c.Rip, Rflags = c.Rflags, FsBase = c.FsBase, GsBase = c.GsBase,
            Xmm = ForkState.Bytes(c.Xmm), Mxcsr = c.GetMxcsr(),
            FpuControl = c.Fpu.ControlWord, FpuStatus = c.Fpu.StatusWord, FpuTags = c.Fpu.TagWord, FpuRegs = (Float80[])c.Fpu.Regs.Clone(),
            Fds = Fds.All().ToArray(), SignalActions = (SignalAction[])Signals.Actions.Clone(), SignalMask = Signals.Mask, Affinity = CurrentThread.Affinity,
            AltStackBase = Signals.AltStackBase, AltStackSize = Signals.AltStackSize, AltStackFlags = Signals.AltStackFlags, ChildSetTid = childSetTid, ChildClearTid = childClearTid,
            SignalFds = SignalFds.All(), MemoryBorrowed = MemoryBorrowed || home is LockedMemoryComponent, VirtualLimits = (ulong[])VirtualLimits.Clone(),
            // Threads on other components need their memory in memory nodes, where the line directories are.
            ThreadHost = home is MemoryCluster && ProcessSpread.Enabled ? ProcessSpread.Claim() ?? "" : "",
        };
        // The copy waits, unheld, for the child's claim (the node's hand-over grace). Letting go of it only after the
        // hand-over raced with a warm child that claimed it, ran to execve and destroyed it first.
        HandedOver(home, child);
        var (exe, prefix) = SelfCommand;
        var options = ComponentOptions();
        var env = ComponentEnvironment();
        // A process that forks once gains nothing from a pool and would leave its idle component unused:
        // the pool starts with the second fork, which is the one that hints at more. Components that come back
        // after their guest was reaped, or that were started ahead for a guest that runs a while, are used from
        // the first fork on.
        _forks++;
        _imageForks++;
        if (Options.PoolSize > 0 && (_forks >= 2 || ForkPool.Shared?.IdleCount > 0))
        {
            var pool = ForkPool.Get();
            // An idle component connects to this process's memory while it waits: the connection is ready when a fork comes.
            var start = ComponentStarter(string.Join(',', endpoints));
            if (pool.IdleCount == 0) pool.Fill(Options.PoolSize, start);
            int pooled = pool.HandOver(state, Options.DiagnosticsDescriptor, (pid, control) =>
            {
                TableForked(pid);
                AddChild(pid, control);
            }, ForgetChild, out _);
            // Children that run side by side (make -j2, a pipeline) will want another component before this one comes
            // back: have one ready. One child at a time (a shell loop, gcc's passes) gets the one that came back.
            if (_forks >= 2 && RunningChildren() > 1) pool.Fill(Options.PoolSize, start);
            if (pooled > 0) return pooled;
        }
        // The state travels in an unlinked file the child inherits as a descriptor: nothing is left
        // behind even when the child is killed before it reads it.
        string file = Path.Combine(Path.GetTempPath(), $"legoemu-fork-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try { Host.TempDirectory.WriteFile(file, state.Write); }
        catch (Host.TempDirectoryException e)
        {
            home.DestroyAddressSpace(child);
            return ForkFailed(e);
        }
        long stateFd = Areas.Buffers.WithPath(file, p => Host.Native.Sys(Abi.Nr.open, p, 0x80000 /* O_RDONLY|O_CLOEXEC */));
        File.Delete(file);
        if (stateFd < 0)
        {
            home.DestroyAddressSpace(child);
            return stateFd;
        }
        if (Host.UnixRights.Pair(out int mine, out int theirs) < 0) mine = theirs = -1;
        var argv = new List<string> { exe };
        argv.AddRange(prefix);
        argv.AddRange(["procnode", "--state-fd", stateFd.ToString(), .. options]);
        if (theirs >= 0) argv.AddRange(["--control-fd", theirs.ToString()]);
        var inherit = state.Fds.Select(f => f.Host).Append((int)stateFd);
        int pid = Host.Native.Spawn(exe, argv, env, (theirs >= 0 ? inherit.Append(theirs) : inherit).Distinct());
        Host.Native.Sys(Abi.Nr.close, stateFd);
        if (theirs >= 0) Host.Native.Sys(Abi.Nr.close, theirs);
        if (pid < 0)
        {
            home.DestroyAddressSpace(child);
            if (mine >= 0) Host.Native.Sys(Abi.Nr.close, mine);
        }
        else
        {
            TableForked(pid);
            AddChild(pid, mine);
            // A report that came before the child was counted was announced to no one: read it now.
            if (Child(pid) is { } link) ForkControl.PollExit(link);
        }
        return pid;
    }

    /// <summary>The options every component this process starts gets: the same cache, pool, tracing, tiers.</summary>
    List<string> ComponentOptions() => ComponentOptions(Options);

    static List<string> ComponentOptions(RunOptions o)
    {
        var options = new List<string> { "--excache", o.Cache.Size.ToString(), "--ways", o.Cache.Ways.ToString(),
            "--line", o.Cache.LineSize.ToString(), "--policy", o.Cache.Policy.ToString().ToLowerInvariant(), "--pool", o.PoolSize.ToString() };
        if (o.Strace) options.Add("--strace");
        options.AddRange(o.ChildArguments);
        return options;
    }

    /// <summary>Starts an idle pooled component on a socket (its descriptor 3); <paramref name="memory"/> is what it connects to while it waits, if known.</summary>
    Func<int, int> ComponentStarter(string? memory) => ComponentStarter(Options, memory);

    static Func<int, int> ComponentStarter(RunOptions options, string? memory)
    {
        var (exe, prefix) = SelfCommand;
        var argv = new List<string> { exe };
        argv.AddRange(prefix);
        argv.AddRange(["procnode", "--pool-socket", "3"]);
        if (memory != null) argv.AddRange(["--memory", memory]);
        argv.AddRange(ComponentOptions(options));
        var env = ComponentEnvironment();
        // It starts in a group of its own (see SpawnIsolated) and joins this process's group once it runs: a fork's
        // child starts in its parent's group.
        return socket => Host.Native.SpawnIsolated(exe, [.. argv, "--join-group", Host.Native.Sys(Abi.Nr.getpgid, 0).ToString(System.Globalization.CultureInfo.InvariantCulture)], env, socket);
    }

    /// <summary>
    /// A guest that runs longer than this and shows it will fork (<see cref="NoteForkHint"/>) gets an idle child for its
    /// component ahead of the first fork.
    /// </summary>
    public const int PrestartAfterMs = 30;

    /// <summary>Set once the image did something programs do before they fork; the process's prestart waits for it.</summary>
    volatile bool _forkHinted;
    /// <summary>This process may start a component ahead of its forks (decided when it starts running).</summary>
    volatile bool _prestartEligible;
    /// <summary>
    /// Starts a component for this process's forks ahead of the first (see <see cref="PrestartComponent"/>). Made at the
    /// first hint only: a timer is the first of the process (its queue and its thread), milliseconds of every start.
    /// </summary>
    Timer? _prestart;
    readonly object _prestartGate = new();

    /// <summary>
    /// The guest set SIGCHLD's disposition (gcc's driver, collect2, shells), made a pipe or a socket pair, or its
    /// image's last run forked: a fork is likely to follow. A component started ahead costs a .NET start (some 100 ms
    /// of CPU on another core), which a CPU-bound guest that never forks would otherwise pay on a busy machine.
    /// </summary>
    internal void NoteForkHint()
    {
        if (_forkHinted) return;
        _forkHinted = true;
        if (_prestartEligible) ArmPrestart();
    }

    /// <summary>
    /// Starts the component once the guest has run <see cref="PrestartAfterMs"/> (at once when the code cache says its
    /// image forks): a guest that ends sooner (a fork loop's children) never pays for it.
    /// </summary>
    void ArmPrestart()
    {
        long due = Interpreter.Translator?.CodeCacheSaysForks == true ? 0 : Math.Max(0, PrestartAfterMs - _wall.ElapsedMilliseconds);
        lock (_prestartGate)
            if (!_exiting && _prestart == null) _prestart = new Timer(_ => PrestartComponent(), null, due, Timeout.Infinite);
    }

    void DisarmPrestart()
    {
        lock (_prestartGate)
        {
            _prestart?.Dispose();
            _prestart = null;
            _prestartEligible = false;
        }
    }

    /// <summary>
    /// Starts one idle component for the forks of a guest about to be loaded with <paramref name="options"/> (its
    /// program's last run forked: see the code cache), before its memory exists: a component takes some 60 ms to be
    /// ready, and a compiler driver forks 40 ms into its run. It connects to the memory at the hand-over.
    /// </summary>
    public static void StartComponentAhead(RunOptions options)
    {
        if (options.PoolSize <= 0) return;
        var pool = ForkPool.Get();
        if (pool.IdleCount == 0) pool.Fill(1, ComponentStarter(options, null));
    }

    /// <summary>
    /// Starts one idle component for this process's forks if there is none: a component's first fork would otherwise
    /// wait for a .NET start (gcc's first compiler pass, collect2's linker). Guests that end sooner (a fork loop's
    /// children) never pay for it, and the component keeps its idle child for its later guests.
    /// </summary>
    void PrestartComponent()
    {
        if (Options.PoolSize <= 0 || _exiting) return;
        var pool = ForkPool.Get();
        if (pool.IdleCount > 0) return;
        // Connected to this process's own memory while it waits, so that the fork does not wait for a connection made
        // by code run for the first time in that process. Not to memory nodes: one never used must leave no trace on a
        // node (a killed connection is a line in the node's log) when the process ends without forking.
        string? memory = null;
        if (Space.Home is LockedMemoryComponent local)
        {
            try { memory = ServeLocalMemory(local); }
            catch (Host.TempDirectoryException) { }
        }
        pool.Fill(1, ComponentStarter(memory));
        // This process will serve its memory to the child and close that link at the child's execve.
        WarmUpSockets.RunOnce();
    }

    /// <summary>
    /// The child is about to get its copy's key: this process lets go of it, so it lives exactly as long as the child
    /// holds it (the node keeps it for the hand-over grace until the child claims it, or destroys it then).
    /// </summary>
    static void HandedOver(IMemoryComponent home, int child)
    {
        if (home is MemoryCluster cluster) cluster.ReleaseAddressSpace(child);
    }

    /// <summary>
    /// The environment of a forked process's component: this one's, without the runtime's debugger and
    /// diagnostics endpoints (a thread and two named pipes made at every start, a few milliseconds of each
    /// fork) unless the user asked for them by setting DOTNET_EnableDiagnostics, and without tiered
    /// recompilation unless the user chose a tiering setting.
    /// </summary>
    static List<string> ComponentEnvironment()
    {
        var env = new List<string>();
        bool chosen = false;
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            string key = (string)e.Key;
            chosen |= key is "DOTNET_EnableDiagnostics" or "COMPlus_EnableDiagnostics";
            env.Add($"{key}={e.Value}");
        }
        if (!chosen) env.Add("DOTNET_EnableDiagnostics=0");
        // A component runs from its ReadyToRun code, compiled ahead with full optimisation: recompiling the hot part of
        // it in the background (tiering, twice with PGO) cost as much CPU as a loop of fork, exec and wait spent on its
        // guests, and ran the interpreter no faster. Guest code that gets hot is translated and compiled anyway.
        if (!env.Exists(e => e.StartsWith("DOTNET_TieredCompilation=", StringComparison.Ordinal) || e.StartsWith("DOTNET_TieredPGO=", StringComparison.Ordinal)))
            env.Add("DOTNET_TieredCompilation=0");
        // Decoded blocks live as long as their program, so each collection of a young generation copies them: with a
        // 64 MiB generation 0 a cc1 collects once instead of three or four times, for the same peak RSS (118 MiB), and
        // gcc hello's tree spends 4 % less CPU. Only here: the runtime reads this before any code of ours runs.
        if (!env.Exists(e => e.StartsWith("DOTNET_GCgen0size=", StringComparison.Ordinal) || e.StartsWith("COMPlus_GCgen0size=", StringComparison.Ordinal)))
            env.Add("DOTNET_GCgen0size=0x4000000");
        // The child waits for memory nodes as long as this process does (run --node-timeout).
        env.RemoveAll(e => e.StartsWith(NodeTimeout.Variable + "=", StringComparison.Ordinal));
        env.Add($"{NodeTimeout.Variable}={NodeTimeout.Text}");
        // It keeps as many copies of its memory as this process does (run --replicas).
        env.RemoveAll(e => e.StartsWith(Replication.Variable + "=", StringComparison.Ordinal));
        env.Add($"{Replication.Variable}={Replication.Factor}");
        // And it proves the same cluster key to the nodes and to its own children.
        env.RemoveAll(e => e.StartsWith(Credentials.Variable + "=", StringComparison.Ordinal));
        if (Credentials.Directory != null) env.Add($"{Credentials.Variable}={Credentials.Directory}");
        // It writes its steps to the run's timeline (run --timeline).
        env.RemoveAll(e => e.StartsWith(Timeline.Variable + "=", StringComparison.Ordinal));
        if (Timeline.Setting is { } timeline) env.Add($"{Timeline.Variable}={timeline}");
        // Its own forks place their children's threads as this run does (run --spread processes).
        env.RemoveAll(e => e.StartsWith(ProcessSpread.Variable + "=", StringComparison.Ordinal));
        if (ProcessSpread.Setting is { } spread) env.Add($"{ProcessSpread.Variable}={spread}");
        return env;
    }

    static ulong[] ChildRegisters(CpuState c, ulong stack)
    {
        var r = ((ReadOnlySpan<ulong>)c.R).ToArray();
        if (stack != 0) r[Registers.RSP] = stack;
        return r;
    }

    /// <summary>
    /// A fork the emulator cannot make for want of TMPDIR: the guest sees EAGAIN, as for a fork the kernel lacks
    /// resources for, and the reason is one line on the emulator's diagnostics.
    /// </summary>
    long ForkFailed(Host.TempDirectoryException e)
    {
        Options.Diagnostics.WriteLine($"legoemu: fork: {e.Message}");
        return -Errno.EAGAIN;
    }

    /// <summary>Starts (once) serving this process's in-process memory on a private Unix socket.</summary>
    string ServeLocalMemory(LockedMemoryComponent local)
    {
        // The guest's fork and the timer that starts a component ahead may both ask.
        lock (_memoryServerLock) return StartLocalMemoryServer(local);
    }

    readonly object _memoryServerLock = new();

    string StartLocalMemoryServer(LockedMemoryComponent local)
    {
        if (_memoryServer != null) return _memoryServer.Endpoint.Text;
        string dir = Host.TempDirectory.CreatePrivate("legoemu-mem-");
        Endpoint.TryParse($"unix:{Path.Combine(dir, "memory.sock")}", out var ep, out _);
        try { _memoryServer = new MemoryNodeServer(ep!, local.Inner, TextWriter.Null); }
        catch (System.Net.Sockets.SocketException e)
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
            throw new Host.TempDirectoryException($"cannot listen on a socket in TMPDIR ({Path.GetTempPath().TrimEnd('/')}): {e.SocketErrorCode}", e);
        }
        _memoryServerDir = dir;
        var t = new Thread(_memoryServer.Serve) { IsBackground = true, Name = "fork-memory-server" };
        t.Start();
        return ep!.Text;
    }

    /// <summary>The child's side of a fork: registers, descriptors and signal state as the parent left them.</summary>
    public void RestoreForkedState(ForkState s)
    {
        var c = Cpu;
        s.Registers.AsSpan(0, 16).CopyTo(c.R);
        c.Rip = s.Rip;
        c.Rflags = s.Rflags;
        c.FsBase = s.FsBase;
        c.GsBase = s.GsBase;
        for (int i = 0; i < 16; i++) c.Xmm[i] = System.Runtime.Intrinsics.Vector128.Create(s.Xmm[i]);
        c.Mxcsr = s.Mxcsr;
        c.Fpu.ControlWord = s.FpuControl;
        c.Fpu.StatusWord = s.FpuStatus;
        c.Fpu.TagWord = s.FpuTags;
        Array.Copy(s.FpuRegs, c.Fpu.Regs, 8);
        c.R[Registers.RAX] = 0; // fork returns 0 in the child
        Fds.Replace(s.Fds);
        Array.Copy(s.SignalActions, Signals.Actions, 65);
        Signals.Mask = s.SignalMask;
        CurrentThread.Affinity = s.Affinity;
        Signals.AltStackBase = s.AltStackBase;
        Signals.AltStackSize = s.AltStackSize;
        Signals.AltStackFlags = s.AltStackFlags;
        foreach (var (h, m) in s.SignalFds) SignalFds.Adopt(h, m);
        ExePath = s.ExePath;
        InterpreterPath = s.InterpreterPath;
        // The parent's image: its saved regions serve the child too (the child saves none; the image's runs do).
        OpenCodeCache(saveAtEnd: false);
        Argv = s.Argv;
        Envp = s.Envp;
        AuxVector = s.AuxVector;
        ThreadName = s.ThreadName;
        MemoryBorrowed = s.MemoryBorrowed;
        _forked = true;
        if (s.VirtualLimits.Length == VirtualLimits.Length) Array.Copy(s.VirtualLimits, VirtualLimits, VirtualLimits.Length);
        ApplyDescriptorLimit();
        EnsureSharedCoherence();
        AdoptSysVAttachments();
        if (s.ChildSetTid != 0) View.Write32(s.ChildSetTid, (uint)Pid);
        CurrentThread.ClearChildTid = s.ChildClearTid;
    }

    /// <summary>
    /// execve: validates the new program first (so a bad one leaves this process intact), then drops
    /// the old image, other threads and close-on-exec descriptors, resets caught signals and loads.
    /// </summary>
    /// <summary>Raised when an execve is certain to replace the image, while the old one is still mapped (a profile takes its map).</summary>
    public event Action? BeforeExec;

    /// <param name="name">The path as the guest gave it, when <paramref name="path"/> is what it resolved to (/proc/self/exe).</param>
    /// <param name="shown">What /proc/self/exe names, when <paramref name="path"/> is a descriptor's link (fexecve).</param>
    public long Exec(string path, string[] argv, string[] envp, string? name = null, string? shown = null)
    {
        long started = Stopwatch.GetTimestamp();
        try { return ExecImage(path, argv, envp, name ?? path, shown); }
        finally { ExecTicks += Stopwatch.GetTimestamp() - started; }
    }

    /// <summary>
    /// The copy of its parent's memory that a forked child leaves at execve is destroyed by the parent's server, which
    /// frees every frame of it (milliseconds, and more when that server's code runs for the first time): the new image
    /// does not wait for that. <see cref="Dispose"/> waits, so the connection outlives the request. A thread of its own,
    /// not the thread pool: the pool's first use in a process costs the caller milliseconds too.
    /// </summary>
    void ReleaseBorrowedCopy(IMemoryComponent parentMemory, int asid)
    {
        _borrowedCopyReleased = new Thread(() =>
        {
            // A parent that is gone took the copy with it.
            try { parentMemory.DestroyAddressSpace(asid); }
            catch (MemoryNodeFailure) { }
        }) { IsBackground = true, Name = "copy release" };
        _borrowedCopyReleased.Start();
    }

    Thread? _borrowedCopyReleased;

    /// <summary>Time spent in execve (reading, checking and loading images, releasing the old one), for <c>--stats</c>.</summary>
    public long ExecTicks { get; private set; }

    long ExecImage(string path, string[] argv, string[] envp, string name, string? shown)
    {
        // The new image is read once, checked here and loaded below: a bad one leaves this process intact.
        ElfFile elf;
        ElfFile? interp;
        IReadOnlyList<string> args;
        try
        {
            var program = ProgramFiles.Resolve(path, argv);
            (elf, interp, args) = (program.Elf, program.Interpreter, program.Argv);
        }
        catch (ExecFileException e) { return -e.Errno; }
        catch (ElfFormatException) { return -8; } // ENOEXEC

        // Point of no return: the old image goes.
        if (Timeline.Enabled) Timeline.Mark($"execve {elf.Path}");
        Execed = true;
        SaveCodeCache();
        BeforeExec?.Invoke();
        RetireHosts();
        WriteBackSharedMemory();
        LeaveSharedDirectory();
        DetachSysV();
        Timers?.DeleteAll();
        var oldAsid = Space.Asid;
        Cache.Shared(oldAsid).Clear();
        Cache.FlushRange(oldAsid, 0, VmaSet.TaskSize, writeBack: false);
        GuestAddressSpace fresh;
        if (MemoryBorrowed && !Cache.Coherent)
        {
            // Nothing ties the new image to the parent's memory: keep it in-process rather than a socket away.
            ReleaseBorrowedCopy(Space.Home, oldAsid);
            Cache.Rehome(new LockedMemoryComponent(new InProcessMemoryComponent()));
            View.InvalidateAll();
            fresh = new GuestAddressSpace(Cache.Component, Cache);
            MemoryBorrowed = false;
        }
        else
        {
            fresh = new GuestAddressSpace(Space.Home, Cache);
            Space.Home.DestroyAddressSpace(oldAsid);
        }
        Space = fresh;
        SharedDirectoryNewSpace(fresh.Asid);
        View.SwitchAddressSpace(fresh.Asid);
        Blocks.Clear();
        foreach (var t in Threads) if (t != _current) { t.Exited = true; t.Cpu.StopRequested = true; }
        foreach (var (g, h, cloexec) in Fds.All().ToList())
        {
            if (!cloexec) continue;
            Fds.Remove(g);
            if (Fds.References(h) == 0) CloseHost(h);
        }
        for (int sig = 1; sig < 65; sig++)
            if (Signals.Actions[sig].Handler > 1) Signals.Actions[sig] = default; // caught signals revert; ignored stay ignored
        Signals.AltStackBase = Signals.AltStackSize = 0;
        var c = Cpu;
        ((Span<ulong>)c.R).Clear();
        Array.Clear(c.Xmm);
        Array.Clear(c.YmmHigh);
        c.Fpu.Reset();
        c.Rflags = 0;
        c.FsBase = c.GsBase = 0;
        c.SetMxcsr(0x1f80);
        CurrentThread.ClearChildTid = 0;
        Load(elf, interp, args, envp, name, shown);
        c.YieldRequested = true; // leave the interpreter loop: its block chain belongs to the old image
        return 0;
    }
}
