using System.CommandLine;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Remote;
using LegoEmu.Syscalls.Runtime;
using LegoEmu.Cluster.Trace;
using LegoEmu.Mem.Trace;

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
        var trace = new Option<string?>("--trace");
        var traceLevel = new Option<string>("--trace-level") { DefaultValueFactory = _ => "misses" };
        var traceSample = new Option<string>("--trace-sample") { DefaultValueFactory = _ => "1" };
        var cmd = new Command("procnode", "Run a forked guest process on a new processor component (started by fork, not by hand)") { Hidden = true };
        foreach (var o in new Option[] { state, excache, ways, line, policy, strace, trace, traceLevel, traceSample }) cmd.Options.Add(o);
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
                TraceRequest? traceRequest = null;
                if (pr.GetValue(trace) is { } tracePath && TraceRequest.TryParseRate(pr.GetValue(traceSample)!, out double rate))
                    traceRequest = new TraceRequest(tracePath, pr.GetValue(traceLevel) == "accesses" ? TraceLevel.Accesses : TraceLevel.Misses, rate);
                var options = new RunOptions(config, pr.GetValue(strace), false, Console.Error) { ChildArguments = traceRequest?.ChildArguments() ?? [] };
                using var process = new GuestProcess(cluster, options, s.Asid);
                process.RestoreForkedState(s);
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
                int status;
                try { status = process.Run(); }
                finally
                {
                    if (tracer != null) traceRequest!.Finish(process, tracer);
                }
                RunCommand.PendingSignalDeath = process.KilledBySignal;
                return status;
            }
        });
        return cmd;
    }
}
