using System.CommandLine;
using LegoEmu.Loader.Elf;
using LegoEmu.Loader.Image;
using LegoEmu.Mem;
using LegoEmu.Mem.Cache;
using LegoEmu.Cluster.Nodes;
using LegoEmu.Cluster.Membership;
using LegoEmu.Cluster.Trace;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Cluster.Cli;

/// <summary><c>legoemu run [options] PROGRAM [ARGS…]</c>: one processor component and one memory component, in-process.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var excache = new Option<string>("--excache") { Description = "ExCache size (K, M, G suffixes: powers of 1024)", DefaultValueFactory = _ => DefaultExcache, HelpName = "SIZE" };
        var ways = new Option<int?>("--ways") { Description = "ExCache associativity (default 8, fewer when the cache holds fewer lines)", HelpName = "N" };
        var line = new Option<string>("--line") { Description = "ExCache line size, a power of two from 64 B to 4K", DefaultValueFactory = _ => DefaultLine, HelpName = "SIZE" };
        var policy = new Option<string>("--policy") { Description = "ExCache replacement policy", DefaultValueFactory = _ => DefaultPolicy, HelpName = "fifo|lru|random|clock" };
        policy.AcceptOnlyFromAmong(ReplacementPolicies.Names);
        var prefetch = new Option<string>("--prefetch") { Description = "With memory nodes: fetch lines ahead of the guest: off, next (the lines after each miss) or stride (along a stride two misses of a stream agree on)", DefaultValueFactory = _ => "stride", HelpName = "off|next|stride" };
        prefetch.AcceptOnlyFromAmong("off", "next", "stride");
        var prefetchDepth = new Option<int>("--prefetch-depth") { Description = $"Lines kept in flight ahead of a stream (1-{CacheConfig.MaxPrefetchDepth})", DefaultValueFactory = _ => CacheConfig.DefaultPrefetchDepth, HelpName = "N" };
        var writeBack = new Option<string>("--write-back") { Description = "With memory nodes: queued sends a dirty victim behind its fill without waiting for it; combined sends it with the fill in one request that the node stores before answering", DefaultValueFactory = _ => "queued", HelpName = "queued|combined" };
        writeBack.AcceptOnlyFromAmong("queued", "combined");
        var stats = new Option<bool>("--stats") { Description = "Print cache counters and guest instructions executed to stderr at exit" };
        var statsJson = new Option<string?>("--stats-json") { Description = "At exit, write the ExCache counters (accesses, misses, miss ratio, fills, evictions, write-backs) and the translator's (instructions translated and interpreted, regions compiled, compile time) as JSON to FILE", HelpName = "FILE" };
        var profile = new Option<string?>("--profile") { Description = "At exit, write to FILE in callgrind's format the instructions retired, data accesses, ExCache misses, misses served by a memory component and write-backs, per guest instruction", HelpName = "FILE" };
        var strace = new Option<bool>("--strace") { Description = "Print every system call with decoded arguments and result to stderr" };
        var memoryNodes = new Option<string?>("--memory-nodes") { Description = "Keep guest memory in memory-node processes: N spawns N local nodes on Unix sockets; or a comma-separated list of running ones (unix:PATH, tcp:HOST:PORT)", HelpName = "N|ENDPOINTS" };
        var processors = new Option<string?>("--processors") { Description = "Spread the guest's threads over processor components: N runs this one and N-1 local thread-host processes; per-thread gives every guest thread a processor component (host thread and ExCache) inside this process; or a comma-separated list of running 'procnode --listen' endpoints. Caches stay coherent through the memory nodes (one is spawned if --memory-nodes is not given)", HelpName = "N|per-thread|ENDPOINTS" };
        var linkLatency = new Option<string?>("--link-latency") { Description = "With --memory-nodes N: the spawned nodes emulate a slower link: every reply waits this many microseconds first (see memnode)", HelpName = "MICROSECONDS" };
        var linkBandwidth = new Option<string?>("--link-bandwidth") { Description = "With --memory-nodes N: the spawned nodes' replies leave at most at this many bytes per second (K, M, G suffixes; see memnode)", HelpName = "SIZE" };
        var nodeCapacity = new Option<string?>("--node-capacity") { Description = "Frame memory each spawned memory node may hold (K, M, G suffixes); unbounded by default", HelpName = "SIZE" };
        var timeline = new Option<string?>("--timeline") { Description = "Write the process tree's timeline to FILE: a line per step of every process (component started, ready, handed a fork, image loaded, fork, execve, exit) with the milliseconds since the run started", HelpName = "FILE" };
        var trace = new Option<string?>("--trace") { Description = "Record the guest's memory behaviour to FILE (see 'legoemu trace report')", HelpName = "FILE" };
        var traceLevel = new Option<string>("--trace-level") { Description = "misses: ExCache fills, evictions, write-backs; accesses: also every load, store and fetch (line granularity)", DefaultValueFactory = _ => "misses", HelpName = "misses|accesses" };
        traceLevel.AcceptOnlyFromAmong("misses", "accesses");
        var traceSample = new Option<string>("--trace-sample") { Description = "With --trace-level accesses: keep a line iff a hash of its address falls under RATE (SHARDS), e.g. 0.01 or 1%", DefaultValueFactory = _ => "1", HelpName = "RATE" };
        var nodeTimeout = new Option<string?>("--node-timeout") { Description = $"Seconds to wait for a memory node's answer before declaring it failed: the guest then ends with one line naming the node and status 135 (default {NodeTimeout.Default.TotalSeconds:0})", HelpName = "SECONDS" };
        var replicas = new Option<int>("--replicas") { Description = "Copies of each vRegion on different memory nodes: 2 keeps a primary and a backup, so the guest goes on when a node fails (needs at least 2 memory nodes)", DefaultValueFactory = _ => 1, HelpName = "1|2" };
        var pool = new Option<int>("--pool") { Description = "Idle processor components each guest process keeps ready for its forks once it has forked: started ahead and warmed up, they take a fork's state instead of starting .NET; 0 starts every forked process cold", DefaultValueFactory = _ => DefaultPool, HelpName = "N" };
        var command = new Argument<string[]>("PROGRAM [ARGS]")
        {
            Description = "The static x86-64 Linux executable and its arguments (passed to the guest untouched)",
            Arity = ArgumentArity.OneOrMore,
            CaptureRemainingTokens = true,
        };

        var tier = new TierArguments();
        var cpu = new CpuArgument();
        var cmd = new Command("run", "Run an x86-64 Linux program under LegoEmu");
        tier.AddTo(cmd);
        cpu.AddTo(cmd);
        cmd.Options.Add(excache);
        cmd.Options.Add(ways);
        cmd.Options.Add(line);
        cmd.Options.Add(policy);
        cmd.Options.Add(prefetch);
        cmd.Options.Add(prefetchDepth);
        cmd.Options.Add(writeBack);
        cmd.Options.Add(stats);
        cmd.Options.Add(statsJson);
        cmd.Options.Add(profile);
        cmd.Options.Add(strace);
        cmd.Options.Add(memoryNodes);
        cmd.Options.Add(nodeCapacity);
        cmd.Options.Add(linkLatency);
        cmd.Options.Add(linkBandwidth);
        cmd.Options.Add(processors);
        cmd.Options.Add(trace);
        cmd.Options.Add(timeline);
        cmd.Options.Add(traceLevel);
        cmd.Options.Add(traceSample);
        cmd.Options.Add(pool);
        cmd.Options.Add(nodeTimeout);
        cmd.Options.Add(replicas);
        var credentials = CredentialsOption.Create();
        cmd.Options.Add(credentials);
        var cluster = ClusterOption.Create("Keep guest memory on the memory nodes registered in this cluster (instead of --memory-nodes), placing each vRegion by free memory and load, and record the placement in etcd");
        var leaseTtl = ClusterOption.CreateLeaseTtl();
        var spread = new Option<string>("--spread") { Description = "With --cluster: threads places the guest's threads on the idle processor components registered in the cluster (as --processors ENDPOINTS would); processes runs each forked process's threads on one of them, its system calls coming back to its component here; none keeps them on this host", DefaultValueFactory = _ => "none", HelpName = "threads|processes|none" };
        spread.AcceptOnlyFromAmong("threads", "processes", "none");
        cmd.Options.Add(cluster);
        cmd.Options.Add(leaseTtl);
        cmd.Options.Add(spread);
        cmd.Arguments.Add(command);
        cmd.SetAction(pr =>
        {
            string[] argv = pr.GetValue(command)!;
            if (CacheFrom(pr.GetValue(excache)!, pr.GetValue(ways), pr.GetValue(line)!, pr.GetValue(policy)!, out string? cacheError) is not { } geometry)
                return Fail(cacheError!);
            var config = geometry with
            {
                Prefetch = MissPathArguments.ParsePrefetch(pr.GetValue(prefetch)!) ?? PrefetchMode.Stride,
                PrefetchDepth = pr.GetValue(prefetchDepth),
                QueueWriteBacks = pr.GetValue(writeBack) != "combined",
            };
            if (config.Validate() is { } missPathError) return Fail(missPathError);
            TraceRequest? traceRequest = null;
            if (pr.GetValue(trace) is { } tracePath)
            {
                if (!TraceRequest.TryParseRate(pr.GetValue(traceSample)!, out double rate)) return Fail($"bad --trace-sample '{pr.GetValue(traceSample)}': a rate in (0, 1] such as 0.01 or 1%");
                var level = pr.GetValue(traceLevel) == "accesses" ? LegoEmu.Mem.Trace.TraceLevel.Accesses : LegoEmu.Mem.Trace.TraceLevel.Misses;
                if (rate < 1 && level == LegoEmu.Mem.Trace.TraceLevel.Misses) return Fail("--trace-sample applies to --trace-level accesses only");
                traceRequest = new TraceRequest(Path.GetFullPath(tracePath), level, rate);
            }
            if (tier.Parse(pr, out string? tierError) is not { } tierOptions) return Fail(tierError!);
            cpu.Apply(pr);
            if (pr.GetValue(pool) is < 0 or > 16) return Fail("--pool N must be between 0 and 16");
            if (!CredentialsOption.Apply(pr.GetValue(credentials), "run")) return 2;
            if (pr.GetValue(nodeTimeout) is { } timeoutText)
            {
                if (!NodeTimeout.TryParse(timeoutText, out var timeout)) return Fail($"bad --node-timeout '{PrintableName.Escape(timeoutText)}': seconds from 0.1 to 86400");
                NodeTimeout.Value = timeout;
            }
            var options = new RunOptions(config, pr.GetValue(strace), pr.GetValue(stats), EmulatorStderr.Writer)
            {
                ChildArguments = [.. traceRequest?.ChildArguments() ?? [], .. tierOptions.ToArguments(), .. CpuArgument.ToArguments(), .. MissPathArguments.ToArguments(config),
                    .. pr.GetValue(stats) ? new[] { "--stats" } : []],
                Tier = tierOptions,
                PoolSize = pr.GetValue(pool),
                DiagnosticsDescriptor = EmulatorStderr.Descriptor,
            };
            int copies = pr.GetValue(replicas);
            if (copies is < 1 or > Replication.MaxFactor) return Fail($"--replicas must be 1 or {Replication.MaxFactor}");
            string? memoryNodesText = pr.GetValue(memoryNodes);
            string? clusterError = null;
            using var clusterRun = pr.GetValue(cluster) is { } clusterText ? ClusterRun.Open(clusterText, pr.GetValue(leaseTtl), memoryNodesText, out clusterError) : null;
            if (pr.GetValue(cluster) != null && clusterRun == null) return clusterError == null ? 2 : Fail(clusterError);
            if (clusterRun != null) memoryNodesText = clusterRun.MemoryNodes;
            string? processorsText = pr.GetValue(processors), spreadProcesses = null;
            if (pr.GetValue(spread) is "threads" or "processes")
            {
                if (clusterRun == null) return Fail($"--spread {pr.GetValue(spread)} needs --cluster: it places work on the cluster's registered processor components");
                if (processorsText != null) return Fail($"--spread {pr.GetValue(spread)} chooses the processor components: it does not combine with --processors");
                if (clusterRun.IdleProcessors($"--spread {pr.GetValue(spread)}", out string? spreadError) is not { } idle) return Fail(spreadError!);
                if (pr.GetValue(spread) == "threads") processorsText = idle;
                else spreadProcesses = idle;
            }
            if (copies > 1)
            {
                string? nodes = memoryNodesText;
                int count = nodes == null ? 0 : int.TryParse(nodes, out int c) ? c : nodes.Split(',', StringSplitOptions.RemoveEmptyEntries).Length;
                if (count < copies) return Fail($"--replicas {copies} needs at least {copies} memory nodes (--memory-nodes)");
                if (pr.GetValue(spread) is "threads" or "processes") return Fail("--replicas 2 does not combine with --spread yet");
            }
            Replication.Factor = copies;
            long capacity = 0;
            if (pr.GetValue(nodeCapacity) is { } capText && !SizeParser.TryParse(capText, out capacity)) return Fail($"bad --node-capacity '{capText}'");
            if (!LinkArguments.TryParse("run", pr.GetValue(linkLatency), pr.GetValue(linkBandwidth), out var nodeLink)) return 2;
            // The nodes of an endpoint list (or of the cluster) were started by someone else, with their own links.
            if (nodeLink != null && !int.TryParse(memoryNodesText, out _)) return Fail("--link-latency and --link-bandwidth apply to the memory nodes run spawns (--memory-nodes N)");
            StatsJsonPath = pr.GetValue(statsJson);
            if (pr.GetValue(timeline) is { } timelinePath)
            {
                if (!Timeline.Start(timelinePath, out string? timelineError)) return Fail(timelineError!);
                Timeline.Mark($"run {string.Join(' ', argv)}");
            }
            ProfilePath = pr.GetValue(profile) is { } profilePath ? Path.GetFullPath(profilePath) : null;
            // Forked processes profile themselves into FILE.PID.
            if (ProfilePath != null) options = options with { ChildArguments = [.. options.ChildArguments, "--profile", ProfilePath] };
            string? spreadDirectory = null;
            if (spreadProcesses != null)
            {
                try { spreadDirectory = LegoEmu.Syscalls.Host.TempDirectory.CreatePrivate("legoemu-spread-"); }
                catch (LegoEmu.Syscalls.Host.TempDirectoryException e) { return Fail($"--spread processes: {e.Message}"); }
                ProcessSpread.Start(spreadDirectory, spreadProcesses.Split(','));
            }
            try { return Run(argv, options, memoryNodesText, capacity, traceRequest, processorsText, clusterRun, nodeLink); }
            finally
            {
                if (spreadDirectory != null) try { Directory.Delete(spreadDirectory, recursive: true); } catch (IOException) { }
            }
        });
        return cmd;
    }

    const string DefaultExcache = "1G", DefaultLine = "4K";
    static string DefaultPolicy => ReplacementPolicies.Name(CacheConfig.DefaultPolicy);

    const int DefaultPool = 1;

    static CacheConfig? CacheFrom(string excache, int? ways, string line, string policy, out string? error)
    {
        if (!Sizes(excache, line, out long size, out long lineSize, out error)) return null;
        if (ReplacementPolicies.Parse(policy) is not { } pol) { error = $"unknown --policy '{policy}'"; return null; }
        return CacheFrom(size, ways, lineSize, pol, out error);
    }

    static bool Sizes(string excache, string line, out long size, out long lineSize, out string? error)
    {
        error = null;
        lineSize = 0;
        if (!SizeParser.TryParse(excache, out size)) { error = $"bad --excache size '{excache}'"; return false; }
        if (!SizeParser.TryParse(line, out lineSize) || lineSize > int.MaxValue) { error = $"bad --line size '{line}'"; return false; }
        return true;
    }

    static CacheConfig? CacheFrom(long size, int? ways, long lineSize, ReplacementPolicy pol, out string? error)
    {
        // Without an explicit --ways a small cache becomes fully associative rather than an error.
        int w = ways ?? (int)Math.Clamp(size / Math.Max(lineSize, 1), 1, 8);
        var config = new CacheConfig(size, w, (int)lineSize, pol);
        error = config.Validate();
        return error == null ? config : null;
    }

    /// <summary>
    /// <c>legoemu run PROGRAM [ARGS…]</c> with no options: every option at its default, without building the
    /// option parser, whose start-up is a sixth of a static hello's.
    /// </summary>
    public static int RunWithDefaults(string[] argv)
    {
        // The default policy as it is, not by its name: the name is the enum's ToString, whose first use reads the enum's
        // metadata by reflection (a few milliseconds of every start).
        Sizes(DefaultExcache, DefaultLine, out long size, out long lineSize, out _);
        var config = CacheFrom(size, null, lineSize, CacheConfig.DefaultPolicy, out _)!;
        // LEGOEMU_CODE_CACHE applies here too, as it does through the option parser.
        if (TierArguments.Defaults(out string? error) is not { } tier) return Fail(error!);
        var options = new RunOptions(config, false, false, EmulatorStderr.Writer)
        {
            ChildArguments = [.. tier.ToArguments(), .. CpuArgument.ToArguments()], Tier = tier, PoolSize = DefaultPool, DiagnosticsDescriptor = EmulatorStderr.Descriptor,
        };
        return Run(argv, options);
    }

    /// <summary>Where --stats-json writes the counters of the guest at exit (null: not asked for).</summary>
    public static string? StatsJsonPath { get; set; }

    /// <summary>Where --profile writes the per-instruction costs at exit (null: not asked for).</summary>
    public static string? ProfilePath { get; set; }

    /// <summary>Set when the guest died of a signal; Main re-raises it after everything is cleaned up.</summary>
    public static int PendingSignalDeath { get; set; }

    static int Fail(string message)
    {
        Console.Error.WriteLine($"legoemu: {message}");
        return 2;
    }

    /// <summary>Loads and runs the program; errors before the guest starts exit 126/127 as a shell would.</summary>
    /// <param name="clusterRun">With <c>--cluster</c>: the registered nodes chosen, whose placement is recorded in etcd.</param>
    /// <param name="nodeLink">With <paramref name="memoryNodes"/> a count: the slower link the spawned nodes emulate.</param>
    public static int Run(string[] argv, RunOptions options, string? memoryNodes = null, long nodeCapacity = 0, TraceRequest? trace = null,
        string? processors = null, ClusterRun? clusterRun = null, LinkEmulation? nodeLink = null)
    {
        string program = argv[0];
        // Like a shell (and unlike qemu-user), a bare name is looked up on PATH; argv[0] stays as typed.
        if (!program.Contains('/') && Nodes.ExecutablePath.Find(program) is { } found) program = found;
        // A shell says so for a directory (execve itself answers EACCES); everything else is execve's answer, at load.
        if (Directory.Exists(program)) return LoadError(program, "Is a directory", 126);
        // A plain run returns before the code for memory nodes and thread hosts, whose types the runtime would
        // otherwise prepare when this method is first called.
        if (memoryNodes == null && processors == null)
            return RunOn(new LockedMemoryComponent(new InProcessMemoryComponent()), program, argv, options, trace, 0);
        return RunOnNodes(program, argv, options, memoryNodes, nodeCapacity, trace, processors, clusterRun, nodeLink);
    }

    /// <summary><see cref="Run"/> with memory nodes, thread hosts or both.</summary>
    static int RunOnNodes(string program, string[] argv, RunOptions options, string? memoryNodes, long nodeCapacity, TraceRequest? trace,
        string? processors, ClusterRun? clusterRun, LinkEmulation? nodeLink)
    {
        var hostEndpoints = new List<Endpoint>();
        int spawnHosts = 0;
        bool perThread = processors == "per-thread";
        if (perThread) memoryNodes ??= "1";
        else if (processors != null)
        {
            if (int.TryParse(processors, out int n))
            {
                if (n < 1 || n > 64) return Fail("--processors N must be between 1 and 64");
                spawnHosts = n - 1;
            }
            else
            {
                foreach (var text in processors.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!Endpoint.TryParse(text, out var ep, out string err)) return Fail($"--processors: {err}");
                    hostEndpoints.Add(ep!);
                }
                if (hostEndpoints.Count == 0) return Fail("--processors needs a count or at least one endpoint");
            }
            // Coherent caches need their memory in memory nodes, where the line directories are.
            if ((spawnHosts > 0 || hostEndpoints.Count > 0) && memoryNodes == null) memoryNodes = "1";
        }
        if (memoryNodes == null) return RunOn(new LockedMemoryComponent(new InProcessMemoryComponent()), program, argv, options, trace, 0);

        LocalNodes? spawned = null;
        List<Endpoint> endpoints;
        if (int.TryParse(memoryNodes, out int count))
        {
            if (count < 1 || count > 64) return Fail("--memory-nodes N must be between 1 and 64");
            // A fresh key only when this run spawns every component it talks to: hosts the user started have none.
            try { spawned = LocalNodes.MemoryNodes(count, nodeCapacity, freshKey: hostEndpoints.Count == 0, link: nodeLink); }
            catch (MemoryNodeFailure e) { return Fail(e.Message); }
            endpoints = spawned.Endpoints.ToList();
        }
        else
        {
            endpoints = new List<Endpoint>();
            foreach (var text in memoryNodes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Endpoint.TryParse(text, out var ep, out string err)) return Fail($"--memory-nodes: {err}");
                endpoints.Add(ep!);
            }
            if (endpoints.Count == 0) return Fail("--memory-nodes needs a count or at least one endpoint");
        }
        LocalNodes? hosts = null;
        try
        {
            if (spawnHosts > 0)
            {
                try { hosts = LocalNodes.Processors(spawnHosts, freshKey: spawned != null); }
                catch (MemoryNodeFailure e) { return Fail(e.Message); }
                hostEndpoints.AddRange(hosts.Endpoints);
            }
            MemoryCluster cluster;
            try { cluster = clusterRun != null ? clusterRun.Connect(endpoints, program) : new MemoryCluster(endpoints); }
            catch (MemoryNodeFailure e) { return Fail(e.Message); }
            Action? cleanup = spawned == null && hosts == null ? null : () => { hosts?.Dispose(); spawned?.Dispose(); };
            using (cluster) return RunOn(cluster, program, argv, options, trace, endpoints.Count, cleanup, hostEndpoints, perThread);
        }
        finally
        {
            hosts?.Dispose();
            spawned?.Dispose();
        }
    }

    /// <param name="cleanup">Runs if a host signal (Ctrl-C, kill) ends the guest: spawned nodes must not outlive it.</param>
    static int RunOn(IMemoryComponent component, string program, string[] argv, RunOptions options, TraceRequest? trace, int memoryNodes,
        Action? cleanup = null, IReadOnlyList<Endpoint>? hosts = null, bool perThread = false)
    {
        // A program whose last run forked gets its first component started now, while this process sets its guest up.
        if (options.Tier.CodeCache is { } cacheDir && component is LockedMemoryComponent && LegoEmu.Cpu.Translate.Translator.LastRunForked(cacheDir, Path.GetFullPath(program)))
            GuestProcess.StartComponentAhead(options);
        using var process = new GuestProcess(component, options) { EmergencyCleanup = cleanup };
        if (component is MemoryCluster nodes) process.EndWhenNodesLeave(nodes);
        // Before the thread hosts are set up: they profile their threads only if the home does.
        if (ProfilePath != null) process.Cache.Profile = new LegoEmu.Mem.Trace.CodeProfile();
        string? hostDirectory = null;
        if ((hosts is { Count: > 0 } || perThread) && component is MemoryCluster cluster)
        {
            try { process.SpreadOver(cluster, hosts ?? []); }
            catch (MemoryNodeFailure e) { return Fail(e.Message); }
            if (perThread)
            {
                // One processor component, with its own host thread and ExCache, for every guest thread.
                string dir = hostDirectory = LegoEmu.Syscalls.Host.TempDirectory.CreatePrivate("legoemu-hosts-");
                process.ComponentFactory = index => LegoEmu.Syscalls.Split.InProcessHost.Start(dir, index, options.Diagnostics);
            }
        }
        try
        {
            return RunLoaded(process, program, argv, options, trace, memoryNodes);
        }
        finally
        {
            if (hostDirectory != null) try { Directory.Delete(hostDirectory, recursive: true); } catch (IOException) { }
        }
    }

    static int RunLoaded(GuestProcess process, string program, string[] argv, RunOptions options, TraceRequest? trace, int memoryNodes)
    {
        try
        {
            var env = Environment.GetEnvironmentVariables();
            var envp = new List<string>();
            foreach (System.Collections.DictionaryEntry e in env) envp.Add(string.Concat((string)e.Key, "=", (string?)e.Value));
            // A comparison rather than StringComparer.Ordinal: sorting with an IComparer first makes the runtime's
            // default sort helper for strings by reflection, at every start.
            envp.Sort(string.CompareOrdinal);
            process.Load(program, argv, envp);
        }
        catch (ExecFileException e) when (e.Path == program)
        {
            // As a shell does: 127 when the program is not there, 126 when it is there but cannot run.
            return LoadError(program, ExecFileException.Describe(e.Errno), e.Errno == LegoEmu.Mem.Errno.ENOENT ? 127 : 126);
        }
        catch (ExecFileException e) { return LoadError(program, e.Message, 126); } // a script's interpreter, or the dynamic linker
        catch (ElfFormatException e) { return LoadError(program, $"cannot execute: {e.Message}", 126); }
        LegoEmu.Mem.Trace.MemoryTracer? tracer = null;
        if (trace != null)
        {
            try { tracer = trace.Start(process, argv, memoryNodes); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail($"--trace {trace.Path}: {e.Message}");
            }
            // A Ctrl-C or kill still leaves a readable (if unfinished) trace behind.
            var previous = process.EmergencyCleanup;
            process.EmergencyCleanup = () => { trace.Abandon(tracer); previous?.Invoke(); };
        }
        var profile = ProfilePath != null ? new ProfileSession(ProfilePath, process) : null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int status;
        try
        {
            status = process.Run();
            if (Timeline.Enabled) Timeline.Mark($"exit {status}");
        }
        finally
        {
            if (tracer != null) trace!.Finish(process, tracer);
        }
        if (StatsJsonPath != null) StatsJsonWriter.Write(StatsJsonPath, process, clock.Elapsed.TotalSeconds);
        profile?.Finish(options.Diagnostics);
        PendingSignalDeath = process.KilledBySignal;
        return status;
    }

    static int LoadError(string program, string message, int code)
    {
        Console.Error.WriteLine($"legoemu: {PrintableName.Escape(program)}: {message}");
        return code;
    }
}
