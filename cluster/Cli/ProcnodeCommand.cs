using System.CommandLine;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Remote;
using LegoEmu.Syscalls.Runtime;
using LegoEmu.Cluster.Trace;
using LegoEmu.Mem.Trace;
using LegoEmu.Cluster.Membership;

namespace LegoEmu.Cluster.Cli;

/// <summary>
/// <c>legoemu procnode</c>: a processor component process. With <c>--listen ENDPOINT</c> it waits for a
/// home component to place guest threads on it (<c>run --processors</c>); with <c>--state-fd FD</c> it
/// takes over a forked guest process, whose address space is the copy-on-write duplicate the memory
/// component made.
/// </summary>
public static class ProcnodeCommand
{
    public static Command Create()
    {
        var state = new Option<int?>("--state-fd") { Description = "Descriptor of the fork state written by the parent (read once, then closed)", HelpName = "FD" };
        var listen = new Option<string?>("--listen") { Description = "Accept guest threads from one home component on unix:PATH or tcp:127.0.0.1:PORT (port 0: the OS picks; the line 'listening on ENDPOINT' says which)", HelpName = "ENDPOINT" };
        var parent = new Option<int?>("--exit-with-parent") { Description = "With --listen: exit when the process with this PID ends", HelpName = "PID" };
        var excache = new Option<long>("--excache") { Description = "With --state-fd: ExCache size in bytes (a thread host takes its home's geometry)", DefaultValueFactory = _ => 1L << 30 };
        var ways = new Option<int>("--ways") { Description = "With --state-fd: associativity", DefaultValueFactory = _ => 8 };
        var line = new Option<int>("--line") { Description = "With --state-fd: line size in bytes", DefaultValueFactory = _ => 4096 };
        var policy = new Option<string>("--policy") { Description = "With --state-fd: fifo, lru, random or clock", DefaultValueFactory = _ => ReplacementPolicies.Name(CacheConfig.DefaultPolicy) };
        var prefetch = new Option<string>("--prefetch") { Description = "With --state-fd: off, next or stride", DefaultValueFactory = _ => "stride" };
        prefetch.AcceptOnlyFromAmong("off", "next", "stride");
        var prefetchDepth = new Option<int>("--prefetch-depth") { Description = "With --state-fd: lines kept in flight ahead of a stream", DefaultValueFactory = _ => CacheConfig.DefaultPrefetchDepth };
        var writeBack = new Option<string>("--write-back") { Description = "With --state-fd: queued or combined", DefaultValueFactory = _ => "queued" };
        writeBack.AcceptOnlyFromAmong("queued", "combined");
        var strace = new Option<bool>("--strace") { Description = "With --state-fd: print the forked process's system calls" };
        var stats = new Option<bool>("--stats") { Description = "With --state-fd or --pool-socket: print the forked process's counters at its exit, each line labelled with its pid" };
        var trace = new Option<string?>("--trace") { Description = "With --state-fd: trace the forked process to FILE", HelpName = "FILE" };
        var traceLevel = new Option<string>("--trace-level") { Description = "With --trace: misses or accesses", DefaultValueFactory = _ => "misses" };
        var profile = new Option<string?>("--profile") { Description = "With --state-fd: profile the forked process into FILE.PID (callgrind's format)", HelpName = "FILE" };
        var traceSample = new Option<string>("--trace-sample") { Description = "With --trace-level accesses: SHARDS sampling rate", DefaultValueFactory = _ => "1" };
        var poolSocket = new Option<int?>("--pool-socket") { Description = "Wait, warmed up, on this socket for a fork state and the descriptors that go with it (a pooled component, started by a process ahead of its forks)", HelpName = "FD" };
        var memory = new Option<string?>("--memory") { Description = "With --pool-socket: memory endpoints (comma-separated) to connect to while idle, so a fork to them need not wait for the connection", HelpName = "ENDPOINTS" };
        var joinGroup = new Option<long?>("--join-group") { Description = "With --pool-socket: the process group to join first (a pooled component starts in a group of its own, so its starter's group signals cannot catch it before it runs)", HelpName = "PGID" };
        var pool = new Option<int>("--pool") { Description = "With --state-fd or --pool-socket: idle components the forked process keeps for its own forks", DefaultValueFactory = _ => 0, HelpName = "N" };
        var cmd = new Command("procnode", "Run a processor component: a host for guest threads placed by 'run --processors' (--listen), or a forked guest process (--state-fd or --pool-socket, started by fork)");
        var credentials = CredentialsOption.Create();
        var cluster = ClusterOption.Create("With --listen: register this thread host in the cluster whose state etcd keeps, under a lease kept alive while it runs");
        var leaseTtl = ClusterOption.CreateLeaseTtl();
        foreach (var o in new Option[] { cluster, leaseTtl, state, listen, parent, excache, ways, line, policy, prefetch, prefetchDepth, writeBack, strace, stats, trace, traceLevel, traceSample, profile, poolSocket, memory, joinGroup, pool, credentials }) cmd.Options.Add(o);
        new TierArguments().AddTo(cmd);
        var cpu = new CpuArgument();
        cpu.AddTo(cmd);
        cmd.SetAction(pr =>
        {
            cpu.Apply(pr);
            if (!CredentialsOption.Apply(pr.GetValue(credentials), "procnode")) return 2;
            if (pr.GetValue(listen) is { } where)
            {
                if (pr.GetValue(state) != null) { Console.Error.WriteLine("legoemu procnode: --listen and --state-fd exclude each other"); return 2; }
                if (!ClusterOption.TryLeaseTtl(pr.GetValue(leaseTtl), "procnode", out var ttl)) return 2;
                EtcdStore? store = null;
                if (pr.GetValue(cluster) is { } clusterText && (store = ClusterOption.Open(clusterText, "procnode")) == null) return 2;
                using (store) return HostThreads(where, pr.GetValue(parent), store, ttl);
            }
            if (pr.GetValue(cluster) != null) { Console.Error.WriteLine("legoemu procnode: --cluster applies to a thread host (--listen) only"); return 2; }
            if (pr.GetValue(state) == null && pr.GetValue(poolSocket) == null)
            {
                Console.Error.WriteLine("legoemu procnode: give --listen ENDPOINT (a thread host), or --state-fd FD or --pool-socket FD (a forked process)");
                return 2;
            }
            if (pr.GetValue(state) != null && pr.GetValue(poolSocket) != null) { Console.Error.WriteLine("legoemu procnode: --pool-socket and --state-fd exclude each other"); return 2; }
            return ForkedProcess.Run(new ForkedOptions
            {
                StateFd = pr.GetValue(state), PoolSocket = pr.GetValue(poolSocket), Memory = pr.GetValue(memory), JoinGroup = pr.GetValue(joinGroup), Excache = pr.GetValue(excache), Ways = pr.GetValue(ways),
                Line = pr.GetValue(line), Policy = pr.GetValue(policy)!,
                Prefetch = MissPathArguments.ParsePrefetch(pr.GetValue(prefetch)!) ?? PrefetchMode.Stride, PrefetchDepth = pr.GetValue(prefetchDepth),
                QueueWriteBacks = pr.GetValue(writeBack) != "combined", Strace = pr.GetValue(strace), Stats = pr.GetValue(stats), Trace = pr.GetValue(trace),
                TraceLevel = pr.GetValue(traceLevel)!, TraceSample = pr.GetValue(traceSample)!, Profile = pr.GetValue(profile), Pool = Math.Max(0, pr.GetValue(pool)),
                Cpu = LegoEmu.Cpu.CpuModel.Level,
            });
        });
        return cmd;
    }

