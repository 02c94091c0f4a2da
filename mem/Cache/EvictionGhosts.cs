namespace LegoEmu.Mem.Cache;

/// <summary>
/// The last lines each set gave up, to tell which demand misses a prefetch caused. A set holding k prefetched
/// lines not used yet would, without them, still hold its last k victims (FIFO and LRU alike give up their oldest
/// line first): a demand miss on one of those is a miss the prefetcher caused. A miss on an older victim is not: that
/// line would have gone anyway. A set remembers as many victims as it has ways, since that many of its lines can be
/// unused prefetches at once: remembering fewer would let a highly associative cache (LegoOS's ExCache is 64-way)
/// blame most of the misses its prefetches caused on nothing.
/// </summary>
internal sealed class EvictionGhosts
{
    readonly int _perSet;
    readonly ulong[] _line;
    readonly int[] _asid;
    readonly int[] _next;

    public EvictionGhosts(int sets, int ways)
    {
        _perSet = Math.Max(1, ways);
        _line = new ulong[sets * _perSet];
        for (int i = 0; i < _line.Length; i++) _line[i] = ulong.MaxValue; // not Array.Fill: see SlotStore's constructor
        _asid = new int[sets * _perSet];
        _next = new int[sets];
    }

    /// <summary>Victims remembered per set.</summary>
    public int PerSet => _perSet;

    public void Evicted(int set, int asid, ulong lineAddr)
    {
        int i = set * _perSet + _next[set];
        _line[i] = lineAddr;
        _asid[i] = asid;
        _next[set] = (_next[set] + 1) % _perSet;
    }

    /// <summary>True (and forgets it) when the line is among the set's last <paramref name="recent"/> victims.</summary>
    public bool TakeRecent(int set, int asid, ulong lineAddr, int recent)
    {
        int newest = _next[set];
        for (int k = 1; k <= Math.Min(recent, _perSet); k++)
        {
            int i = set * _perSet + (newest - k + _perSet) % _perSet;
            if (_line[i] == lineAddr && _asid[i] == asid)
            {
                _line[i] = ulong.MaxValue;
                return true;
            }
        }
        return false;
    }
}
