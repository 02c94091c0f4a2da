using System.Diagnostics;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Cluster.Nodes;

/// <summary>
/// Component processes started for one run (memory nodes, or processor components that host threads),
/// listening on Unix sockets in a private temporary directory. Disposing stops exactly those processes
/// (by PID) and removes the directory.
/// </summary>
public sealed class LocalNodes : IDisposable
{
    readonly List<Process> _processes = new();
    int _disposed;

    public string Directory { get; }
    public IReadOnlyList<Endpoint> Endpoints { get; }

    /// <summary><paramref name="count"/> memory-node processes, each holding at most <paramref name="capacityPerNode"/> bytes (0: unbounded).</summary>
    /// <param name="tcp">Listen on TCP loopback ports chosen by the OS instead of Unix sockets.</param>
    /// <param name="freshKey">Without credentials, make a fresh cluster key for these nodes (and this process): every component of the run is spawned by it.</param>
    /// <param name="link">A slower link each node emulates (memnode --link-latency, --link-bandwidth), or null.</param>
    public static LocalNodes MemoryNodes(int count, long capacityPerNode, bool tcp = false, bool freshKey = true, LinkEmulation? link = null) =>
        new("memnode", "node", count, [.. capacityPerNode > 0 ? ["--capacity", capacityPerNode.ToString()] : Array.Empty<string>(), .. LegoEmu.Cluster.Cli.LinkArguments.ToArguments(link)], tcp, freshKey);

    /// <summary><paramref name="count"/> processor components waiting for a home component to place threads on them (with this process's CPU model).</summary>
    public static LocalNodes Processors(int count, bool freshKey = true) =>
        new("procnode", "proc", count, LegoEmu.Cluster.Cli.CpuArgument.ToArguments(), tcp: false, freshKey);

    LocalNodes(string verb, string name, int count, string[] extra, bool tcp, bool freshKey)
    {
        Directory = LegoEmu.Syscalls.Host.TempDirectory.CreatePrivate("legoemu-");
        var endpoints = new List<Endpoint>();
        try
        {
            // Components spawned for a run without credentials get a fresh key of their own, in this 0700 directory.
            // An earlier set of spawned components made the key in a directory that went with them: make a new one.
            bool keyGone = Credentials.Directory != null && !File.Exists(Path.Combine(Credentials.Directory, Credentials.KeyFile));
            if (freshKey && (Credentials.Key == null || keyGone))
            {
                Credentials.Create(Directory);
                // Certificates only for TCP links: making them loads the TLS library, milliseconds of every run's start.
                if (tcp) ClusterTls.Create(Directory);
                Credentials.Use(Directory);
            }
            for (int i = 0; i < count; i++)
            {
                string listen = tcp ? "tcp:127.0.0.1:0" : $"unix:{Path.Combine(Directory, $"{name}{i}.sock")}";
                Endpoint.TryParse(listen, out var ep, out _);
                _processes.Add(Start(verb, ep!, extra));
            }
            foreach (var p in _processes) endpoints.Add(WaitReady(p));
        }
        catch
        {
            Dispose();
            throw;
        }
        Endpoints = endpoints;
    }

    static Process Start(string verb, Endpoint ep, string[] extra)
    {
        var args = new List<string> { verb, "--listen", ep.Text, "--exit-with-parent", Environment.ProcessId.ToString() };
        if (Credentials.Directory != null) args.AddRange(["--credentials", Credentials.Directory]);
        args.AddRange(extra);
        var psi = SelfProcess.StartInfo(args);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardInput = true;
        // Nodes need no debugger or diagnostics pipes, which would otherwise appear in TMPDIR.
        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        // A thread host waits for memory nodes as long as its home does (run --node-timeout).
        psi.Environment[NodeTimeout.Variable] = NodeTimeout.Text;
        return Process.Start(psi) ?? throw new MemoryNodeFailure($"cannot start a {verb} process");
    }

    /// <summary>Waits for the node's "listening on ENDPOINT" line, which also gives the port the OS picked.</summary>
    static Endpoint WaitReady(Process p)
    {
        var line = p.StandardOutput.ReadLineAsync();
        const string prefix = "listening on ";
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result is not { } text || !text.StartsWith(prefix, StringComparison.Ordinal)
            || !Endpoint.TryParse(text[prefix.Length..].Trim(), out var ep, out _))
            throw new MemoryNodeFailure($"a component process did not start{(p.HasExited ? $" (exit status {p.ExitCode})" : "")}");
        return ep!;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    // SIGTERM lets the node close its socket and exit cleanly; SIGKILL is the fallback.
                    LegoEmu.Syscalls.Host.Native.Kill(p.Id, 15);
                    if (!p.WaitForExit(3000))
                    {
                        p.Kill();
                        p.WaitForExit(5000);
                    }
                }
            }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
