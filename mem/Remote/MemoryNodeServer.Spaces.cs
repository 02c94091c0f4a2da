using System.Diagnostics;
using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// Who may touch which address space, and how long a space lives. A connection sees only the spaces it
/// created, forked, or claimed with the space's key (a 64-bit secret its creator chose and hands to a
/// forked child or a thread host); any other id answers as if it did not exist. A space lives while some
/// connection holds it: when the last holder releases it or its connection ends (exit, kill, a lost
/// link), the node destroys it, so a long-running shared node returns to its baseline after every run.
/// A forked child's space waits, unheld, for its child to claim it for <see cref="HandOverGrace"/>.
/// All of it runs under the store's lock.
/// </summary>
public sealed partial class MemoryNodeServer
{
    sealed class SpaceRecord(ulong key)
    {
        public readonly ulong Key = key;
        public readonly HashSet<Connection> Holders = new();
        /// <summary>Made for a child that has not claimed it yet: unheld, it waits out the grace period instead of going at once.</summary>
        public bool AwaitingClaim;
        /// <summary>Held by the store's own process (a process serving its in-process memory): never destroyed for want of holders.</summary>
        public bool HeldByOwner;
        public long UnheldSince;
    }

    /// <summary>How long a forked child's space waits for the child to claim it: a cold component start on a loaded machine.</summary>
    public static readonly TimeSpan DefaultHandOverGrace = TimeSpan.FromSeconds(120);

    /// <summary>How long an unclaimed child's space waits (memnode --handover-grace).</summary>
    public TimeSpan HandOverGrace { get; init; } = DefaultHandOverGrace;

    /// <summary>Most address spaces one connection may hold at once (a fork loop releases each child's after the hand-over).</summary>
    public const int MaxSpacesPerConnection = 4096;

    readonly Dictionary<int, SpaceRecord> _records = new();
    Timer? _sweeper;

    /// <summary>Spaces whose records exist (held or awaiting a claim), for tests and stats.</summary>
    public int TrackedSpaces
    {
        get { lock (_lock) return _records.Count; }
    }

    /// <summary>
    /// Lets connections claim a space the store's owner made directly (not through a connection): its own space
    /// (<paramref name="ownerHolds"/>, never destroyed here) or a forked child's, which then lives as its holders do.
    /// </summary>
    public void Grant(int asid, ulong key, bool ownerHolds)
    {
        lock (_lock)
        {
            var rec = new SpaceRecord(key) { HeldByOwner = ownerHolds, AwaitingClaim = !ownerHolds, UnheldSince = Stopwatch.GetTimestamp() };
            _records[asid] = rec;
            if (!ownerHolds) StartSweeper();
        }
    }

    /// <summary>Throws (closing the connection) unless <paramref name="conn"/> may touch <paramref name="asid"/>.</summary>
    void CheckAsid(Connection conn, int asid)
    {
        if (!conn.Spaces.Contains(asid) || !_store.HasAddressSpace(asid)) throw new ProtocolException($"unknown address space {asid}");
    }

    void Hold(Connection conn, int asid, SpaceRecord rec)
    {
        if (conn.Spaces.Count >= MaxSpacesPerConnection && !conn.Spaces.Contains(asid))
            throw new ProtocolException($"more than {MaxSpacesPerConnection} address spaces held by one connection");
        rec.Holders.Add(conn);
        rec.AwaitingClaim = false;
        conn.Spaces.Add(asid);
    }

    /// <summary>CreateSpace and ForkSpace: the new space is held by the connection that made it.</summary>
    void Created(Connection conn, int asid, ulong key, bool forChild)
    {
        var rec = new SpaceRecord(key);
        _records[asid] = rec;
        Hold(conn, asid, rec);
        // A child's space must outlive its parent's connection until the child has claimed it.
        rec.AwaitingClaim = forChild;
    }

    int Claim(Connection conn, int asid, ulong key)
    {
        // Unknown id and wrong key look alike: a stranger learns nothing from trying.
        if (!_records.TryGetValue(asid, out var rec) || !_store.HasAddressSpace(asid) || !KeysEqual(rec.Key, key)) return -Errno.ENOENT;
        Hold(conn, asid, rec);
        return 0;
    }

    static bool KeysEqual(ulong a, ulong b) => (a ^ b) == 0; // one XOR: no early exit to time

    void Release(Connection conn, int asid)
    {
        conn.Spaces.Remove(asid);
        if (!_records.TryGetValue(asid, out var rec)) return;
        rec.Holders.Remove(conn);
        if (rec.Holders.Count > 0 || rec.HeldByOwner) return;
        if (rec.AwaitingClaim)
        {
            rec.UnheldSince = Stopwatch.GetTimestamp();
            StartSweeper();
            return;
        }
        Destroy(asid);
    }

    void Destroy(int asid)
    {
        if (_records.Remove(asid, out var rec))
            foreach (var c in rec.Holders) c.Spaces.Remove(asid);
        _store.DestroyAddressSpace(asid);
        ForgetSpace(asid);
    }

    /// <summary>A connection ended: every space it held is released (and destroyed when nobody else holds it).</summary>
    void ReleaseAll(Connection conn)
    {
        foreach (int asid in conn.Spaces.ToArray()) Release(conn, asid);
    }

    void StartSweeper()
    {
        var period = TimeSpan.FromMilliseconds(Math.Clamp(HandOverGrace.TotalMilliseconds / 4, 50, 1000));
        _sweeper ??= new Timer(_ => Sweep(), null, period, period);
    }

    /// <summary>Destroys children's spaces nobody claimed within the grace period (the child never started, or died first).</summary>
    void Sweep()
    {
        lock (_lock)
        {
            if (_stopping) return;
            var expired = new List<int>();
            foreach (var (asid, rec) in _records)
                if (rec.AwaitingClaim && rec.Holders.Count == 0 && Stopwatch.GetElapsedTime(rec.UnheldSince) > HandOverGrace) expired.Add(asid);
            foreach (int asid in expired) Destroy(asid);
        }
    }
}
