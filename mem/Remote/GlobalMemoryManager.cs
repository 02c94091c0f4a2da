namespace LegoEmu.Mem.Remote;

/// <summary>
/// Places 1 GiB vRegions on memory nodes: the node with the most free memory, then the least load
/// (fewest regions already placed). Asked only when a region is first used, so it may query nodes.
/// A node that failed, or that already holds the region's other copy, is never chosen.
/// </summary>
public sealed class GlobalMemoryManager(IReadOnlyList<MemoryNodeClient> nodes, Func<int, bool>? usable = null)
{
    public const int RegionShift = 30;

    readonly int[] _regionsPlaced = new int[nodes.Count];

    /// <summary>Index of the chosen node other than <paramref name="exclude"/>, or -1 when every other node is full or
    /// failed, or that <paramref name="allowed"/> (when given) refuses. Homes of address spaces are placed the same
    /// way but do not count as regions.</summary>
    public int Place(bool countRegion = true, int exclude = -1, Func<int, bool>? allowed = null)
    {
        int best = -1;
        foreach (var n in nodes)
        {
            if (n.Index == exclude || n.IsBroken || (usable != null && !usable(n.Index)) || (allowed != null && !allowed(n.Index))) continue;
            // A node that fails to answer is left out here; whoever uses it next notices and fails it over.
            try { n.RefreshStats(); }
            catch (MemoryNodeFailure) { continue; }
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
