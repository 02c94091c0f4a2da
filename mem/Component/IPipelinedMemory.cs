namespace LegoEmu.Mem.Component;

/// <summary>
/// Memory reached over links that carry many requests at once (memory nodes): a write-back need not be
/// waited for, and fills can be issued ahead of the guest. Replies to such requests are read whenever the
/// link is next read, and handed to the <see cref="Target"/>.
/// </summary>
public interface IPipelinedMemory
{
    /// <summary>Receives prefetched lines and write-back acknowledgements.</summary>
    IPipelinedTarget? Target { get; set; }

    /// <summary>Queues a write-back nobody waits for; false when nothing need be written (no node holds the line's region).</summary>
    bool QueueWriteBack(int asid, ulong lineAddr, ReadOnlySpan<byte> data, int token);

    /// <summary>
    /// Writes a victim back at once when that needs no message (a same-host node lent this cache the line's frame);
    /// false when it must travel as a message (queued or not, as the caller decides).
    /// </summary>
    bool WriteBackInPlace(int asid, ulong lineAddr, ReadOnlySpan<byte> data);

    /// <summary>
    /// Told as a miss begins, before the cache's own bookkeeping: the line to be filled, and the dirty victim's address
    /// (0 for none) of <paramref name="victimAsid"/>, so that what their fill and write-back will look up can be on its
    /// way into the host's cache meanwhile. Changes nothing.
    /// </summary>
    void AnticipateMiss(int asid, ulong lineAddr, int victimAsid, ulong victimAddr);

    /// <summary>True when fills may be served by mapping a frame a same-host node granted (<see cref="MapGranted"/>).</summary>
    bool MapsFrames { get; }

    /// <summary>
    /// Where the line's bytes lie in the frame its node granted this link, for the cache to use in place of a copy
    /// (<paramref name="node"/> names the node); null when the line has no grant or may not be mapped. Counted as a
    /// one-sided fill. Until <see cref="IPipelinedTarget.FramesRevoked"/> names it, the frame stays the line's.
    /// </summary>
    unsafe byte* MapGranted(int asid, ulong lineAddr, int size, out Protection prot, out int node);

    /// <summary>Counts the write-back of a dirty mapped line, whose bytes are in its node's frame already.</summary>
    void MappedWriteBack(int node, int size);

    /// <summary>Queues a fill ahead of the guest; returns the node it goes to, or -1 when no known node holds the line's region.</summary>
    int QueuePrefetch(int asid, ulong lineAddr, int size, int token);

    /// <summary>Sends everything queued, one system call per node.</summary>
    void FlushQueued();

    /// <summary>
    /// A demand fill whose evicted dirty victim goes back behind it, unwaited: the node answers the fill
    /// first. Returns <see cref="FillStatus.Unmapped"/> for a line no node holds.
    /// </summary>
    FillStatus FillThenWriteBack(int asid, ulong lineAddr, Span<byte> destination, out Protection prot,
        int victimAsid, ulong victimAddr, ReadOnlySpan<byte> victim, int token, out bool queued);

    /// <summary>Reads the oldest asynchronous reply of node <paramref name="node"/> (waiting for it).</summary>
    void ReceiveOne(int node);

    /// <summary>Reads every asynchronous reply still in flight.</summary>
    void DrainAll();
}

/// <summary>Where the replies of <see cref="IPipelinedMemory"/>'s asynchronous requests go.</summary>
public interface IPipelinedTarget
{
    /// <summary>A prefetch's line arrived (<paramref name="data"/> is empty for a zero or unmapped line).</summary>
    void PrefetchArrived(int token, FillStatus status, Protection prot, ReadOnlySpan<byte> data);

    /// <summary>
    /// A prefetch served from a frame node <paramref name="node"/> granted: true when the target took the frame itself
    /// (as <see cref="IPipelinedMemory.MapGranted"/> hands it), false when it wants the bytes through
    /// <see cref="PrefetchArrived"/>.
    /// </summary>
    bool PrefetchMapped(int token, Protection prot, nint frame, int node) => false;

    /// <summary>A queued write-back reached its node; <paramref name="failed"/> when the node had no memory for it.</summary>
    void WriteBackAcknowledged(int token, bool failed);

    /// <summary>
    /// Node <paramref name="node"/>'s grants of [<paramref name="start"/>, <paramref name="end"/>) of space
    /// <paramref name="asid"/> (every grant when <paramref name="asid"/> is -1) are about to go, before the request that
    /// may change their frames leaves: lines mapped there must stop using the frames now.
    /// </summary>
    void FramesRevoked(int node, int asid, ulong start, ulong end) { }
}
