namespace LegoEmu.Mem.Remote;

/// <summary>
/// Places 1 GiB vRegions on memory nodes: the node with the most free memory, then the least load
/// (fewest regions already placed). Asked only when a region is first used, so it may query nodes.
/// </summary>
public sealed class GlobalMemoryManager(IReadOnlyList<MemoryNodeClient> nodes)
{
    public const int RegionShift = 30;

    readonly int[] _regionsPlaced = new int[nodes.Count];

    /// <summary>Index of the chosen node, or -1 when every node is full. Homes of address spaces are placed
    /// the same way but do not count as regions.</summary>
    public int Place(bool countRegion = true)
    {
        int best = -1;
        foreach (var n in nodes)
        {
            n.RefreshStats();
            if (n.FreeFrames == 0) continue;
            if (best < 0) { best = n.Index; continue; }
            var b = nodes[best];
            if (n.FreeFrames > b.FreeFrames || (n.FreeFrames == b.FreeFrames && _regionsPlaced[n.Index] < _regionsPlaced[best]))
                best = n.Index;
        }
        if (best >= 0 && countRegion) _regionsPlaced[best]++;
        return best;
    }

    public int RegionsOn(int node) => _regionsPlaced[node];
}
