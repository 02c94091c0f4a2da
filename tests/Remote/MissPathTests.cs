using LegoEmu.Mem;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;
using LegoEmu.Mem.Space;
using LegoEmu.Mem.Trace;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// The remote miss path over a memory-node process: queued write-backs never lose data (evicted dirty lines read
/// back what was written, from this cache, from the queue and from another connection), and prefetching counts
/// exactly what it issued, what the guest used and what it wasted.
/// </summary>
public sealed class MissPathTests : IDisposable
{
    const ulong Base = 0x10000000;
    const int Line = 4096;
    readonly MemoryNodeProcess _node = new();
    readonly List<IDisposable> _owned = new();

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _node.Dispose();
    }

    MemoryCluster Cluster()
    {
        Endpoint.TryParse(_node.Endpoint, out var ep, out _);
        var cluster = new MemoryCluster([ep!]);
        _owned.Add(cluster);
        return cluster;
    }

    (GuestAddressSpace Space, CacheView View) Make(MemoryCluster cluster, CacheConfig config)
    {
        var cache = new ExCache(config, cluster);
        _owned.Add(cache);
        var space = new GuestAddressSpace(cluster, cache);
        return (space, new CacheView(cache, space.Asid));
    }

    static ulong Pattern(ulong addr, int pass) => addr * 0x9E3779B97F4A7C15UL + (ulong)pass;

    [Theory]
    [InlineData(PrefetchMode.Off)]
    [InlineData(PrefetchMode.Next)]
    [InlineData(PrefetchMode.Stride)]
    public void LinesEvictedDirtyReadBackWhatWasWritten(PrefetchMode prefetch)
    {
        // 16 lines of cache, 256 lines of data written twice in a scattered order: every line leaves dirty, many times.
        var (space, view) = Make(Cluster(), new CacheConfig(16 * Line, 4, Line, ReplacementPolicy.Fifo) { Prefetch = prefetch, PrefetchDepth = 4 });
        const int lines = 256;
        Assert.Equal((long)Base, space.Map(Base, lines * Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed));
        var order = Enumerable.Range(0, lines * 8).Select(i => (ulong)((i * 37) % (lines * 8))).ToArray();
        for (int pass = 0; pass < 2; pass++)
            foreach (ulong word in order)
            {
                ulong a = Base + word * 512;
                view.Write64(a, Pattern(a, pass));
            }
        for (int i = 0; i < lines * 8; i++)
        {
            ulong a = Base + (ulong)i * 512;
            Assert.Equal(Pattern(a, 1), view.Read64(a));
        }
        var s = space.Cache.Stats;
        Assert.True(s.QueuedWriteBacks > lines, $"queued write-backs {s.QueuedWriteBacks}");
        Assert.Equal(s.WriteBacks, s.QueuedWriteBacks);
        Assert.Equal(0, s.PiggybackedWriteBacks);
    }

    [Fact]
    public void ALineRefilledWhileItsWriteBackIsInFlightIsServedFromTheQueue()
    {
        // One set of one way: B's fill evicts A dirty, and A's write-back travels behind B's fill, unacknowledged.
        var (space, view) = Make(Cluster(), new CacheConfig(Line, 1, Line, ReplacementPolicy.Fifo) { Prefetch = PrefetchMode.Off });
        Assert.Equal((long)Base, space.Map(Base, 4 * Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed));
        // Written back once, so neither line is fresh memory any more (fresh lines are zero-filled locally).
        view.Write64(Base, 1);
        view.Write64(Base + Line, 2);
        space.Cache.WriteBackAll();
        var s = space.Cache.Stats;
        long fillsBefore = s.RemoteFills;
        view.Write64(Base, 0xA);                 // miss: A comes from the node, B (dirty) is queued
        view.Write64(Base + Line, 0xB);          // miss: A (dirty) is queued behind B's fill
        Assert.Equal(0xAUL, view.Read64(Base));  // A again: its write-back is still in flight, so the queue serves it
        Assert.Equal(1, s.QueueFills);
        Assert.Equal(fillsBefore + 2, s.RemoteFills);
        Assert.Equal(0xBUL, view.Read64(Base + Line));
        Assert.Equal(0xAUL, view.Read64(Base));
    }

    [Fact]
    public void QueuedWriteBacksReachTheNodeForAnotherComponent()
    {
        var cluster = Cluster();
        var (space, view) = Make(cluster, new CacheConfig(8 * Line, 2, Line, ReplacementPolicy.Fifo));
        const int lines = 64;
        Assert.Equal((long)Base, space.Map(Base, lines * Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed));
        for (int i = 0; i < lines; i++) view.Write64(Base + (ulong)i * Line + 8, Pattern((ulong)i, 7));
        // What a fork does before the node copies the space: everything dirty goes back, and the queue drains.
        space.Cache.WriteBackAll();
        Assert.True(space.Cache.Stats.QueuedWriteBacks >= lines);

        // Another processor component's connection reads the node's copy directly.
        var other = Cluster();
        var (home, owners, brk, key) = cluster.Describe(space.Asid);
        other.Attach(space.Asid, home, owners, brk, key);
        var line = new byte[Line];
        for (int i = 0; i < lines; i++)
        {
            Assert.Equal(FillStatus.Data, other.Fill(space.Asid, Base + (ulong)i * Line, line, out _));
            Assert.Equal(Pattern((ulong)i, 7), BitConverter.ToUInt64(line, 8));
        }
    }

    [Fact]
    public void CombinedWriteBacksStillTravelWithTheirFill()
    {
        var (space, view) = Make(Cluster(), new CacheConfig(4 * Line, 4, Line, ReplacementPolicy.Fifo) { QueueWriteBacks = false, Prefetch = PrefetchMode.Off });
        const int lines = 32;
        Assert.Equal((long)Base, space.Map(Base, lines * Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed));
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < lines; i++) view.Write64(Base + (ulong)i * Line, Pattern((ulong)i, pass));
        for (int i = 0; i < lines; i++) Assert.Equal(Pattern((ulong)i, 1), view.Read64(Base + (ulong)i * Line));
        Assert.Equal(0, space.Cache.Stats.QueuedWriteBacks);
        Assert.True(space.Cache.Stats.PiggybackedWriteBacks >= lines);
    }

    /// <summary>Lines with data at the node that the cache does not take for fresh memory (so they are fetched, not zero-filled).</summary>
    static void Populate(GuestAddressSpace space, int lines)
    {
        Assert.Equal((long)Base, space.Map(Base, (ulong)lines * Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed));
        var bytes = new byte[lines * Line];
        for (int i = 0; i < lines; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * Line), Pattern((ulong)i, 3));
        space.Poke(Base, bytes);
        space.Cache.PLocal(space.Asid).Remove(Base, Base + (ulong)lines * Line);
    }

    [Fact]
    public void ASequentialScanIsPrefetchedAndCountedExactly()
    {
        var (space, view) = Make(Cluster(), new CacheConfig(1 << 20, 8, Line, ReplacementPolicy.Fifo) { Prefetch = PrefetchMode.Stride, PrefetchDepth = 4 });
        Populate(space, 128);
        for (int i = 0; i < 64; i++) Assert.Equal(Pattern((ulong)i, 3), view.Read64(Base + (ulong)i * Line));
        var s = space.Cache.Stats;
        // Lines 0 and 1 start the stream, line 2 confirms its stride and fetches 3-6; from then on every second use
        // of a prefetched line finds two of the four lines ahead missing and fetches them (7-8 at line 4, 9-10 at
        // line 6, ...), up to 65-66 at line 62.
        Assert.Equal(3, s.Misses);
        Assert.Equal(64, s.PrefetchIssued);
        Assert.Equal(61, s.PrefetchUsed);
        Assert.Equal(0, s.PrefetchWasted);
        // munmap drops the three lines fetched beyond the scan: wasted.
        space.Unmap(Base, 128 * Line);
        Assert.Equal(3, s.PrefetchWasted);
    }

    [Fact]
    public void AStridedScanIsPrefetchedAlongItsStride()
    {
        var (space, view) = Make(Cluster(), new CacheConfig(1 << 20, 8, Line, ReplacementPolicy.Fifo) { Prefetch = PrefetchMode.Stride, PrefetchDepth = 2 });
        Populate(space, 128);
        for (int i = 0; i < 120; i += 3) Assert.Equal(Pattern((ulong)i, 3), view.Read64(Base + (ulong)i * Line));
        var s = space.Cache.Stats;
        // 40 lines read: 3 misses, then each of the other 37 was prefetched; two more lie beyond the scan.
        Assert.Equal(3, s.Misses);
        Assert.Equal(37, s.PrefetchUsed);
        Assert.Equal(39, s.PrefetchIssued);
    }

    /// <summary>
    /// A stream read between passes over a hot table that fills the cache: lines fetched ahead of the stream push
    /// table lines out and are pushed out themselves before the stream reaches them. Returns the cache's counters.
    /// </summary>
    CacheStats StreamOverAHotTable(PrefetchMode prefetch, out ExCache cache, int ways = 4)
    {
        var (space, view) = Make(Cluster(), new CacheConfig(16 * Line, ways, Line, ReplacementPolicy.Lru) { Prefetch = prefetch, PrefetchDepth = 8 });
        Populate(space, HotTableLines);
        for (int i = 0; i < 400; i++)
        {
            Assert.Equal(Pattern((ulong)i, 3), view.Read64(Base + (ulong)i * Line));
            ReadHotTable(view);
        }
        cache = space.Cache;
        return space.Cache.Stats;
    }

    /// <summary>12 lines, three in each set of a 16-line 4-way cache, 97 lines apart: farther than any stride prefetch follows.</summary>
    const int HotTableLines = 600 + 97 * 12;

    static void ReadHotTable(CacheView view)
    {
        for (int pass = 0; pass < 2; pass++)
            for (int h = 0; h < 12; h++)
            {
                ulong line = 600 + 97 * (ulong)h;
                Assert.Equal(Pattern(line, 3), view.Read64(Base + line * Line));
            }
    }

    /// <param name="ways">4: three table lines in each of 4 sets. 16: one fully associative set, where up to 8 lines
    /// fetched ahead wait unused at once, more than a few remembered victims would cover.</param>
    [Theory]
    [InlineData(4)]
    [InlineData(16)]
    public void TheMissesPrefetchIsBlamedForAreTheMissesItAdded(int ways)
    {
        var off = StreamOverAHotTable(PrefetchMode.Off, out _, ways);
        var on = StreamOverAHotTable(PrefetchMode.Stride, out _, ways);
        // Without prefetch: the stream's 400 lines and the table's 12 once. With it, the stream's lines come ahead, and
        // push table lines out: each miss it saved is a used line, each it added a miss on a line a prefetch pushed out.
        Assert.Equal(412, off.Misses);
        Assert.True(on.PrefetchUsed > 100 && on.PrefetchPolluted > 100, $"used {on.PrefetchUsed}, caused {on.PrefetchPolluted}");
        long added = on.Misses - off.Misses, blamed = on.PrefetchPolluted - on.PrefetchUsed;
        Assert.True(Math.Abs(added - blamed) <= 8, $"{on.Misses} misses against {off.Misses} without prefetch; used {on.PrefetchUsed}, caused {on.PrefetchPolluted}");
        // Saved and caused about as many: the throttle keeps the depth low.
        Assert.True(on.PrefetchDepthCuts >= 2, $"cuts {on.PrefetchDepthCuts}");
    }

    [Fact]
    public void PrefetchThatIsNeverUsedStopsAndATrialLaterFollowsAScanThatPays()
    {
        var (space, view) = Make(Cluster(), new CacheConfig(16 * Line, 4, Line, ReplacementPolicy.Lru) { Prefetch = PrefetchMode.Stride, PrefetchDepth = 8 });
        const int places = 20, spacing = 65;
        Populate(space, places * spacing);
        var s = space.Cache.Stats;
        // Three lines in a row (a stream to follow), then a jump farther than any stride: every line fetched ahead is
        // wasted. The places repeat, long after the 16-line cache forgot them.
        for (int g = 0; g < 200 && space.Cache.PrefetchDepthNow > 0; g++)
            for (int i = 0; i < 3; i++)
            {
                ulong line = (ulong)(g % places * spacing + i);
                Assert.Equal(Pattern(line, 3), view.Read64(Base + line * Line));
            }
        Assert.Equal(0, space.Cache.PrefetchDepthNow);
        Assert.Equal(1, s.PrefetchStops);
        Assert.Equal(3, s.PrefetchDepthCuts);
        Assert.Equal(0, s.PrefetchUsed);
        long issued = s.PrefetchIssued;

        // Misses with no stream in them until the stop has lasted 2048 misses: nothing is fetched ahead meanwhile.
        const ulong Far = 0x40000000;
        Assert.Equal((long)Far, space.Map(Far, 2200UL * spacing * Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed));
        for (ulong k = 0; k < 2100; k++) Assert.Equal(0UL, view.Read64(Far + k * spacing * Line));
        Assert.Equal(0, s.PrefetchTrials);
        Assert.Equal(issued, s.PrefetchIssued);

        // A plain scan: the trial at the full depth pays, and the depth stays.
        for (int i = 0; i < 400; i++) Assert.Equal(Pattern((ulong)i, 3), view.Read64(Base + (ulong)i * Line));
        Assert.Equal(1, s.PrefetchTrials);
        Assert.Equal(1, s.PrefetchStops);
        Assert.Equal(8, space.Cache.PrefetchDepthNow);
        Assert.True(s.PrefetchUsed >= 350, $"used {s.PrefetchUsed} during the scan");
    }

    [Fact]
    public void PrefetchStopsAtTheEndOfTheMappingAndCountsTheLineNobodyHeld()
    {
        var (space, view) = Make(Cluster(), new CacheConfig(1 << 20, 8, Line, ReplacementPolicy.Fifo) { Prefetch = PrefetchMode.Next, PrefetchDepth = 2 });
        Populate(space, 8);
        for (int i = 0; i < 8; i++) Assert.Equal(Pattern((ulong)i, 3), view.Read64(Base + (ulong)i * Line));
        var s = space.Cache.Stats;
        // The miss of line 0 fetches 1 and 2; each use fetches the next; lines 8 and 9 lie past the mapping, and
        // count as wasted when their slots go (here: munmap).
        Assert.Equal(1, s.Misses);
        Assert.Equal(7, s.PrefetchUsed);
        Assert.Equal(9, s.PrefetchIssued);
        space.Unmap(Base, 16 * Line);
        Assert.Equal(2, s.PrefetchWasted);
    }

    [Fact]
    public void AMappingReplacedWhilePrefetchesAreInFlightReadsFresh()
    {
        var (space, view) = Make(Cluster(), new CacheConfig(1 << 20, 8, Line, ReplacementPolicy.Fifo) { Prefetch = PrefetchMode.Next, PrefetchDepth = 8 });
        Populate(space, 32);
        view.Read64(Base);
        Assert.Equal(8, space.Cache.Stats.PrefetchIssued);
        // A fixed mapping over the prefetched range: the new memory must read as zeros, not as the old lines.
        Assert.Equal((long)Base, space.Map(Base, 32 * Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed));
        for (int i = 0; i < 32; i++) Assert.Equal(0UL, view.Read64(Base + (ulong)i * Line));
    }

    [Theory]
    [InlineData(ReplacementPolicy.Fifo)]
    [InlineData(ReplacementPolicy.Lru)]
    [InlineData(ReplacementPolicy.Clock)]
    public void ATracedPrefetchingCacheIsReplayedExactly(ReplacementPolicy policy)
    {
        string path = Path.Combine(Path.GetTempPath(), $"legoemu-misspath-{Environment.ProcessId}-{Guid.NewGuid():N}.trace");
        try
        {
            var config = new CacheConfig(16 * Line, 4, Line, policy) { Prefetch = PrefetchMode.Stride, PrefetchDepth = 4 };
            var (space, view) = Make(Cluster(), config);
            const int lines = 96;
            Populate(space, lines);
            var tracer = new MemoryTracer(path, new TraceHeader { Program = "misspath", Level = "accesses", CacheSize = config.Size, CacheWays = config.Ways, LineSize = Line, Policy = policy.ToString().ToLowerInvariant() },
                TraceLevel.Accesses, 1.0);
            space.Cache.Tracer = tracer;
            view.Attributing = true;
            // A scan, a strided pass that runs past the mapping's end, writes that leave lines dirty, and scattered reads.
            for (int i = 0; i < lines; i++) view.Read64(Base + (ulong)i * Line);
            for (int i = 0; i < lines; i += 5) view.Write64(Base + (ulong)i * Line + 8, (ulong)i);
            for (int i = 1; i < lines; i += 3) view.Read64(Base + (ulong)i * Line);
            var rng = new Random(5);
            for (int k = 0; k < 300; k++) view.Read64(Base + (ulong)rng.Next(lines) * Line);
            var s = space.Cache.Stats;
            Assert.True(s.PrefetchUsed > lines / 2, $"prefetch used {s.PrefetchUsed}");
            long misses = s.Misses, issued = s.PrefetchIssued;
            space.Cache.Tracer = null;
            tracer.Dispose();

            var sim = new LegoEmu.Cluster.Trace.SetAssociativeSimulator(config.Size, config.Ways, Line, policy.ToString().ToLowerInvariant());
            long prefetches = 0;
            using (var r = new TraceReader(path))
            {
                while (r.Next(out var e))
                {
                    if (e.Kind is TraceRecordKind.Read or TraceRecordKind.Write or TraceRecordKind.Fetch) sim.Access(e.Line);
                    else if (e.Kind == TraceRecordKind.Drop) sim.Drop(e.Line);
                    else if (e.Kind == TraceRecordKind.PrefetchFill)
                    {
                        sim.Prefetch(e.Line);
                        prefetches++;
                    }
                }
            }
            Assert.Equal(issued, prefetches);
            Assert.Equal(misses, sim.Misses);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ATracedCacheWithRandomReplacementDoesNotPrefetch()
    {
        string path = Path.Combine(Path.GetTempPath(), $"legoemu-misspath-{Environment.ProcessId}-{Guid.NewGuid():N}.trace");
        try
        {
            var (space, view) = Make(Cluster(), new CacheConfig(1 << 20, 8, Line, ReplacementPolicy.Random) { Prefetch = PrefetchMode.Stride });
            using var tracer = new MemoryTracer(path, new TraceHeader { Program = "misspath" }, TraceLevel.Misses, 1.0);
            space.Cache.Tracer = tracer;
            Populate(space, 64);
            for (int i = 0; i < 64; i++) view.Read64(Base + (ulong)i * Line);
            Assert.Equal(64, space.Cache.Stats.Misses);
            Assert.Equal(0, space.Cache.Stats.PrefetchIssued);
            space.Cache.Tracer = null;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
