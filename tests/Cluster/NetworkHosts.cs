using System.Diagnostics;
using LegoEmu.Tests.Differential;

namespace LegoEmu.Tests.Cluster;

/// <summary>
/// Hosts for a test, each a network namespace of its own with one interface on a bridge that lives in one more
/// namespace, all made by the test (addresses 10.231.N.K/24 exist only inside them) and deleted when it ends. Where
/// namespaces cannot be made (not root, no iproute2), the hosts are the loopback addresses of <see cref="LoopbackHosts"/>
/// and commands run here.
/// </summary>
public sealed class NetworkHosts : IDisposable
{
    readonly List<string> _namespaces = new();
    readonly string _prefix;
    readonly int _subnet;

    /// <summary>True when the hosts are network namespaces; false when they are loopback addresses.</summary>
    public bool Isolated { get; }

    public int Count { get; }

    /// <summary>Why the hosts are loopback addresses rather than namespaces (null when they are namespaces).</summary>
    public string? Why { get; }

    /// <summary>What the hosts are, for failure messages.</summary>
    public string Description => Isolated ? $"{Count} network namespaces on a bridge (10.231.{_subnet}.0/24)" : $"loopback addresses ({Why})";

    public NetworkHosts(int count)
    {
        Count = count;
        int id = Environment.ProcessId % 100000;
        _prefix = $"legoemu-{id}-{Interlocked.Increment(ref _made)}";
        _subnet = (id + _made) % 250;
        try
        {
            Isolated = TryMake();
            if (!Isolated) Why = "ip netns add failed (not root, or no network namespaces here)";
        }
        catch (InvalidOperationException e)
        {
            Why = e.Message;
        }
        if (!Isolated) Dispose();
    }

    static int _made;

    string Switch => $"{_prefix}-sw";

    string Name(int k) => $"{_prefix}-h{k}";

    bool TryMake()
    {
        if (!OperatingSystem.IsLinux() || !Ip(["netns", "add", Switch])) return false;
        _namespaces.Add(Switch);
        Must(["-n", Switch, "link", "add", "br0", "type", "bridge"]);
        Must(["-n", Switch, "link", "set", "br0", "up"]);
        for (int k = 0; k < Count; k++)
        {
            Must(["netns", "add", Name(k)]);
            _namespaces.Add(Name(k));
            string port = $"lg{_subnet}p{k}";
            Must(["link", "add", port, "netns", Switch, "type", "veth", "peer", "name", "eth0", "netns", Name(k)]);
            Must(["-n", Switch, "link", "set", port, "master", "br0", "up"]);
            Must(["-n", Name(k), "addr", "add", $"{BridgeAddress(k)}/24", "dev", "eth0"]);
            Must(["-n", Name(k), "link", "set", "eth0", "up"]);
            Must(["-n", Name(k), "link", "set", "lo", "up"]);
        }
        return true;
    }

    /// <summary>The address of host <paramref name="k"/>.</summary>
    public string Address(int k) => Isolated ? BridgeAddress(k) : LoopbackHosts.Address(k);

    string BridgeAddress(int k) => $"10.231.{_subnet}.{k + 1}";

    /// <summary>A TCP endpoint on host <paramref name="k"/> with a port the OS picks.</summary>
    public string Listen(int k) => $"tcp:{Address(k)}:0";

    /// <summary>The command prefix that runs a program on host <paramref name="k"/> (empty for loopback hosts).</summary>
    public IReadOnlyList<string> Launcher(int k) => Isolated ? ["ip", "netns", "exec", Name(k)] : [];

    /// <summary>Runs <c>legoemu ARGS…</c> on host <paramref name="k"/>.</summary>
    public async Task<ProcessResult> RunAsync(int k, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        if (!Isolated) return await EmulatorRunner.RunAsync(args, environment);
        var (file, prefix) = EmulatorRunner.Command;
        var r = await ProcessRunner.RunAsync("ip", ["netns", "exec", Name(k), file, .. prefix, .. args], EmulatorRunner.RunTimeout, environment, scaleTimeout: false);
        Xunit.Assert.False(r.TimedOut, $"timed out on host {k}: {r.Description}\n{r.StderrTail()}");
        return r;
    }

    static bool Ip(string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no iproute2
        }
    }

    static void Must(string[] args)
    {
        if (!Ip(args)) throw new InvalidOperationException($"ip {string.Join(' ', args)} failed");
    }

    public void Dispose()
    {
        // Deleting a namespace takes its end of each veth pair, and with it the peer.
        for (int i = _namespaces.Count - 1; i >= 0; i--) Ip(["netns", "del", _namespaces[i]]);
        _namespaces.Clear();
    }
}
