using System.Diagnostics;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// A slower link than the real one, for experiments (<c>memnode --link-latency --link-bandwidth</c>): every reply a
/// node sends reaches the wire its latency after it was sent, having waited for the replies before it to pass at the
/// bandwidth, so a round trip grows by the latency and a line by its size over the bandwidth, from RDMA-like to
/// Ethernet-like links on one machine. As on a real wire, replies in flight overlap: a burst of replies (a batch of
/// prefetched lines, a write-back's acknowledgement behind a fill) pays the latency once, not once each.
/// </summary>
public sealed class LinkEmulation(TimeSpan latency, long bytesPerSecond)
{
    public TimeSpan Latency { get; } = latency;

    /// <summary>Bytes per second; 0: as fast as the real link.</summary>
    public long BytesPerSecond { get; } = bytesPerSecond;

    /// <summary>False for a link of no latency and no bandwidth limit: replies go out as on the real link, with no wire between.</summary>
    public bool Slows => Latency > TimeSpan.Zero || BytesPerSecond > 0;

    /// <summary>The latency in Stopwatch ticks.</summary>
    internal long LatencyTicks => (long)(Latency.TotalSeconds * Stopwatch.Frequency);

    /// <summary>Ticks <paramref name="bytes"/> take to pass at the bandwidth (0 without one).</summary>
    internal long SerializationTicks(int bytes) => BytesPerSecond > 0 ? (long)((double)bytes * Stopwatch.Frequency / BytesPerSecond) : 0;

    /// <summary>One connection's wire: what it sends goes through <paramref name="send"/> once its time has come.</summary>
    internal EmulatedWire Open(FrameSender send, Action broken, string name) => new(this, send, broken, name);
}
