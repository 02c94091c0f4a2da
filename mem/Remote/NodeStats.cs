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

    public void Record(double micros)
    {
        Requests++;
        _histogram[Bucket(micros)]++;
    }

    static int Bucket(double us)
    {
        if (us < 64) return (int)(us * 4);
        int b = 256 + (int)(Math.Log2(us / 64) * 32);
        return Math.Min(b, Buckets - 1);
    }

    static double BucketValue(int b) => b < 256 ? (b + 0.5) / 4 : 64 * Math.Pow(2, (b - 256 + 0.5) / 32);

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
