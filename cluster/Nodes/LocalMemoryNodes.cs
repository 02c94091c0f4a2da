using System.Diagnostics;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Cluster.Nodes;

/// <summary>
/// Memory-node processes started for one run on Unix sockets in a private temporary directory.
/// Disposing stops exactly those processes (by PID) and removes the directory.
/// </summary>
public sealed class LocalMemoryNodes : IDisposable
{
    readonly List<Process> _processes = new();
    int _disposed;

    public string Directory { get; }
    public IReadOnlyList<Endpoint> Endpoints { get; }

    public LocalMemoryNodes(int count, long capacityPerNode)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("legoemu-").FullName;
        var endpoints = new List<Endpoint>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                string sock = Path.Combine(Directory, $"node{i}.sock");
                Endpoint.TryParse($"unix:{sock}", out var ep, out _);
                endpoints.Add(ep!);
                _processes.Add(Start(ep!, capacityPerNode));
            }
            foreach (var (ep, p) in endpoints.Zip(_processes)) WaitReady(ep, p);
        }
        catch
        {
            Dispose();
            throw;
        }
        Endpoints = endpoints;
    }

    static Process Start(Endpoint ep, long capacity)
    {
        var psi = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath ?? "dotnet",
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // Nodes need no debugger or diagnostics pipes, which would otherwise appear in TMPDIR.
        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        // Under `dotnet legoemu.dll` the process path is the host; the node needs the same entry assembly.
        if (Path.GetFileNameWithoutExtension(psi.FileName) == "dotnet") psi.ArgumentList.Add(typeof(LocalMemoryNodes).Assembly.Location);
        psi.ArgumentList.Add("memnode");
        psi.ArgumentList.Add("--listen");
        psi.ArgumentList.Add(ep.Text);
        psi.ArgumentList.Add("--exit-with-parent");
        psi.ArgumentList.Add(Environment.ProcessId.ToString());
        if (capacity > 0)
        {
            psi.ArgumentList.Add("--capacity");
            psi.ArgumentList.Add(capacity.ToString());
        }
        return Process.Start(psi) ?? throw new MemoryNodeFailure("cannot start a memory-node process");
    }

    static void WaitReady(Endpoint ep, Process p)
    {
        // The node prints "listening on ..." once its socket accepts connections.
        var line = p.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result == null || !line.Result.StartsWith("listening on", StringComparison.Ordinal))
            throw new MemoryNodeFailure($"memory node {ep} did not start{(p.HasExited ? $" (exit status {p.ExitCode})" : "")}");
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
