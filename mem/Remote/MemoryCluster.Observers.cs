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

    /// <summary>Asks the guest for a safe point soon (set by its process): see <see cref="ThrowIfLeft"/>.</summary>
    public Action? GoneNoticed { get; set; }

    MemoryNodeFailure? _left;

    /// <summary>Without replicas: why the run must end, once a node holding its memory left the membership.</summary>
    public MemoryNodeFailure? LeftCluster => Volatile.Read(ref _left);

    /// <summary>At the guest's safe points: a node that held this component's memory without a copy is gone for good.</summary>
    public void ThrowIfLeft()
    {
        if (Volatile.Read(ref _left) is { } f) throw new MemoryNodeFailure(f.Message, f);
    }

    /// <summary>
    /// The cluster's membership says <paramref name="node"/> is gone (its lease ran out: it died, or it is cut off).
    /// Replicated, its links are cut and the node is failed over at the component's next safe point, as a node the
    /// heartbeats found silent. Without replicas a node that holds any of this component's memory ends the guest: its
    /// links are cut (a request waiting for a frozen node ends at once) and the guest's next safe point, asked for now,
    /// ends the run with one line, as for a node that died under it; one that holds nothing is no longer placed on.
    /// Safe from any thread.
    /// </summary>
    public void ReportGone(int node)
    {
        if (node is < 0 or >= 64 || node >= _nodes.Length) return;
        if (!Replicated)
        {
            if (!Holds(node))
            {
                _dead[node] = true;
                return;
            }
            var failure = new MemoryNodeFailure($"memory node {_nodes[node].Endpoint} (node {node}) left the cluster: its lease in etcd expired");
            Interlocked.CompareExchange(ref _left, failure, null);
            _nodes[node].MarkBroken(failure);
            _nodes[node].Sever();
            _watch?.Sever(node);
            GoneNoticed?.Invoke();
            return;
        }
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

    /// <summary>Whether <paramref name="node"/> is the home of any of this component's address spaces or holds a region of one (any thread).</summary>
    bool Holds(int node)
    {
        SpaceInfo[] spaces;
        lock (_spaces) spaces = [.. _spaces.Values];
        foreach (var s in spaces)
        {
            if (s.Home == node) return true;
            lock (s.Owners)
                foreach (int p in s.Owners.Values)
                    if (Placement.Primary(p) == node || Placement.Backup(p) == node) return true;
        }
        return false;
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
