using System.CommandLine;
using LegoEmu.Cluster.Cli;

namespace LegoEmu.Cluster;

/// <summary>The <c>legoemu</c> executable: verbs for running guests and inspecting programs.</summary>
public static class Program
{
    /// <summary>
    /// The .NET runtime's debugger and diagnostics pipes in TMPDIR are removed at a normal exit; dying by
    /// the guest's signal skips that, so remove them first.
    /// </summary>
    static void RemoveRuntimeIpcFiles()
    {
        int pid = Environment.ProcessId;
        try
        {
            foreach (var pattern in new[] { $"clr-debug-pipe-{pid}-*", $"dotnet-diagnostic-{pid}-*" })
                foreach (var f in Directory.EnumerateFiles(Path.GetTempPath(), pattern))
                    File.Delete(f);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public static int Main(string[] args)
    {
        var root = new RootCommand("LegoEmu: runs x86-64 Linux programs on an emulated disaggregated machine: a processor component\n" +
            "with a software-managed virtual cache (ExCache) over memory components.\n\n" +
            "Examples:\n  legoemu run ./prog arg1 arg2\n  legoemu run --excache 16K --line 64 --policy lru --stats ./prog\n  legoemu disasm ./prog");
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(DisasmCommand.Create());
        root.Subcommands.Add(MemnodeCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(TraceCommand.Create());
        root.Subcommands.Add(RegressCommand.Create());
        root.Subcommands.Add(ProcnodeCommand.Create());
        var self = Nodes.SelfProcess.StartInfo([]);
        LegoEmu.Syscalls.Runtime.GuestProcess.SelfCommand = (self.FileName, self.ArgumentList.ToArray());
        try
        {
            // Exceptions reach the catch below (one line, no stack trace) instead of System.CommandLine's handler.
            int status = root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            if (RunCommand.PendingSignalDeath != 0)
            {
                // The guest may have closed descriptors 1 and 2: .NET then cannot even open its console.
                try { Console.Out.Flush(); Console.Error.Flush(); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                RemoveRuntimeIpcFiles();
                LegoEmu.Syscalls.Host.Native.DieBySignal(RunCommand.PendingSignalDeath);
            }
            return status;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything reaching here is an emulator bug; report it in one line, keep the trace for debugging on request.
            var w = Cli.EmulatorStderr.Writer;
            w.WriteLine($"legoemu: internal error: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("LEGOEMU_DEBUG") == "1") w.WriteLine(e.ToString());
            return 70;
        }
    }
}
