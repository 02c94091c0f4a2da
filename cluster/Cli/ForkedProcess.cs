using LegoEmu.Cluster.Trace;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Remote;
using LegoEmu.Mem.Trace;
using LegoEmu.Syscalls.Host;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Cluster.Cli;

/// <summary>How a forked guest process's processor component is to run: what its parent put on its command line.</summary>
public sealed record ForkedOptions
{
    public int? StateFd { get; init; }
    public int? PoolSocket { get; init; }
    /// <summary>With <see cref="StateFd"/>: the socket on which the parent asks for what only this process can do (<see cref="ForkControl"/>).</summary>
    public int? ControlFd { get; init; }
    /// <summary>With <see cref="PoolSocket"/>: the memory endpoints (comma-separated) to connect to while idle.</summary>
    public string? Memory { get; init; }
    /// <summary>With <see cref="PoolSocket"/>: the process group of the process that started this one, joined first thing (it starts in a group of its own).</summary>
    public long? JoinGroup { get; init; }
    public long Excache { get; init; } = 1L << 30;
    public int Ways { get; init; } = 8;
    public int Line { get; init; } = 4096;
    public string Policy { get; init; } = ReplacementPolicies.Name(CacheConfig.DefaultPolicy);
    public PrefetchMode Prefetch { get; init; } = PrefetchMode.Stride;
    public int PrefetchDepth { get; init; } = CacheConfig.DefaultPrefetchDepth;
    public bool QueueWriteBacks { get; init; } = true;
    public bool Strace { get; init; }
    /// <summary>Print this process's <c>--stats</c> at its exit, labelled with its pid (<c>run --stats</c> of a process tree).</summary>
    public bool Stats { get; init; }
    public string? Trace { get; init; }
    public string TraceLevel { get; init; } = "misses";
    public string TraceSample { get; init; } = "1";
    /// <summary><c>run --profile FILE</c>'s FILE: this process writes FILE.PID.</summary>
    public string? Profile { get; init; }
    public int Pool { get; init; }
    public LegoEmu.Cpu.Translate.TierOptions Tier { get; init; } = LegoEmu.Cpu.Translate.TierOptions.Default;
    /// <summary>The CPU model of the parent, which the forked process keeps.</summary>
    public LegoEmu.Cpu.CpuLevel Cpu { get; init; } = LegoEmu.Cpu.CpuModel.Default;

    /// <summary>
    /// Reads the options of <c>procnode --state-fd|--pool-socket</c> without System.CommandLine: every fork
    /// starts such a process, and building the parser costs more than the few options it has. The same
    /// options are declared in <see cref="ProcnodeCommand"/> for its help.
    /// </summary>
    public static ForkedOptions? Parse(IReadOnlyList<string> args, out string error)
    {
        var o = new ForkedOptions();
        error = "";
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (name == "--strace") { o = o with { Strace = true }; continue; }
            if (name == "--stats") { o = o with { Stats = true }; continue; }
            if (i + 1 >= args.Count) { error = $"option {name} needs a value"; return null; }
            string v = args[++i];
            bool ok = true;
            switch (name)
            {
                case "--state-fd": ok = int.TryParse(v, out int fd); o = o with { StateFd = fd }; break;
                case "--pool-socket": ok = int.TryParse(v, out int socket); o = o with { PoolSocket = socket }; break;
                case "--memory": o = o with { Memory = v }; break;
                case "--join-group": ok = long.TryParse(v, out long group) && group > 0; o = o with { JoinGroup = group }; break;
                case "--control-fd": ok = int.TryParse(v, out int control); o = o with { ControlFd = control }; break;
                case "--excache": ok = long.TryParse(v, out long size); o = o with { Excache = size }; break;
                case "--ways": ok = int.TryParse(v, out int ways); o = o with { Ways = ways }; break;
                case "--line": ok = int.TryParse(v, out int line); o = o with { Line = line }; break;
                case "--pool": ok = int.TryParse(v, out int pool) && pool >= 0; o = o with { Pool = pool }; break;
                case "--policy": o = o with { Policy = v }; break;
                case "--prefetch": ok = MissPathArguments.ParsePrefetch(v) != null; o = o with { Prefetch = MissPathArguments.ParsePrefetch(v) ?? PrefetchMode.Stride }; break;
                case "--prefetch-depth": ok = int.TryParse(v, out int depth); o = o with { PrefetchDepth = depth }; break;
                case "--write-back": ok = v is "queued" or "combined"; o = o with { QueueWriteBacks = v != "combined" }; break;
                case "--trace": o = o with { Trace = v }; break;
                case "--trace-level": o = o with { TraceLevel = v }; break;
                case "--trace-sample": o = o with { TraceSample = v }; break;
                case "--profile": o = o with { Profile = v }; break;
                case "--tier": ok = v is "auto" or "interp"; o = o with { Tier = o.Tier with { Translate = v == "auto" } }; break;
                case "--cpu": ok = LegoEmu.Cpu.CpuModel.TryParse(v, out var level); o = o with { Cpu = level }; break;
                case "--translate-threshold": ok = int.TryParse(v, out int threshold) && threshold >= 0; o = o with { Tier = o.Tier with { Threshold = threshold } }; break;
                case "--code-cache": o = o with { Tier = o.Tier with { CodeCache = v == "off" ? null : v } }; break;
                default: error = $"unknown option {name}"; return null;
            }
            if (!ok) { error = $"bad value '{v}' for {name}"; return null; }
        }
        if ((o.StateFd == null) == (o.PoolSocket == null)) { error = "give exactly one of --state-fd FD and --pool-socket FD"; return null; }
        return o;
    }
}

