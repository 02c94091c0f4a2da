namespace LegoEmu.Mem.Remote;

/// <summary>What one processor component saw of one memory node: traffic and round-trip latency.</summary>
public sealed class NodeStats
{
    // Log-spaced latency buckets: 1/8 µs resolution up to 64 µs, then coarser; enough for p50/p99.
    const int Buckets = 512;
    readonly long[] _histogram = new long[Buckets];

    public long Requests;
    public long Fills;
    public long WriteBacks;
    public long BytesSent;
    public long BytesReceived;
    /// <summary>Fills (prefetches included) and write-backs served by a copy out of or into a granted frame, with no message.</summary>
    public long OneSidedFills, OneSidedWriteBacks;
    /// <summary>Times a request other than a fill or write-back took live grants away.</summary>
    public long Revocations;

    /// <summary>
    /// Records one round trip. Integer arithmetic only: this runs while the guest's MXCSR is live on
    /// this thread, and a floating-point operation here would set flags the guest can observe.
    /// </summary>
    public void Record(long ticks)
    {
        Requests++;
        // ticks * 1e9 / f in two 64-bit steps (the remainder times 1e9 fits while f < 18 GHz; Stopwatch counts
        // nanoseconds on Linux): 128-bit arithmetic would leave the method to the JIT in every process.
        ulong t = (ulong)Math.Max(ticks, 0), f = (ulong)System.Diagnostics.Stopwatch.Frequency;
        long ns = (long)(t / f * 1_000_000_000UL + t % f * 1_000_000_000UL / f);
        _histogram[Bucket(ns)]++;
    }

    // Below 64 µs: 0.25 µs steps. Above: 16 steps per power of two.
    static int Bucket(long ns)
    {
        if (ns < 64_000) return (int)(ns / 250);
        long us = ns / 1000;
        int e = System.Numerics.BitOperations.Log2((ulong)us);
        int m = (int)((us >> (e - 4)) & 15);
        return Math.Min(256 + (e - 6) * 16 + m, Buckets - 1);
    }

    static double BucketValue(int b) => b < 256 ? (b + 0.5) / 4 : (16 + ((b - 256) & 15) + 0.5) * Math.Pow(2, (b - 256) / 16 + 6 - 4);

    /// <summary>Latency percentile in microseconds (0 when nothing was recorded).</summary>
    public double Percentile(double p)
    {
        long total = 0;
        foreach (var c in _histogram) total += c;
        if (total == 0) return 0;
        long rank = (long)Math.Ceiling(total * p);
        long seen = 0;
        for (int b = 0; b < Buckets; b++)
        {
            seen += _histogram[b];
            if (seen >= rank) return BucketValue(b);
        }
        return BucketValue(Buckets - 1);
    }
}
