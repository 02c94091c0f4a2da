using System.CommandLine;
using LegoEmu.Cluster.Cli;

namespace LegoEmu.Cluster;

/// <summary>The <c>legoemu</c> executable: verbs for running guests and inspecting programs.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("LegoEmu: runs x86-64 Linux programs on an emulated disaggregated machine: a processor component\n" +
            "with a software-managed virtual cache (ExCache) over memory components.\n\n" +
            "Examples:\n  legoemu run ./prog arg1 arg2\n  legoemu run --excache 16K --line 64 --policy lru --stats ./prog\n  legoemu disasm ./prog");
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(DisasmCommand.Create());
        root.Subcommands.Add(MemnodeCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        try
        {
            return root.Parse(args).Invoke();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything reaching here is an emulator bug; report it in one line, keep the trace for debugging on request.
            Console.Error.WriteLine($"legoemu: internal error: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("LEGOEMU_DEBUG") == "1") Console.Error.WriteLine(e);
            return 70;
        }
    }
}
