namespace LegoEmu.Cluster.Membership;

/// <summary>
/// The global memory manager's first step for <c>run --cluster</c>: which registered memory nodes a guest uses, in
/// the order placement prefers them (most free memory, then least load). The cluster component then places each
/// vRegion among them on first use as it does for <c>--memory-nodes</c>, asking the nodes themselves for their free
/// frames, so the choice stays right as other runs fill them.
/// </summary>
public static class ClusterMemory
{
    /// <summary>Most nodes one run uses (the placement table packs a node index in 16 bits; a node link costs a socket and buffers).</summary>
    public const int MaxNodes = 64;

    public static IReadOnlyList<MemberRecord> Choose(EtcdStore store)
    {
        var nodes = new List<MemberRecord>();
        foreach (var (key, value) in store.RangeLive(store.Keys.Members + MemberRecord.Memory + "/")) nodes.Add(MemberRecord.Parse(key, value));
        return nodes.Where(n => n.Kind == MemberRecord.Memory && n.FreeBytes > 0)
            .OrderByDescending(n => n.FreeBytes).ThenBy(n => n.Load).ThenBy(n => n.Endpoint, StringComparer.Ordinal)
            .Take(MaxNodes).ToList();
    }
}