    /// <summary>Listens, serves the one home component that connects, and exits when it is done with this host.</summary>
    static int HostThreads(string where, int? parentPid, EtcdStore? store, TimeSpan ttl)
    {
        if (!Endpoint.TryParse(where, out var endpoint, out string error))
        {
            Console.Error.WriteLine($"legoemu procnode: {error}");
            return 2;
        }
        // Other hosts may connect only to a host whose links are authenticated and encrypted (TLS with the cluster's certificates).
        if (endpoint!.Address is System.Net.IPEndPoint ip && !System.Net.IPAddress.IsLoopback(ip.Address) && Credentials.Key == null)
        {
            Console.Error.WriteLine($"legoemu procnode: refusing to listen on {ip.Address} without --credentials: only loopback addresses and Unix sockets are served to unauthenticated homes");
            return 2;
        }
        if (!endpoint.IsUnix && Credentials.Key != null)
        {
            try { ClusterTls.CheckServerFiles(); }
            catch (Exception e) when (e is CredentialsException or System.Security.Cryptography.CryptographicException)
            {
                Console.Error.WriteLine($"legoemu procnode: {e.Message.Split('\n')[0]}");
                return 2;
            }
        }
        using var listener = endpoint.NewSocket();
        try
        {
            if (endpoint.IsUnix) UnixSocketFile.PrepareForBind(endpoint.Text[5..]);
            listener.Bind(endpoint.Address);
            listener.Listen(1);
        }
        catch (ListenRefusedException e)
        {
            Console.Error.WriteLine($"legoemu procnode: cannot listen on {LegoEmu.Mem.PrintableName.Escape(where)}: {e.Message}");
            return 1;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            Console.Error.WriteLine($"legoemu procnode: cannot listen on {LegoEmu.Mem.PrintableName.Escape(where)}: {e.SocketErrorCode}");
            return 1;
        }
        if (parentPid is int pid)
        {
            var watch = new Thread(() =>
            {
                while (Directory.Exists($"/proc/{pid}")) Thread.Sleep(250);
                Environment.Exit(0);
            }) { IsBackground = true, Name = "parent-watch" };
            watch.Start();
        }
        string shown = endpoint.IsUnix ? endpoint.Text : $"tcp:{listener.LocalEndPoint}";
        int homes = 0;
        Registration? member = null;
        if (store != null)
        {
            if (listener.LocalEndPoint is System.Net.IPEndPoint { Address: var a } && (a.Equals(System.Net.IPAddress.Any) || a.Equals(System.Net.IPAddress.IPv6Any)))
            {
                Console.Error.WriteLine($"legoemu procnode: --cluster needs the address other components reach this host at: listen on that address, not {a}");
                return 2;
            }
            MemberRecord Snapshot() => new() { Kind = MemberRecord.Processor, Endpoint = shown, Host = Environment.MachineName, Pid = Environment.ProcessId, Load = Volatile.Read(ref homes) };
            try { member = Registration.Start(store, store.Keys.Member(MemberRecord.Processor, ClusterKeys.IdOf(shown)), Snapshot, ttl, Console.Error, $"legoemu procnode {shown}"); }
            catch (ClusterStoreException e)
            {
                Console.Error.WriteLine($"legoemu procnode: {e.Message}");
                return 1;
            }
        }
        using var registered = member;
        // SIGTERM and SIGINT still end the host; its record leaves etcd first, not when its lease runs out.
        using var term = member == null ? null : System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => member.Dispose());
        using var intr = member == null ? null : System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, _ => member.Dispose());
        // Registered first: whoever reads this line finds the host in etcd.
        Console.Out.WriteLine($"listening on {shown}");
        Console.Out.Flush();
        // A peer that does not set this host up (garbage, a stranger, silence) loses its connection, not the host:
        // the host keeps listening for its real home and serves the first that sets it up.
        while (true)
        {
            System.Net.Sockets.Socket home;
            try { home = listener.Accept(); }
            catch (System.Net.Sockets.SocketException e)
            {
                Console.Error.WriteLine($"legoemu procnode: accept failed: {e.SocketErrorCode}");
                return 1;
            }
            if (!endpoint.IsUnix) home.NoDelay = true; // system calls are small round trips: no Nagle delay
            Volatile.Write(ref homes, 1);
            int status = LegoEmu.Syscalls.Split.ThreadHost.Serve(home, Console.Error, SetupTimeout, out bool placed);
            Volatile.Write(ref homes, placed ? 1 : 0);
            if (placed)
            {
                if (endpoint.IsUnix) try { File.Delete(endpoint.Text[5..]); } catch (IOException) { }
                return status;
            }
        }
    }

    /// <summary>How long a connection may take to set this host up before the host drops it and listens again.</summary>
    static readonly TimeSpan SetupTimeout = TimeSpan.FromSeconds(30);
}
