using LegoEmu.Mem.Cache;
using Xunit;

namespace LegoEmu.Tests.Mem;

/// <summary>
/// The prefetch throttle's decisions, epoch by epoch: wasted and polluting lines halve the depth down to a stop, a stop
/// lasts some demand misses and then tries one line ahead, failed trials stop for longer, late lines count for what
/// they saved, and the counters say what it did.
/// </summary>
public sealed class PrefetchThrottleTests
{
    static void Wasted(PrefetchThrottle t, int n)
    {
        for (int i = 0; i < n; i++) t.Wasted();
    }

    static void Used(PrefetchThrottle t, int n, double saved = 1)
    {
        for (int i = 0; i < n; i++) t.Used(saved);
    }

    [Fact]
    public void MappedLinesUsedByAThirdCutTheDepthWhereLinesByMessageWouldNot()
    {
        // A third used, two thirds wasted: by message each used line saved a miss and each wasted one cost a quarter.
        var byMessage = new PrefetchThrottle(16, new CacheStats());
        byMessage.DepthForStream();
        for (int i = 0; i < 64; i++)
            if (i % 3 == 0) byMessage.Used(1);
            else byMessage.Wasted();
        Assert.Equal(16, byMessage.Depth);

        // Mapped from granted frames, a demand miss would have cost no message either: the same epoch loses.
        var stats = new CacheStats();
        var mapped = new PrefetchThrottle(16, stats);
        mapped.DepthForStream();
        for (int i = 0; i < 64; i++)
            if (i % 3 == 0) mapped.Used(1, mapped: true);
            else mapped.Wasted(mapped: true);
        Assert.Equal(8, mapped.Depth);
        Assert.Equal(1, stats.PrefetchDepthCuts);

        // Nearly all used (a stream over memory seen before): it keeps its depth.
        var stream = new PrefetchThrottle(16, new CacheStats());
        stream.DepthForStream();
        for (int i = 0; i < 64; i++)
            if (i % 16 == 0) stream.Wasted(mapped: true);
            else stream.Used(1, mapped: true);
        Assert.Equal(16, stream.Depth);
    }

    [Fact]
    public void WastedEpochsHalveTheDepthToAStopAndATrialThatPaysRestoresTheFullDepth()
    {
        var stats = new CacheStats();
        var t = new PrefetchThrottle(16, stats);
        Assert.Equal(16, t.DepthForStream());
        foreach (int depth in new[] { 8, 4, 2, 1, 0 })
        {
            Wasted(t, 64);
            Assert.Equal(depth, t.Depth);
        }
        Assert.Equal(4, stats.PrefetchDepthCuts);
        Assert.Equal(1, stats.PrefetchStops);

        // Stopped for 2048 demand misses: streams are not followed meanwhile.
        stats.Misses += 2047;
        Assert.Equal(0, t.DepthForStream());
        Assert.Equal(1, stats.PrefetchSuppressed);
        stats.Misses++;
        Assert.Equal(16, t.DepthForStream());
        Assert.Equal(1, stats.PrefetchTrials);

        // The trial at the full depth pays: it stays.
        Used(t, 64);
        Assert.Equal(16, t.Depth);
        // Cut back, good epochs double the depth up to the configured one.
        Wasted(t, 64);
        Wasted(t, 64);
        Assert.Equal(4, t.Depth);
        foreach (int depth in new[] { 8, 16, 16 })
        {
            Used(t, 64);
            Assert.Equal(depth, t.Depth);
        }
        Assert.Equal(2, stats.PrefetchDepthRaises);
        Assert.Equal(1, stats.PrefetchStops);
    }

