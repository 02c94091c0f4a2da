using LegoEmu.Cluster.Membership;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Cluster.Cli;

/// <summary>
/// <c>run --cluster</c>: the memory nodes etcd knows replace an endpoint list typed by hand, and the run's placement
/// goes to etcd. The nodes then serve the guest exactly as nodes given with <c>--memory-nodes ENDPOINTS</c> do.
/// </summary>
public sealed class ClusterRun : IDisposable
{
    readonly EtcdStore _store;
    readonly TimeSpan _ttl;
    PlacementPublisher? _publisher;

    ClusterRun(EtcdStore store, TimeSpan ttl, string memoryNodes)
    {
        _store = store;
        _ttl = ttl;
        MemoryNodes = memoryNodes;
    }

    /// <summary>The chosen nodes as a <c>--memory-nodes</c> list, preferred first.</summary>
    public string MemoryNodes { get; }

    /// <summary>Null with <paramref name="error"/> set (or null when a line was already written) when the cluster cannot serve the run.</summary>
    public static ClusterRun? Open(string clusterText, string? leaseTtl, string? memoryNodes, out string? error)
    {
        error = null;
        if (memoryNodes != null)
        {
            error = "--cluster chooses the memory nodes: it does not combine with --memory-nodes";
            return null;
        }
        if (!ClusterOption.TryLeaseTtl(leaseTtl, "run", out var ttl)) return null;
        var store = ClusterOption.Open(clusterText, "run");
        if (store == null) return null;
        try
        {
            var nodes = ClusterMemory.Choose(store);
            if (nodes.Count == 0)
            {
                error = $"no memory node with free memory is registered in cluster {store.Spec.Name} at {store.Spec.Text} (start them with 'legoemu memnode --listen ENDPOINT --cluster {store.Spec.Text}')";
                store.Dispose();
                return null;
            }
            return new ClusterRun(store, ttl, string.Join(",", nodes.Select(n => n.Endpoint)));
        }
        catch (ClusterStoreException e)
        {
            error = e.Message;
            store.Dispose();
            return null;
        }
    }

    /// <summary>
    /// <c>--spread threads|processes</c> (<paramref name="option"/>): the registered processor components no home has
    /// taken yet, as a comma-separated list (for threads a <c>--processors</c> list: they then go to whichever runs the
    /// fewest, this component included; for processes, each fork's child takes the next one); null with
    /// <paramref name="error"/> when there is none.
    /// </summary>
    public string? IdleProcessors(string option, out string? error)
    {
        error = null;
        try
        {
            var hosts = new List<MemberRecord>();
            foreach (var (key, value) in _store.RangeLive(_store.Keys.Members + MemberRecord.Processor + "/")) hosts.Add(MemberRecord.Parse(key, value));
            var idle = hosts.Where(h => h.Kind == MemberRecord.Processor && h.Load == 0).Select(h => h.Endpoint).Order(StringComparer.Ordinal).Take(MaxThreadHosts).ToList();
            if (idle.Count > 0) return string.Join(",", idle);
            error = $"{option}: no idle processor component is registered in cluster {_store.Spec.Name} at {_store.Spec.Text} (start them with 'legoemu procnode --listen ENDPOINT --cluster {_store.Spec.Text}')";
        }
        catch (ClusterStoreException e) { error = e.Message; }
        return null;
    }

    /// <summary>Thread hosts one run takes at most, as <c>--processors N</c> allows (the home is one more).</summary>
    const int MaxThreadHosts = 63;

    /// <summary>
    /// Connects to the chosen nodes, leaving out any that no longer accepts connections (it died, and its lease has not
    /// run out yet), and starts recording the placement.
    /// </summary>
    public MemoryCluster Connect(List<Endpoint> endpoints, string program)
    {
        MemoryCluster cluster;
        while (true)
        {
            try
            {
                cluster = new MemoryCluster(endpoints);
                break;
            }
            catch (MemoryNodeFailure e) when (endpoints.Count > Replication.Factor &&
                endpoints.FindIndex(ep => e.Message.StartsWith($"cannot connect to memory node {ep}:", StringComparison.Ordinal)) is int gone and >= 0)
            {
                endpoints.RemoveAt(gone);
            }
        }
        try { _publisher = PlacementPublisher.Start(_store, endpoints.Select(e => e.Text).ToList(), program, Replication.Factor, _ttl, EmulatorStderr.Writer); }
        catch (ClusterStoreException e)
        {
            cluster.Dispose();
            throw new MemoryNodeFailure(e.Message, e);
        }
        _publisher.Watch(cluster);
        return cluster;
    }

    public void Dispose()
    {
        _publisher?.Dispose();
        _store.Dispose();
    }
}
