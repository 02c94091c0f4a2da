using System.Diagnostics;
using LegoEmu.Tests.Differential;

namespace LegoEmu.Tests.Remote;

/// <summary>A `legoemu memnode` (or `procnode`) process started by a test on a port the OS picks; disposal kills exactly it.</summary>
public sealed class MemoryNodeProcess : IDisposable
{
    readonly Process _process;

    /// <param name="launcher">A command that runs legoemu for it (<c>ip netns exec NAME</c>: another "host"), or null.</param>
    public MemoryNodeProcess(string listen = "tcp:127.0.0.1:0", string? capacity = null, string verb = "memnode", IEnumerable<string>? extra = null,
        IReadOnlyList<string>? launcher = null)
    {
        var (file, prefix) = EmulatorRunner.Command;
        if (launcher is { Count: > 0 })
        {
            prefix = [.. launcher.Skip(1), file, .. prefix];
            file = launcher[0];
        }
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in prefix) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(verb);
        psi.ArgumentList.Add("--listen");
        psi.ArgumentList.Add(listen);
        // If the test host dies, the node must not outlive it.
        psi.ArgumentList.Add("--exit-with-parent");
        psi.ArgumentList.Add(Environment.ProcessId.ToString());
        if (capacity != null)
        {
            psi.ArgumentList.Add("--capacity");
            psi.ArgumentList.Add(capacity);
        }
        foreach (var a in extra ?? []) psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start legoemu memnode");
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_log) _log.Add(e.Data); };
        _process.BeginErrorReadLine();
        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(MachineLoad.Scale(TimeSpan.FromSeconds(60))) || line.Result is not { } text || !text.StartsWith("listening on ", StringComparison.Ordinal))
        {
            Kill();
            throw new InvalidOperationException($"memnode did not report its address; stderr: {Log}");
        }
        Endpoint = text["listening on ".Length..].Trim();
    }

    readonly List<string> _log = new();

    /// <summary>Where the node listens, as legoemu accepts it (tcp:127.0.0.1:PORT or unix:PATH).</summary>
    public string Endpoint { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    /// <summary>The node's exit status once it has exited (128 + the signal when a signal ended it).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>What the node wrote to stderr; once it has exited, all of it (the asynchronous reader may lag behind the exit).</summary>
    public string Log
    {
        get
        {
            if (_process.HasExited) _process.WaitForExit();
            lock (_log) return string.Join("\n", _log);
        }
    }

    /// <summary>
    /// Waits until the node's stderr holds <paramref name="text"/>: the node may write a line just after it
    /// closed the connection the test saw close, and the reader takes its lines asynchronously. The bound
    /// is only reached on failure.
    /// </summary>
    public bool LogContains(string text, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!Log.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline || HasExited) return Log.Contains(text, StringComparison.Ordinal);
            Thread.Sleep(20);
        }
        return true;
    }

    public void Kill()
    {
        ProcessRunner.KillStarted(_process);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}

/// <summary>Three memory nodes over TCP loopback shared by the tests of one run (each guest gets its own address space).</summary>
public sealed class TcpMemoryNodes : IDisposable
{
    readonly List<MemoryNodeProcess> _nodes = new();

    public TcpMemoryNodes()
    {
        try
        {
            for (int i = 0; i < 3; i++) _nodes.Add(new MemoryNodeProcess());
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The value for <c>--memory-nodes</c>.</summary>
    public string List => string.Join(",", _nodes.Select(n => n.Endpoint));

    public IReadOnlyList<MemoryNodeProcess> Nodes => _nodes;

    public void Dispose()
    {
        foreach (var n in _nodes) n.Dispose();
    }
}
