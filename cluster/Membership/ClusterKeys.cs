namespace LegoEmu.Cluster.Membership;

/// <summary>
/// Where a cluster's state lives in etcd, all under <c>/legoemu/NAME/</c>:
/// <c>members/memory/ID</c> and <c>members/processor/ID</c> (a component's record, under the component's lease),
/// <c>runs/RUN</c> (a guest run that places memory through the cluster, under the run's lease),
/// <c>placement/RUN/ASID/REGION</c> (where a vRegion of that run lives, under the run's lease) and
/// <c>failures/ID</c> (a memory node a run declared failed; kept, so the failure outlives both).
/// </summary>
public sealed class ClusterKeys(string name)
{
    public string Root { get; } = $"/legoemu/{name}/";
    public string Members => Root + "members/";
    public string Member(string kind, string id) => $"{Members}{kind}/{id}";
    public string Runs => Root + "runs/";
    public string Run(string run) => Runs + run;
    public string Placements => Root + "placement/";
    public string Placement(string run, int asid, ulong region) => $"{Placements}{run}/{asid}/{region:x}";
    public string Failures => Root + "failures/";
    public string Failure(string id) => Failures + id;

    /// <summary>A member's id: its endpoint made safe for a key (a Unix socket path has slashes).</summary>
    public static string IdOf(string endpoint) => Uri.EscapeDataString(endpoint);
}
