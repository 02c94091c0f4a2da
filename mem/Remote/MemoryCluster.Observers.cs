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