/// <summary>
/// The processor component of a forked guest process: it takes the fork state, attaches to the copied address
/// space and runs. Under a pool (<c>--pool</c> above 0) it outlives its guest: it releases what the guest held,
/// reports the exit to its parent (<see cref="ForkControl"/>) and waits, warm, for the parent's next fork.
/// </summary>
public static class ForkedProcess
{
    /// <summary>Decoded-instruction memory an idle component faults in ahead (about 180 000 instructions).</summary>
    const long PreparedInsnBytes = 16L << 20;

    public static int Run(ForkedOptions o)
    {
        // Its parent's pool waits for this before handing it a fork. When the group has gone meanwhile (the parent moved
        // to another), a child could not start in its parent's group here: the component ends, and the pool lets it go.
        if (o.JoinGroup is long join && LegoEmu.Syscalls.Host.Native.Sys(LegoEmu.Syscalls.Abi.Nr.setpgid, 0, join) < 0) return 0;
        Timeline.Inherit();
        ProcessSpread.Inherit();
        Timeline.Mark(o.PoolSocket != null ? "component started (idle)" : "component started for a fork");
        LegoEmu.Cpu.CpuModel.Select(o.Cpu);
        ForkState s;
        MemoryCluster? connected = null;
        GuestProcess? current = null;
        // The parent's setpgid of a child that has not called execve: the control thread asks the guest running now
        // (none yet: the guest is about to start from its fork state, so it has not).
        Func<bool> execed = () => Volatile.Read(ref current)?.Execed ?? false;
        Action parentEnded = () => Volatile.Read(ref current)?.ParentEnded();
        // A pooled component's hand-over socket stays open as its control socket.
        int control = o.PoolSocket ?? o.ControlFd ?? -1;
        ForkControl.ComponentInbox? inbox = null;
        string? connectedTo = o.Memory;
        string componentName = ReadName();
        long parent = LegoEmu.Syscalls.Host.Native.Sys(LegoEmu.Syscalls.Abi.Nr.getppid);
        if (o.PoolSocket is int socket)
        {
            // Connecting (and the first use of that code) costs milliseconds a fork need not wait for.
            if (o.Memory != null) connected = Connect(o.Memory);
            inbox = ForkControl.Serve(socket, execed, parentEnded);
            // The guest's ExCache storage, made while this waits rather than after the hand-over (4 ms of a fork's wait),
            // and memory for its decoded instructions, faulted in now rather than page by page as it decodes (a compiler
            // decodes 20 MB of them: 20 of cc1's 240 ms went to those page faults).
            new Thread(() =>
            {
                ExCache.PrepareStorage(CacheConfigOf(o));
                LegoEmu.Cpu.Decode.InsnStorage.Prepare(PreparedInsnBytes);
            }) { IsBackground = true, Name = "excache storage" }.Start();
            HostProcesses.NameSelf(HostProcesses.IdleComponentName);
            // The parent closes the socket when it needs no more children: that ends an idle component quietly.
            Timeline.Mark("ready for a fork");
            if (inbox.Take() is not { } handed)
            {
                connected?.Dispose();
                return 0;
            }
            HostProcesses.NameSelf(componentName);
            Timeline.Mark("handed a fork");
            s = handed;
        }
        else
        {
            int fd = o.StateFd!.Value;
            try
            {
                s = ForkState.Read(fd);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or EndOfStreamException)
            {
                Console.Error.WriteLine($"legoemu procnode: cannot read the fork state from descriptor {fd}: {e.Message}");
                return 70;
            }
            if (control >= 0) inbox = ForkControl.Serve(control, execed, parentEnded);
        }
        // A traced or profiled process is not reused: its file is named by its pid, which the next guest here would share.
        var host = inbox != null && o.Pool > 0 && o.Trace == null && o.Profile == null ? ComponentHostState.Take() : null;
        // Each guest here gets the storage of the last one's ExCache, reset while the component waited.
        ExCache.RecycleStorage = host != null;
        while (true)
        {
            int status = RunGuest(o, s, connected, connectedTo, p => Volatile.Write(ref current, p), host != null, out bool released, out var times);
            Volatile.Write(ref current, null);
            // From here the guest is gone: the parent's setpgid for it gets ESRCH, not a move of this component.
            if (inbox != null) inbox.Idle = true;
            if (host == null || !released || !host.Restore(out long group)) return status;
            EmulatorStderr.Release();
            // Named idle before the parent hears of the exit: from then on group signals pass this component by, and a
            // subreaper that inherits it (the parent ended) does not take it for an orphaned guest. An orphan, whose exit
            // no parent hears, ends as the guest's own (its subreaper, if any, reaps it as a guest).
            if (LegoEmu.Syscalls.Host.Native.Sys(LegoEmu.Syscalls.Abi.Nr.getppid) != parent) return status;
            HostProcesses.NameSelf(HostProcesses.IdleComponentName);
            if (!ForkControl.ReportExit(control, (status & 0xff) << 8, times.Self, group, times.Children))
            {
                HostProcesses.NameSelf(componentName);
                return status;
            }
            LegoEmu.Syscalls.Host.Native.Sys(LegoEmu.Syscalls.Abi.Nr.kill, LegoEmu.Syscalls.Host.Native.Sys(LegoEmu.Syscalls.Abi.Nr.getppid), GuestProcess.ReportSignal);
            // The parent's next fork most likely comes from the same memory.
            connectedTo = string.Join(',', s.MemoryEndpoints);
            connected = Connect(connectedTo);
            Timeline.Mark("ready for the next fork");
            if (inbox!.Take() is not { } next)
            {
                connected?.Dispose();
                return 0;
            }
            HostProcesses.NameSelf(componentName);
            Timeline.Mark("handed a fork");
            s = next;
        }
    }

