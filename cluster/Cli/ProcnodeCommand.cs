using System.CommandLine;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Remote;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Cluster.Cli;

/// <summary>
/// <c>legoemu procnode --state-fd FD</c>: a processor component that takes over a forked guest process.
/// Started by fork; its address space is the copy-on-write duplicate the memory component made.
/// </summary>
public static class ProcnodeCommand
{
    public static Command Create()
    {
        var state = new Option<int>("--state-fd") { Description = "Descriptor of the fork state written by the parent (read once, then closed)", Required = true, HelpName = "FD" };
        var excache = new Option<long>("--excache") { DefaultValueFactory = _ => 1L << 30 };
        var ways = new Option<int>("--ways") { DefaultValueFactory = _ => 8 };
        var line = new Option<int>("--line") { DefaultValueFactory = _ => 4096 };
        var policy = new Option<string>("--policy") { DefaultValueFactory = _ => "fifo" };
        var strace = new Option<bool>("--strace");
        var cmd = new Command("procnode", "Run a forked guest process on a new processor component (started by fork, not by hand)") { Hidden = true };
        foreach (var o in new Option[] { state, excache, ways, line, policy, strace }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            ForkState s;
            int fd = pr.GetValue(state);
            try
            {
                s = ForkState.Read(fd);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or EndOfStreamException)
            {
                Console.Error.WriteLine($"legoemu procnode: cannot read the fork state from descriptor {fd}: {e.Message}");
                return 70;
            }
            var pol = pr.GetValue(policy) switch { "lru" => ReplacementPolicy.Lru, "random" => ReplacementPolicy.Random, _ => ReplacementPolicy.Fifo };
            var config = new CacheConfig(pr.GetValue(excache), pr.GetValue(ways), pr.GetValue(line), pol);
            if (config.Validate() is { } err) { Console.Error.WriteLine($"legoemu procnode: {err}"); return 2; }
            var endpoints = new List<Endpoint>();
            foreach (var text in s.MemoryEndpoints)
            {
                if (!Endpoint.TryParse(text, out var ep, out string perr)) { Console.Error.WriteLine($"legoemu procnode: {perr}"); return 2; }
                endpoints.Add(ep!);
            }
            MemoryCluster cluster;
            try { cluster = new MemoryCluster(endpoints); }
            catch (MemoryNodeFailure e) { Console.Error.WriteLine($"legoemu: {e.Message}"); return 70; }
            using (cluster)
            {
                cluster.Attach(s.Asid, s.HomeNode, s.RegionOwners, s.Brk);
                using var process = new GuestProcess(cluster, new RunOptions(config, pr.GetValue(strace), false, Console.Error), s.Asid);
                process.RestoreForkedState(s);
                int status = process.Run();
                RunCommand.PendingSignalDeath = process.KilledBySignal;
                return status;
            }
        });
        return cmd;
    }
}
