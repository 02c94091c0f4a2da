using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// One-sided access to same-host nodes: a fill of a line whose frame the node granted on that link is a copy out of the
/// node's frame window, and a dirty victim a copy into it, with no message and without the node running (see
/// <see cref="MemoryNodeClient.Granted"/>, and docs/ARCHITECTURE.md). The node's own counters do not see them; the
/// link's <see cref="NodeStats.OneSidedFills"/> and <see cref="NodeStats.OneSidedWriteBacks"/> do.
/// </summary>
public sealed partial class MemoryCluster
{
    /// <summary>
    /// Prefetches served from granted frames, not yet handed to the cache: the cache marks a prefetch's slot in flight
    /// only once <see cref="QueuePrefetch"/> has returned, so they are delivered when the batch is flushed (which ends
    /// every round of prefetches), or before anything waits for a prefetch or revokes the grants.
    /// </summary>
    (int Token, nint Line, Protection Prot, int Size, int Node)[] _localPrefetches = new (int, nint, Protection, int, int)[64];
    int _localCount;
    readonly Action _deliverLocalPrefetches;

    unsafe bool FillOneSided(MemoryNodeClient node, int asid, ulong lineAddr, Span<byte> destination, out Protection prot)
    {
        byte* line = node.Granted(asid, lineAddr, out prot);
        if (line == null) return false;
        LineBytes.Copy(new ReadOnlySpan<byte>(line, destination.Length), destination);
        node.Stats.OneSidedFills++;
        Stats.Fills++;
        Stats.BytesOut += destination.Length;
        return true;
    }

    unsafe bool WriteBackOneSided(MemoryNodeClient node, int asid, ulong lineAddr, ReadOnlySpan<byte> data)
    {
        byte* line = node.Granted(asid, lineAddr, out _);
        if (line == null) return false;
        LineBytes.Copy(data, new Span<byte>(line, data.Length));
        node.Stats.OneSidedWriteBacks++;
        Stats.WriteBacks++;
        Stats.BytesIn += data.Length;
        return true;
    }

    unsafe bool QueueLocalPrefetch(MemoryNodeClient node, int asid, ulong lineAddr, int size, int token)
    {
        byte* line = node.Granted(asid, lineAddr, out var prot);
        if (line == null) return false;
        if (_localCount == _localPrefetches.Length) Array.Resize(ref _localPrefetches, _localCount * 2);
        _localPrefetches[_localCount++] = (token, (nint)line, prot, size, node.Index);
        node.Stats.OneSidedFills++;
        return true;
    }

    /// <summary>Hands the prefetches served from granted frames to the cache; true when there were any.</summary>
    unsafe bool DeliverLocalPrefetches()
    {
        if (_localCount == 0) return false;
        var target = Target ?? throw new InvalidOperationException("a prefetched line with nobody to take it");
        // The frames are read (or mapped) now: nothing between the prefetch and here sent a request that could change them.
        bool mapping = RingTransport.MapFrames;
        for (int i = 0; i < _localCount; i++)
        {
            var (token, line, prot, size, node) = _localPrefetches[i];
            Stats.Fills++;
            Stats.BytesOut += size;
            if (mapping && target.PrefetchMapped(token, prot, line, node)) continue;
            target.PrefetchArrived(token, FillStatus.Data, prot, new ReadOnlySpan<byte>((void*)line, size));
        }
        _localCount = 0;
        return true;
    }

    /// <summary>
    /// Starts loading the grant-table entries a one-sided fill of <paramref name="lineAddr"/> and write-back of
    /// <paramref name="victimAddr"/> will read: the table is cold after the guest ran between misses, and each look-up
    /// otherwise waits for memory (the top item of the one-sided path in a profile). The owner is not looked up: every
    /// node's table is touched, at one prefetch each.
    /// </summary>
    public void AnticipateMiss(int asid, ulong lineAddr, int victimAsid, ulong victimAddr)
    {
        foreach (var node in _nodes)
        {
            node.PrefetchGrant(asid, lineAddr);
            if (victimAddr != 0) node.PrefetchGrant(victimAsid, victimAddr);
        }
    }

    /// <summary>True when some link maps its node's frames and caches may map them (see <see cref="RingTransport.MapFrames"/>).</summary>
    public bool MapsFrames
    {
        get
        {
            if (Replicated || !RingTransport.MapFrames) return false;
            foreach (var n in _nodes)
                if (n.MapsFrames) return true;
            return false;
        }
    }

    public unsafe byte* MapGranted(int asid, ulong lineAddr, int size, out Protection prot, out int node)
    {
        prot = Protection.None;
        node = -1;
        // Only whole pages, as grants are: the frame holds the line and nothing of another.
        if (Replicated || size != (int)PageMath.PageSize) return null;
        // Only the region's owner grants its pages, so the grant tables themselves say who holds the line: a look-up in
        // each (already on its way into the host's cache, see AnticipateMiss), the last one to answer first, rather than
        // the space's and the region's tables behind their locks.
        int n = _lastMapped;
        for (int k = 0; k < _nodes.Length; k++, n = n + 1 == _nodes.Length ? 0 : n + 1)
        {
            var link = _nodes[n];
            byte* line = link.Granted(asid, lineAddr, out prot);
            if (line == null) continue;
            link.Stats.OneSidedFills++;
            Stats.Fills++;
            Stats.BytesOut += size;
            node = _lastMapped = n;
            return line;
        }
        return null;
    }

    /// <summary>The node whose grant <see cref="MapGranted"/> found last.</summary>
    int _lastMapped;

    public void MappedWriteBack(int node, int size)
    {
        _nodes[node].Stats.OneSidedWriteBacks++;
        Stats.WriteBacks++;
        Stats.BytesIn += size;
    }

    public bool WriteBackInPlace(int asid, ulong lineAddr, ReadOnlySpan<byte> data)
    {
        if (Replicated) return false;
        SpaceInfo? s;
        lock (_spaces) if (!_spaces.TryGetValue(asid, out s)) return false;
        int n;
        lock (s.Owners) if (!s.Owners.TryGetValue(lineAddr >> GlobalMemoryManager.RegionShift, out n)) return false;
        return WriteBackOneSided(_nodes[n], asid, lineAddr, data);
    }

    /// <summary>Fills and write-backs served one-sidedly over all nodes, for --stats-json.</summary>
    public (long Fills, long WriteBacks) OneSidedTraffic
    {
        get
        {
            long f = 0, w = 0;
            foreach (var n in _nodes)
            {
                f += n.Stats.OneSidedFills;
                w += n.Stats.OneSidedWriteBacks;
            }
            return (f, w);
        }
    }
}