    /// <summary>The host name of a component running a guest: the executable's, as it started.</summary>
    static string ReadName()
    {
        try { return File.ReadAllText("/proc/self/comm").TrimEnd('\n'); }
        catch (IOException) { return "legoemu"; }
    }

    /// <summary>
    /// Runs one guest from its fork state and returns its status. With <paramref name="outlive"/>, a guest that exits
    /// (not killed) leaves the component reusable when everything it held could be released (<paramref name="released"/>);
    /// <paramref name="times"/> is the CPU time the guest and the children it reaped used.
    /// </summary>
    static int RunGuest(ForkedOptions o, ForkState s, MemoryCluster? connected, string? connectedTo, Action<GuestProcess?> running, bool outlive,
        out bool released, out ((long User, long System) Self, (long User, long System) Children) times)
    {
        released = false;
        times = default;
        if (connected != null && string.Join(',', s.MemoryEndpoints) != connectedTo)
        {
            connected.Dispose();
            connected = null;
        }
        var config = CacheConfigOf(o);
        if (config.Validate() is { } err) { connected?.Dispose(); Console.Error.WriteLine($"legoemu procnode: {err}"); return 2; }
        if (!ParseEndpoints(s.MemoryEndpoints, out var endpoints, out string perr)) { connected?.Dispose(); Console.Error.WriteLine($"legoemu procnode: {perr}"); return 2; }
        MemoryCluster cluster;
        try { cluster = connected ?? new MemoryCluster(endpoints); }
        catch (MemoryNodeFailure e) { Console.Error.WriteLine($"legoemu: {e.Message}"); return 70; }
        // A component that ends with its guest ends as soon as this returns (Program.ExitNow or the guest's signal), and
        // the kernel closes its memory links then; disposing them first only waits for their reader threads to let go.
        bool ended = false;
        try
        {
            cluster.Attach(s.Asid, s.HomeNode, s.RegionOwners, s.Brk, s.SpaceKey);
            TraceRequest? traceRequest = null;
            if (o.Trace is { } tracePath && TraceRequest.TryParseRate(o.TraceSample, out double rate))
                traceRequest = new TraceRequest(tracePath, o.TraceLevel == "accesses" ? TraceLevel.Accesses : TraceLevel.Misses, rate);
            var options = new RunOptions(config, o.Strace, o.Stats, EmulatorStderr.Writer)
            {
                ChildArguments = [.. traceRequest?.ChildArguments() ?? [], .. o.Tier.ToArguments(), .. CpuArgument.ToArguments(), .. MissPathArguments.ToArguments(config),
                    .. o.Profile != null ? new[] { "--profile", o.Profile } : [], .. o.Stats ? new[] { "--stats" } : []], PoolSize = o.Pool,
                DiagnosticsDescriptor = EmulatorStderr.Descriptor, Tier = o.Tier, Forked = true,
            };
            int status;
            using (var process = new GuestProcess(cluster, options, s.Asid))
            {
                // Before anything is cached: a cache shared with another component is coherent from the start.
                bool placed = s.ThreadHost.Length > 0 && PlaceElsewhere(process, cluster, s.ThreadHost);
                process.RestoreForkedState(s);
                if (placed) process.LaunchOnHost();
                Timeline.Mark("fork state restored");
                running(process);
                MemoryTracer? tracer = null;
                if (traceRequest != null)
                {
                    try { tracer = traceRequest.Start(process, process.Argv, endpoints.Count, forked: true); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // The guest must not fail because its trace cannot be written; say so once.
                        Console.Error.WriteLine($"legoemu: --trace {traceRequest.PathFor(process, true)}: {e.Message}; this process is not traced");
                    }
                    if (tracer != null)
                    {
                        var t = tracer;
                        process.EmergencyCleanup = () => traceRequest.Abandon(t);
                    }
                }
                var profile = o.Profile != null ? new ProfileSession(ProfileSession.PathFor(o.Profile, process, forked: true), process) : null;
                try
                {
                    status = process.Run();
                    if (Timeline.Enabled) Timeline.Mark($"exit {status}");
                }
                finally
                {
                    if (tracer != null) traceRequest!.Finish(process, tracer);
                }
                profile?.Finish(EmulatorStderr.Writer);
                RunCommand.PendingSignalDeath = process.KilledBySignal;
                times = (process.CpuTime.Self(), process.CpuTime.Children());
                if (!outlive || process.KilledBySignal != 0) return status;
                released = process.ReleaseForReuse();
                if (!released) return status;
                ended = true;
            }
            cluster.Dispose();
            return status;
        }
        catch
        {
            if (!ended) cluster.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <c>--spread processes</c>: the guest computes on the component its parent claimed for it. One that cannot be
    /// reached (another run took it, it went away) costs a line, and the guest runs here as without the option.
    /// </summary>
    static bool PlaceElsewhere(GuestProcess process, MemoryCluster cluster, string host)
    {
        string why;
        if (Endpoint.TryParse(host, out var endpoint, out why))
        {
            try
            {
                process.PlaceOn(cluster, endpoint!);
                return true;
            }
            catch (MemoryNodeFailure e) { why = e.Message; }
        }
        Console.Error.WriteLine($"legoemu: --spread processes: {why}; process {Environment.ProcessId} runs on its origin");
        return false;
    }

    static CacheConfig CacheConfigOf(ForkedOptions o)
    {
        var pol = ReplacementPolicies.Parse(o.Policy) ?? throw new ArgumentException($"unknown --policy '{o.Policy}'");
        return new CacheConfig(o.Excache, o.Ways, o.Line, pol) { Prefetch = o.Prefetch, PrefetchDepth = o.PrefetchDepth, QueueWriteBacks = o.QueueWriteBacks };
    }

    static bool ParseEndpoints(IEnumerable<string> texts, out List<Endpoint> endpoints, out string error)
    {
        endpoints = new List<Endpoint>();
        error = "";
        foreach (var text in texts)
        {
            if (!Endpoint.TryParse(text, out var ep, out error)) return false;
            endpoints.Add(ep!);
        }
        return true;
    }

    /// <summary>
    /// An idle pooled component's connection to the memory its parent serves, made ahead of the fork; null when
    /// it cannot be made now (the fork then connects, and reports what goes wrong).
    /// </summary>
    static MemoryCluster? Connect(string memory)
    {
        if (!ParseEndpoints(memory.Split(','), out var endpoints, out _)) return null;
        try { return new MemoryCluster(endpoints); }
        catch (MemoryNodeFailure) { return null; }
    }
}
