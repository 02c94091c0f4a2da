using LegoEmu.Tests.Differential;
using LegoEmu.Tests.Remote;

namespace LegoEmu.Tests.Cluster;

/// <summary>
/// Components spread over <see cref="NetworkHosts"/> with one cluster key: the guest's own component on host 0, a memory
/// node on each of hosts 1 to 3, and thread hosts on hosts 4 and 5 made per run (a thread host serves one home, then
/// ends). Disposing stops exactly those processes and deletes the hosts.
/// </summary>
public sealed class HostedCluster : IDisposable
{
    public const int HostCount = 6;

    readonly List<MemoryNodeProcess> _nodes = new();

    public NetworkHosts Hosts { get; }

    /// <summary>The cluster key's directory (made by <c>legoemu cluster init</c>).</summary>
    public string Credentials { get; }

    /// <summary>The value for <c>--memory-nodes</c>: the three nodes.</summary>
    public string MemoryNodes { get; }

    HostedCluster(NetworkHosts hosts, string credentials)
    {
        Hosts = hosts;
        Credentials = credentials;
        try
        {
            for (int k = 1; k <= 3; k++)
                _nodes.Add(new MemoryNodeProcess(hosts.Listen(k), extra: ["--credentials", credentials], launcher: hosts.Launcher(k)));
        }
        catch
        {
            Dispose();
            throw;
        }
        MemoryNodes = string.Join(",", _nodes.Select(n => n.Endpoint));
    }

    /// <summary>Makes the hosts, a cluster key in <paramref name="directory"/> and the memory nodes.</summary>
    public static async Task<HostedCluster> StartAsync(string directory)
    {
        string key = Path.Combine(directory, "cluster");
        var init = await EmulatorRunner.RunAsync("cluster", "init", key);
        if (init.ExitCode != 0) throw new InvalidOperationException($"cluster init failed: {init.StderrText}");
        var hosts = new NetworkHosts(HostCount);
        try
        {
            return new HostedCluster(hosts, key);
        }
        catch
        {
            hosts.Dispose();
            throw;
        }
    }

    /// <summary>The memory node on host <paramref name="k"/> (1 to 3).</summary>
    public MemoryNodeProcess Node(int k) => _nodes[k - 1];

    /// <summary>Two fresh thread hosts (hosts 4 and 5), for one run's <c>--processors</c>.</summary>
    public ThreadHostPair ThreadHosts() => new(this);

    /// <summary>Runs <c>legoemu run --credentials KEY OPTIONS… COMMAND…</c> on host 0.</summary>
    public Task<ProcessResult> RunAsync(IEnumerable<string> options, IEnumerable<string> command, IReadOnlyDictionary<string, string?>? environment = null) =>
        Hosts.RunAsync(0, ["run", "--credentials", Credentials, .. options, .. command], environment);

    public void Dispose()
    {
        foreach (var n in _nodes) n.Dispose();
        Hosts.Dispose();
    }

    /// <summary>Thread hosts on hosts 4 and 5 for one run.</summary>
    public sealed class ThreadHostPair : IDisposable
    {
        readonly List<MemoryNodeProcess> _hosts = new();

        internal ThreadHostPair(HostedCluster cluster)
        {
            try
            {
                for (int k = 4; k <= 5; k++)
                    _hosts.Add(new MemoryNodeProcess(cluster.Hosts.Listen(k), verb: "procnode", extra: ["--credentials", cluster.Credentials], launcher: cluster.Hosts.Launcher(k)));
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>The value for <c>--processors</c>.</summary>
        public string Endpoints => string.Join(",", _hosts.Select(h => h.Endpoint));

        public void Dispose()
        {
            foreach (var h in _hosts) h.Dispose();
        }
    }
}
