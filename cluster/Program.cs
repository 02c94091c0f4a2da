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
        // Without diagnostics (what forked components run with) there are none, and listing TMPDIR costs.
        if (Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics") == "0" ||
            (Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics") == null && Environment.GetEnvironmentVariable("COMPlus_EnableDiagnostics") == "0")) return;
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

    static readonly (string Name, Func<Command> Create)[] Verbs =
    [
        ("run", RunCommand.Create), ("disasm", DisasmCommand.Create), ("memnode", MemnodeCommand.Create), ("bench", BenchCommand.Create),
        ("trace", TraceCommand.Create), ("regress", RegressCommand.Create), ("procnode", ProcnodeCommand.Create),
        ("cluster", ClusterCommand.Create),
    ];

    /// <summary>
    /// The warm-up thread's work is CPU taken from the guest on a busy machine: the code cache's reflection only when a
    /// cache is named, the socket paths only for a process that talks to other components from its start. A plain
    /// <c>run</c> starts none: its own thread reaches the warm-up guest's steps (a process, its ExCache, the decoder,
    /// the loader) as soon as the warm-up thread does, so the two ran side by side, each waiting on the type loader
    /// for what the other was loading, and the warm-up's share was CPU the run paid for nothing (a dynamic program that
    /// does nothing: 12 ms more CPU with it, 2 ms less wall time; sha256sum of 3 MB: 15 ms more CPU, no less wall time).
    /// A run that first opens a code cache, or starts or connects to other components, still warms up meanwhile.
    /// </summary>
    static void StartWarmUp(string[] args)
    {
        string? cacheVariable = Environment.GetEnvironmentVariable(TierArguments.CodeCacheVariable);
        bool reflection = args.Contains("--code-cache") || cacheVariable is not (null or "" or "off");
        bool sockets = args[0] == "procnode";
        foreach (var a in args)
            sockets |= a.StartsWith("--memory-nodes", StringComparison.Ordinal) || a.StartsWith("--processors", StringComparison.Ordinal)
                || a.StartsWith("--cluster", StringComparison.Ordinal);
        // A component (procnode) warms up while it waits for its fork, as before: that is when it has nothing else to do.
        if (args[0] == "run" && (!(reflection || sockets) || !AnIdleCore())) return;
        LegoEmu.Syscalls.Runtime.WarmUpGuest.StartInBackground(reflection, sockets);
    }

    /// <summary>
    /// Whether a core is free right now: the kernel's count of runnable threads (the fourth field of /proc/loadavg,
    /// this one included) is below the number of cores. Where every core is busy, a run's warm-up only takes CPU from
    /// the guest's thread and holds the runtime's type-loading locks it needs (static hello at load 11 to 20: 41-75 ms
    /// without the warm-up thread against 52-159 ms with it, in alternating runs).
    /// </summary>
    static bool AnIdleCore()
    {
        Span<byte> text = stackalloc byte[128];
        int n = LegoEmu.Syscalls.Host.ProcFile.Read("/proc/loadavg", text);
        if (n <= 0) return true;
        // "0.52 0.58 0.59 3/412 12345": runnable/total after the third space.
        int field = 0, k = 0;
        for (; k < n && field < 3; k++)
            if (text[k] == (byte)' ') field++;
        int runnable = 0;
        for (; k < n && text[k] is >= (byte)'0' and <= (byte)'9'; k++) runnable = runnable * 10 + (text[k] - '0');
        return runnable - 1 < Environment.ProcessorCount;
    }

    public static int Main(string[] args)
    {
        LegoEmu.Syscalls.Runtime.HostSignals.RecordIgnoredAtStart();
        bool help = args.Contains("--help") || args.Contains("-h") || args.Contains("-?");
        // A guest is about to run: the emulator's first-use costs are paid on another core meanwhile.
        if (args.Length > 1 && args[0] is "run" or "procnode" && !help) StartWarmUp(args);
        LegoEmu.Syscalls.Runtime.GuestProcess.SelfCommandSource = Nodes.SelfProcess.Command;
        try
        {
            bool forked = IsForkedProcess(args, help);
            int status = forked ? RunForked(args) : IsPlainRun(args) ? RunPlain(args[1..]) : Parse(args);
            // Idle components are this process's children: none outlives it.
            LegoEmu.Syscalls.Runtime.ForkPool.Shared?.Dispose();
            if (RunCommand.PendingSignalDeath != 0)
            {
                // The guest may have closed descriptors 1 and 2: .NET then cannot even open its console.
                try { Console.Out.Flush(); Console.Error.Flush(); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                RemoveRuntimeIpcFiles();
                LegoEmu.Syscalls.Host.Native.DieBySignal(RunCommand.PendingSignalDeath);
            }
            if (forked) ExitNow(status);
            return status;
        }
        catch (LegoEmu.Syscalls.Host.TempDirectoryException e)
        {
            // Not a bug: the user's TMPDIR is missing, read-only or full.
            Cli.EmulatorStderr.Writer.WriteLine($"legoemu: {e.Message}");
            return 71; // EX_OSERR
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

    /// <summary>
    /// Ends a forked process at once with its guest's status. Everything it owns (its pool, its memory server
    /// and that server's directory, trace files, stats) was released before its run returned, so what the
    /// runtime would still do on a normal exit, milliseconds for each process of a fork loop, is not needed.
    /// </summary>
    static void ExitNow(int status)
    {
        // Console and the emulator's stderr write through at once; only the runtime's pipe files are left.
        RemoveRuntimeIpcFiles();
        LegoEmu.Syscalls.Host.Native.Sys(LegoEmu.Syscalls.Abi.Nr.exit_group, status);
    }

    /// <summary>Every fork starts a <c>procnode --state-fd|--pool-socket</c>: its few options skip the full parser.</summary>
    static bool IsForkedProcess(string[] args, bool help) =>
        !help && args.Length > 1 && args[0] == "procnode" && (args.Contains("--state-fd") || args.Contains("--pool-socket"));

    /// <summary>
    /// <c>run PROGRAM …</c> without options: nothing for the parser to do (everything after PROGRAM is the
    /// guest's). Response files (<c>@FILE</c>) still go to the parser.
    /// </summary>
    static bool IsPlainRun(string[] args) => args.Length > 1 && args[0] == "run" && !args[1].StartsWith('-') && !args[1].StartsWith('@');

    static int RunPlain(string[] argv) => CredentialsOption.Apply(null, "run") ? RunCommand.RunWithDefaults(argv) : 2;

    static int RunForked(string[] args)
    {
        // A forked process's component finds the run's credentials in its environment.
        if (!CredentialsOption.Apply(null, "procnode")) return 2;
        if (ForkedOptions.Parse(args[1..], out string error) is not { } options)
        {
            Console.Error.WriteLine($"legoemu procnode: {error}");
            return 2;
        }
        return ForkedProcess.Run(options);
    }

    static int Parse(string[] args)
    {
        var root = new RootCommand("LegoEmu: runs x86-64 Linux programs on an emulated disaggregated machine: a processor component\n" +
            "with a software-managed virtual cache (ExCache) over memory components.\n\n" +
            "Examples:\n  legoemu run ./prog arg1 arg2\n  legoemu run --excache 16K --line 64 --policy lru --stats ./prog\n  legoemu disasm ./prog");
        // Building a verb's options costs time at every start; a named verb is the only one parsed, so build only it.
        int chosen = args.Length > 0 ? Array.FindIndex(Verbs, v => v.Name == args[0]) : -1;
        if (chosen >= 0) root.Subcommands.Add(Verbs[chosen].Create());
        else foreach (var (_, create) in Verbs) root.Subcommands.Add(create());
        // Exceptions reach Main's catch (one line, no stack trace) instead of System.CommandLine's handler.
        // No POSIX bundling: it would split a guest argument such as openssl's "-hmac" into "-h" "mac" (the
        // program's arguments are captured whole, but bundles were expanded before that).
        return root.Parse(args, new ParserConfiguration { EnablePosixBundling = false })
            .Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }
}
