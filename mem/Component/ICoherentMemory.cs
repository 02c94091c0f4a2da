using LegoEmu.Mem.Remote;

namespace LegoEmu.Mem.Component;

/// <summary>
/// Memory that several processor components cache at once: fills name the state they want (shared for
/// reads, exclusive for writes) so the owning node's directory can invalidate or downgrade the others.
/// </summary>
public interface ICoherentMemory : IMemoryComponent
{
    /// <summary>Reads one line for reading (shared) or for writing (exclusive, every other copy invalidated).</summary>
    FillStatus FillCoherent(int asid, ulong lineAddr, Span<byte> destination, bool exclusive, out Protection prot);

    /// <summary>A tracked fill that first hands back an evicted dirty line (in one round trip when both live on one node).</summary>
    FillStatus WriteBackAndFillCoherent(int victimAsid, ulong victimAddr, ReadOnlySpan<byte> victim, int asid, ulong lineAddr,
        Span<byte> destination, bool exclusive, out Protection prot, out bool combined);

    /// <summary>Applies the invalidations the nodes have pushed so far; called at the cache owner's safe points.</summary>
    void DrainCoherence();
}

/// <summary>A cache that gives up or downgrades lines when a memory node's directory asks.</summary>
public interface ICoherenceTarget
{
    /// <summary>
    /// Drops (or makes read-only) the cached copy of a line. Returns how many bytes of dirty data were
    /// copied to <paramref name="data"/> (0 when the copy was clean or absent); <paramref name="kept"/>
    /// says whether a read-only copy remains.
    /// </summary>
    int ApplyRemote(int asid, ulong lineAddr, InvalidateMode mode, Span<byte> data, out bool kept);

    /// <summary>
    /// Drops every directory-tracked line for which <paramref name="moved"/> holds (its region's directory was on a
    /// node that failed), handing the dirty ones to <paramref name="dirty"/> first: they are the only copy.
    /// </summary>
    void DropMoved(Func<int, ulong, bool> moved, LineSink dirty);
}

/// <summary>Takes one line's bytes; they are valid during the call only.</summary>
public delegate void LineSink(int asid, ulong lineAddr, ReadOnlySpan<byte> data);
