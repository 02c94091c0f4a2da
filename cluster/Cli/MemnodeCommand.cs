using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using LegoEmu.Mem.Remote;
using LegoEmu.Cluster.Membership;

namespace LegoEmu.Cluster.Cli;

/// <summary><c>legoemu memnode --listen unix:PATH|tcp:HOST:PORT [--capacity SIZE]</c>: a memory-component process.</summary>
public static class MemnodeCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "Where to serve: unix:PATH or tcp:HOST:PORT (port 0 picks a free port; any address with --credentials, whose TCP links are encrypted with TLS, loopback only without)", Required = true, HelpName = "ENDPOINT" };
        var capacity = new Option<string?>("--capacity") { Description = "Most frame memory this node will hold (K, M, G suffixes); unbounded by default", HelpName = "SIZE" };
        var perConnection = new Option<string?>("--connection-memory") { Description = "Most frame memory the address spaces of one connection may hold (K, M, G suffixes), so one client cannot take a shared node from the others; unbounded by default", HelpName = "SIZE" };
        var grace = new Option<string?>("--handover-grace") { Description = $"Seconds a forked child's address space waits for the child to claim it before the node destroys it (default {MemoryNodeServer.DefaultHandOverGrace.TotalSeconds:0})", HelpName = "SECONDS" };
        var parent = new Option<int?>("--exit-with-parent") { Description = "Exit when the process with this PID ends (used by run --memory-nodes)", HelpName = "PID" };
        var cmd = new Command("memnode", "Run a memory-component process that serves guest memory to processor components");
        cmd.Options.Add(listen);
        cmd.Options.Add(capacity);
        cmd.Options.Add(parent);
        cmd.Options.Add(grace);
        cmd.Options.Add(perConnection);
        var credentials = CredentialsOption.Create();
        cmd.Options.Add(credentials);
        var linkLatency = new Option<string?>("--link-latency") { Description = LinkArguments.LatencyHelp, HelpName = "MICROSECONDS" };
        var linkBandwidth = new Option<string?>("--link-bandwidth") { Description = LinkArguments.BandwidthHelp, HelpName = "SIZE" };
        cmd.Options.Add(linkLatency);
        cmd.Options.Add(linkBandwidth);
        var cluster = ClusterOption.Create("Register this node in the cluster whose state etcd keeps (endpoint, capacity, use, load), under a lease kept alive while the node runs");
        var leaseTtl = ClusterOption.CreateLeaseTtl();
        cmd.Options.Add(cluster);
        cmd.Options.Add(leaseTtl);
        cmd.SetAction(pr =>
        {
            if (!CredentialsOption.Apply(pr.GetValue(credentials), "memnode")) return 2;
            if (!ClusterOption.TryLeaseTtl(pr.GetValue(leaseTtl), "memnode", out var ttl)) return 2;
            if (!LinkArguments.TryParse("memnode", pr.GetValue(linkLatency), pr.GetValue(linkBandwidth), out var link)) return 2;
            EtcdStore? store = null;
            if (pr.GetValue(cluster) is { } clusterText && (store = ClusterOption.Open(clusterText, "memnode")) == null) return 2;
            using (store) return Serve(pr.GetValue(listen)!, pr.GetValue(capacity), pr.GetValue(parent), pr.GetValue(grace), pr.GetValue(perConnection), store, ttl, link);
        });
        return cmd;
    }

    static int Serve(string listen, string? capacityText, int? parentPid, string? graceText, string? perConnectionText, EtcdStore? store, TimeSpan ttl, LinkEmulation? link)
    {
        long perConnection = 0;
        if (perConnectionText != null && (!SizeParser.TryParse(perConnectionText, out perConnection) || perConnection < (long)LegoEmu.Mem.PageMath.PageSize))
        {
            Console.Error.WriteLine($"legoemu memnode: bad --connection-memory '{LegoEmu.Mem.PrintableName.Escape(perConnectionText)}': a size of at least 4K");
            return 2;
        }
        var grace = MemoryNodeServer.DefaultHandOverGrace;
        if (graceText != null)
        {
            if (!double.TryParse(graceText, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double s) || !(s >= 0 && s <= 86400))
            {
                Console.Error.WriteLine($"legoemu memnode: bad --handover-grace '{LegoEmu.Mem.PrintableName.Escape(graceText)}': seconds from 0 to 86400");
                return 2;
            }
            grace = TimeSpan.FromSeconds(s);
        }
        if (!Endpoint.TryParse(listen, out var endpoint, out string error))
        {
            Console.Error.WriteLine($"legoemu memnode: {error}");
            return 2;
        }
        // Other hosts may connect only to a node whose links are authenticated and encrypted (TLS with the cluster's certificates).
        if (endpoint!.Address is IPEndPoint ip && !IPAddress.IsLoopback(ip.Address) && Credentials.Key == null)
        {
            Console.Error.WriteLine($"legoemu memnode: refusing to listen on {ip.Address} without --credentials: only loopback addresses and Unix sockets are served to unauthenticated clients");
            return 2;
        }
        long capacity = 0;
        if (capacityText != null && !SizeParser.TryParse(capacityText, out capacity))
        {
            Console.Error.WriteLine($"legoemu memnode: bad --capacity '{capacityText}'");
            return 2;
        }
        MemoryNodeServer server;
        try
        {
            server = new MemoryNodeServer(endpoint, capacity, Console.Error) { HandOverGrace = grace, FramesPerConnection = perConnection >> LegoEmu.Mem.PageMath.PageShift, Link = link };
        }
        catch (System.Net.Sockets.SocketException e)
        {
            Console.Error.WriteLine($"legoemu memnode: cannot listen on {LegoEmu.Mem.PrintableName.Escape(listen)}: {e.SocketErrorCode}");
            return 1;
        }
        catch (ListenRefusedException e)
        {
            Console.Error.WriteLine($"legoemu memnode: cannot listen on {LegoEmu.Mem.PrintableName.Escape(listen)}: {e.Message}");
            return 1;
        }
        catch (CredentialsException e)
        {
            Console.Error.WriteLine($"legoemu memnode: {e.Message}");
            return 2;
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            Console.Error.WriteLine($"legoemu memnode: the TLS certificate in {LegoEmu.Mem.PrintableName.Escape(Credentials.Directory ?? "")} cannot be loaded: {e.Message.Split('\n')[0]}");
            return 2;
        }
        using (server)
        {
            string shown = endpoint.IsUnix ? endpoint.Text : $"tcp:{server.BoundAddress}";
            Registration? member = null;
            if (store != null && (member = Join(store, server, shown, capacity, ttl)) == null) return 1;
            using var registered = member;
            // The runtime ends the process once these handlers return: the record leaves etcd first, not at its lease's end.
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => { member?.Dispose(); server.Dispose(); });
            using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => { member?.Dispose(); server.Dispose(); });
            if (parentPid is int pid) WatchParent(pid, server);
            // One line on stdout tells a supervisor where the node really listens (port 0 picks one).
            Console.Out.WriteLine($"listening on {shown}");
            Console.Out.Flush();
            server.Serve();
        }
        return 0;
    }

    /// <summary>Registers the node before it says where it listens, so whoever reads that line finds it in etcd.</summary>
    static Registration? Join(EtcdStore store, MemoryNodeServer server, string shown, long capacity, TimeSpan ttl)
    {
        if (server.Endpoint.Address is IPEndPoint { Address: var a } && (a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any)))
        {
            Console.Error.WriteLine($"legoemu memnode: --cluster needs the address other components reach this node at: listen on that address, not {a}");
            return null;
        }
        MemberRecord Snapshot() => new()
        {
            Kind = MemberRecord.Memory, Endpoint = shown, Host = Environment.MachineName, Pid = Environment.ProcessId,
            CapacityBytes = capacity > 0 ? capacity : null, UsedBytes = server.Stats.Frames << LegoEmu.Mem.PageMath.PageShift, Load = server.OpenConnections,
        };
        try { return Registration.Start(store, store.Keys.Member(MemberRecord.Memory, ClusterKeys.IdOf(shown)), Snapshot, ttl, Console.Error, $"legoemu memnode {shown}"); }
        catch (ClusterStoreException e)
        {
            Console.Error.WriteLine($"legoemu memnode: {e.Message}");
            return null;
        }
    }

    static void WatchParent(int pid, MemoryNodeServer server)
    {
        var t = new Thread(() =>
        {
            while (Directory.Exists($"/proc/{pid}")) Thread.Sleep(250);
            server.Dispose();
        }) { IsBackground = true, Name = "parent-watch" };
        t.Start();
    }
}
