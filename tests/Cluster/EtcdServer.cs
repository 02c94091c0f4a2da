using System.Diagnostics;
using System.Text.RegularExpressions;
using LegoEmu.Tests.Differential;

namespace LegoEmu.Tests.Cluster;

/// <summary>
/// A real etcd (Debian's etcd-server) for the cluster tests: on loopback, ports the OS picks, a temporary data
/// directory; disposal kills exactly this process and removes the directory. Each test names a cluster of its own
/// inside it (<c>etcd:127.0.0.1:PORT/NAME</c>), so the tests share one etcd without seeing each other's members.
/// </summary>
public sealed partial class EtcdServer : IDisposable
{
    readonly Process _process;
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-etcd-").FullName;
    readonly List<string> _log = new();

    public EtcdServer()
    {
        string etcd = new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("etcd is not installed: the cluster tests need Debian's etcd-server (.ci/run installs it)");
        var psi = new ProcessStartInfo(etcd) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            "--name", "legoemu-test", "--data-dir", Path.Combine(_dir, "data"),
            "--listen-client-urls", "http://127.0.0.1:0", "--advertise-client-urls", "http://127.0.0.1:0",
            "--listen-peer-urls", "http://127.0.0.1:0",
        }) psi.ArgumentList.Add(a);
        // etcd 3.4 refuses to start on its own with an unsupported-architecture warning only on non-amd64; nothing else to set.
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start etcd");
        var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line == null) return;
            lock (_log) _log.Add(line);
            if (ClientPort().Match(line) is { Success: true } m) ready.TrySetResult(int.Parse(m.Groups[1].Value));
        }
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        if (!ready.Task.Wait(MachineLoad.Scale(TimeSpan.FromSeconds(60))))
        {
            Dispose();
            throw new InvalidOperationException($"etcd did not say where it serves clients; its log:\n{Log}");
        }
        Port = ready.Task.Result;
    }

    [GeneratedRegex(@"serving insecure client requests on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ClientPort();

    public int Port { get; }
    public int Pid => _process.Id;

    /// <summary>The <c>--cluster</c> value of a cluster named <paramref name="name"/> in this etcd.</summary>
    public string Cluster(string name) => $"etcd:127.0.0.1:{Port}/{name}";

    public string Log { get { lock (_log) return string.Join("\n", _log); } }

    /// <summary>The last lines of etcd's log, for a failure message (a lease that did not expire in time).</summary>
    public string LogTail(int lines = 20) { lock (_log) return string.Join("\n", _log.Skip(Math.Max(0, _log.Count - lines))); }

    public void Dispose()
    {
        ProcessRunner.KillStarted(_process);
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
