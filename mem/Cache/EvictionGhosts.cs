namespace LegoEmu.Mem.Cache;

/// <summary>
/// The last few lines each set gave up, to tell which demand misses a prefetch caused. A set holding k prefetched
/// lines not used yet would, without them, still hold its last k victims (FIFO and LRU alike give up their oldest
/// line first): a demand miss on one of those is a miss the prefetcher caused. A miss on an older victim is not: that
/// line would have gone anyway.
/// </summary>
internal sealed class EvictionGhosts
{
    /// <summary>Victims remembered per set; more unused prefetched lines in one set than this count as this many.</summary>
    public const int PerSet = 4;

    readonly ulong[] _line;
    readonly int[] _asid;
    readonly byte[] _next;

    public EvictionGhosts(int sets)
    {
        _line = new ulong[sets * PerSet];
        Array.Fill(_line, ulong.MaxValue);
        _asid = new int[sets * PerSet];
        _next = new byte[sets];
    }

    public void Evicted(int set, int asid, ulong lineAddr)
    {
        int i = set * PerSet + _next[set];
        _line[i] = lineAddr;
        _asid[i] = asid;
        _next[set] = (byte)((_next[set] + 1) % PerSet);
    }

    /// <summary>True (and forgets it) when the line is among the set's last <paramref name="recent"/> victims.</summary>
    public bool TakeRecent(int set, int asid, ulong lineAddr, int recent)
    {
        int newest = _next[set];
        for (int k = 1; k <= Math.Min(recent, PerSet); k++)
        {
            int i = set * PerSet + (newest - k + PerSet) % PerSet;
            if (_line[i] == lineAddr && _asid[i] == asid)
            {
                _line[i] = ulong.MaxValue;
                return true;
            }
        }
        return false;
    }
}
