using System.Diagnostics;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// A slower link than the real one, for experiments (<c>memnode --link-latency --link-bandwidth</c>): every reply a
/// node sends waits the latency and its own serialization time at the bandwidth first, so a round trip grows by the
/// latency and a line by its size over the bandwidth, from RDMA-like to Ethernet-like links on one machine. Replies
/// of one connection wait in turn, as they would on one wire.
/// </summary>
public sealed class LinkEmulation(TimeSpan latency, long bytesPerSecond)
{
    public TimeSpan Latency { get; } = latency;

    /// <summary>Bytes per second; 0: as fast as the real link.</summary>
    public long BytesPerSecond { get; } = bytesPerSecond;

    /// <summary>Sleeping is precise to a millisecond or so: the last stretch is spent yielding, for microsecond links.</summary>
    static readonly long SleepSlack = Stopwatch.Frequency / 667;

    public void Delay(int bytes)
    {
        long ticks = (long)(Latency.TotalSeconds * Stopwatch.Frequency);
        if (BytesPerSecond > 0) ticks += (long)((double)bytes * Stopwatch.Frequency / BytesPerSecond);
        if (ticks <= 0) return;
        long until = Stopwatch.GetTimestamp() + ticks;
        long left = ticks - SleepSlack;
        if (left > 0) Thread.Sleep(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
        while (Stopwatch.GetTimestamp() < until) Thread.Yield();
    }
}
