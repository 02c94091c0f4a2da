using System.Net;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// What a cluster-wide manager outside this component learns from it: each vRegion placed or moved, and each node
/// failed over. The observers are called on the guest's path, so they must only queue what they are told.
/// Backups go to another host than their primary where one has room (a host being the address a node listens
/// on: nodes on one machine share it, so a machine's failure never takes both copies).
/// </summary>
public sealed partial class MemoryCluster
{
    /// <summary>A vRegion of an address space was placed, or its placement changed (see <see cref="Placement"/>).</summary>
    public Action<int, ulong, int>? RegionPlaced { get; set; }

    /// <summary>A memory node was failed over (its index and the reason).</summary>
    public Action<int, string>? NodeFailed { get; set; }

    long _gone, _goneSeen;

    /// <summary>
    /// The cluster's membership says <paramref name="node"/> is gone (its lease ran out: it died, or it is cut off).
    /// Replicated, its links are cut and the node is failed over at the component's next safe point, as a node the
    /// heartbeats found silent; without replicas the guest's next use of the node finds out for itself. Safe from any thread.
    /// </summary>
    public void ReportGone(int node)
    {
        if (!Replicated || node is < 0 or >= 64 || node >= _nodes.Length) return;
        Interlocked.Or(ref _gone, 1L << node);
        // A request already waiting for the node (it may be frozen, not dead) would wait for --node-timeout: cut it short.
        _nodes[node].Sever();
        _watch?.Sever(node);
    }

    void TakeGone()
    {
        long gone = Interlocked.Read(ref _gone);
        if (gone == _goneSeen) return;
        _goneSeen = gone;
        for (int i = 0; i < _nodes.Length && i < 64; i++)
            if ((gone & (1L << i)) != 0 && !_dead[i] && !_nodes[i].IsBroken)
                _nodes[i].MarkBroken(new MemoryNodeFailure($"memory node {_nodes[i].Endpoint} (node {i}) left the cluster: its lease in etcd expired"));
    }

    string[]? _hosts;

    string HostOf(int node)
    {
        _hosts ??= _nodes.Select(n => n.Endpoint.Address is IPEndPoint ip ? ip.Address.ToString() : "local").ToArray();
        return _hosts[node];
    }

    /// <summary>A backup for a region whose primary is <paramref name="primary"/>: on another host if any has room, else on another node.</summary>
    int PlaceBackup(int primary, Func<int, bool>? allowed)
    {
        string host = HostOf(primary);
        int b = _gmm.Place(exclude: primary, allowed: k => HostOf(k) != host && (allowed == null || allowed(k)));
        return b >= 0 ? b : _gmm.Place(exclude: primary, allowed: allowed);
    }
}