    [Fact]
    public void AFailedTrialStopsForTwiceAsLong()
    {
        var stats = new CacheStats();
        var t = new PrefetchThrottle(2, stats);
        Wasted(t, 64);
        Wasted(t, 64);
        Assert.Equal(0, t.Depth);
        long[] waits = [2048, 4096, 8192, 16384, 32768, 65536, 65536];
        foreach (long wait in waits)
        {
            stats.Misses += wait - 1;
            Assert.Equal(0, t.DepthForStream());
            stats.Misses++;
            Assert.Equal(2, t.DepthForStream());
            // Twice 24 saved against 40 wasted and 20 caused misses (24 against 30): cut, then stopped.
            for (int epoch = 0; epoch < 2; epoch++)
            {
                for (int i = 0; i < 20; i++) t.Polluted();
                Wasted(t, 40);
                Used(t, 24);
            }
            Assert.Equal(0, t.Depth);
        }
        Assert.Equal(waits.Length, stats.PrefetchTrials);
        Assert.Equal(waits.Length + 1, stats.PrefetchStops);

        // A trial that pays resets the wait: the next stop lasts 2048 misses again.
        stats.Misses += 65536;
        Assert.Equal(2, t.DepthForStream());
        Used(t, 64);
        Assert.Equal(2, t.Depth);
        Wasted(t, 64);
        Wasted(t, 64);
        Assert.Equal(0, t.Depth);
        stats.Misses += 2048;
        Assert.Equal(2, t.DepthForStream());
    }

    [Fact]
    public void MissesThePrefetcherCausedCountAgainstItsUsedLines()
    {
        var stats = new CacheStats();
        var t = new PrefetchThrottle(16, stats);
        // 40 used and 24 wasted would be worth it on their own (40 against 6); with 33 misses caused besides, 40
        // against 39 is still kept, not deeper...
        for (int i = 0; i < 33; i++) t.Polluted();
        Wasted(t, 24);
        Used(t, 40);
        Assert.Equal(16, t.Depth);
        // ...and with 35, 40 against 41 is a cut.
        for (int i = 0; i < 35; i++) t.Polluted();
        Wasted(t, 24);
        Used(t, 40);
        Assert.Equal(8, t.Depth);
        Assert.Equal(68, stats.PrefetchPolluted);
    }

    [Fact]
    public void LateLinesCountForThePartOfAMissTheySavedAndMakeTheDepthGrow()
    {
        var stats = new CacheStats();
        var t = new PrefetchThrottle(16, stats);
        // Cut to 8 first.
        Wasted(t, 64);
        Assert.Equal(8, t.Depth);
        // 40 lines that saved 0.7 of a miss each (28) against 24 wasted and 16 caused misses (22): kept, not deeper.
        for (int i = 0; i < 16; i++) t.Polluted();
        Wasted(t, 24);
        Used(t, 40, 0.7);
        Assert.Equal(8, t.Depth);
        // The same at 0.5 (20 against 22): cut.
        for (int i = 0; i < 16; i++) t.Polluted();
        Wasted(t, 24);
        Used(t, 40, 0.5);
        Assert.Equal(4, t.Depth);
        // A line that waited a whole miss still counts for half (its request was out): 60 late and 4 wasted is 30
        // saved against 1 lost, and mostly late lines make the depth grow.
        Wasted(t, 4);
        Used(t, 60, 0);
        Assert.Equal(8, t.Depth);
        Assert.Equal(140, stats.PrefetchLate);
        // A line that saved 0.9 of a miss or more was on time.
        Used(t, 10, 0.95);
        Assert.Equal(140, stats.PrefetchLate);
    }

    [Fact]
    public void WastedLinesAloneCostOnlyTheirFills()
    {
        var stats = new CacheStats();
        var t = new PrefetchThrottle(8, stats);
        // 31 used against 33 wasted and nothing else lost: 31 saved against 8.25, kept.
        Wasted(t, 33);
        Used(t, 31);
        Assert.Equal(8, t.Depth);
        // 6 used against 58 wasted: 6 against 14.5, cut.
        Wasted(t, 58);
        Used(t, 6);
        Assert.Equal(4, t.Depth);
    }
}
