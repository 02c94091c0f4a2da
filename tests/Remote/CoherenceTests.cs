using LegoEmu.Mem;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// Two coherent ExCaches, each driven by its own host thread the way a processor component drives
/// its cache, over one memory-node process: the node's directory must keep them single-writer.
/// </summary>
public sealed class CoherenceTests : IDisposable
{
    const ulong Base = 0x10000000;
    readonly MemoryNodeProcess _node = new();
    readonly List<IDisposable> _owned = new();

    /// <summary>One processor component's memory side: its cluster connection, cache, view and safe-point flag.</summary>
    sealed class Component
    {
        public required MemoryCluster Cluster;
        public required ExCache Cache;
        public required CacheView View;
        public volatile bool Pending;

        /// <summary>What the interpreter does at a block boundary.</summary>
        public void SafePoint()
        {
            if (!Pending) return;
            Pending = false;
            Cluster.DrainCoherence();
        }
    }

    Component Make(int asid, MemoryCluster? home, CacheConfig config)
    {
        Endpoint.TryParse(_node.Endpoint, out var ep, out _);
        var cluster = home ?? new MemoryCluster([ep!]);
        if (home == null)
        {
            var (h, owners, brk, key) = _homeCluster!.Describe(asid);
            cluster.Attach(asid, h, owners, brk, key);
        }
        var cache = new ExCache(config, cluster);
        var c = new Component { Cluster = cluster, Cache = cache, View = new CacheView(cache, asid) };
        cluster.EnableCoherence((ulong)Random.Shared.NextInt64(1, long.MaxValue), cache, () => c.Pending = true);
        cache.EnableCoherence();
        _owned.Add(cluster);
        _owned.Add(cache);
        return c;
    }

    MemoryCluster? _homeCluster;

    (Component A, Component B) Pair(CacheConfig config)
    {
        Endpoint.TryParse(_node.Endpoint, out var ep, out _);
        _homeCluster = new MemoryCluster([ep!]);
        int asid = _homeCluster.CreateAddressSpace();
        Assert.True(asid > 0);
        Assert.Equal((long)Base, _homeCluster.Map(asid, Base, 1 << 20, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "shared"));
        var a = Make(asid, _homeCluster, config);
        var b = Make(asid, null, config);
        return (a, b);
    }

    /// <summary>
    /// Runs each component's work on its own thread. A component that has finished keeps answering
    /// invalidations at safe points, as an idle processor component does, until the check (run on
    /// A's thread once both are done) has finished too.
    /// </summary>
    void RunBoth(Component a, Component b, Action workA, Action workB, Action check)
    {
        Exception? failure = null;
        int done = 0;
        volatile_bool finished = new();
        void Body(Component me, Action work, bool checks)
        {
            try
            {
                work();
                Interlocked.Increment(ref done);
                while (Volatile.Read(ref done) < 2) me.SafePoint();
                if (checks) check();
            }
            catch (Exception e) { failure ??= e; }
            finally
            {
                if (checks) finished.Value = true;
                while (!finished.Value) me.SafePoint();
            }
        }
        var ta = new Thread(() => Body(a, workA, true));
        var tb = new Thread(() => Body(b, workB, false));
        ta.Start();
        tb.Start();
        bool joined = ta.Join(TimeSpan.FromSeconds(60));
        finished.Value = true;
        joined &= tb.Join(TimeSpan.FromSeconds(10));
        if (failure != null) throw new Xunit.Sdk.XunitException($"component thread failed: {failure}");
        Assert.True(joined, "a component thread hung");
    }

    sealed class volatile_bool
    {
        volatile bool _v;
        public bool Value { get => _v; set => _v = value; }
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(64)]
    public void LockedIncrementsFromTwoComponentsAreNeverLost(int line)
    {
        var (a, b) = Pair(new CacheConfig(64 * line, 4, line, ReplacementPolicy.Fifo));
        const int N = 20000;
        var start = new Barrier(2);
        void Work(Component c)
        {
            start.SignalAndWait();
            for (int k = 0; k < N; k++)
            {
                if ((k & 63) == 0) Thread.Yield();
                c.SafePoint();
                c.View.ClaimForWrite(Base + 8, 8);
                ulong v = c.View.Read64(Base + 8);
                c.View.Write64(Base + 8, v + 1);
            }
        }
        RunBoth(a, b, () => Work(a), () => Work(b), () => Assert.Equal(2UL * N, a.View.Read64(Base + 8)));
        // Both caches really shared the line: each took it from the other many times.
        Assert.True(a.Cache.Stats.Invalidations + b.Cache.Stats.Invalidations >= 1,
            $"invalidations {a.Cache.Stats.Invalidations} + {b.Cache.Stats.Invalidations}");
    }

    [Fact]
    public void StoresToOneLineFromTwoComponentsAreAllKept()
    {
        // Stores of one component are never lost: each writes its own word of the same line (false sharing).
        var (a, b) = Pair(new CacheConfig(1 << 16, 4, 4096, ReplacementPolicy.Fifo));
        const int N = 2000;
        void Work(Component c, ulong addr)
        {
            for (int k = 0; k < N; k++)
            {
                c.SafePoint();
                c.View.Write64(addr, c.View.Read64(addr) + 1);
            }
        }
        RunBoth(a, b, () => Work(a, Base), () => Work(b, Base + 64), () =>
        {
            Assert.Equal((ulong)N, a.View.Read64(Base));
            Assert.Equal((ulong)N, a.View.Read64(Base + 64));
        });
    }

    [Fact]
    public void AFlagWrittenAfterDataIsNeverSeenBeforeTheData()
    {
        var (a, b) = Pair(new CacheConfig(1 << 16, 4, 64, ReplacementPolicy.Fifo));
        const int Rounds = 300;
        ulong data = Base + 4096, flag = Base + 8192;
        int bad = 0;
        RunBoth(a, b, () =>
        {
            for (ulong r = 1; r <= Rounds; r++)
            {
                a.View.Write64(data, r * 7);
                a.View.Write64(flag, r);
                // Wait for the reader to take the round before writing the next one.
                while (true)
                {
                    a.SafePoint();
                    if (a.View.Read64(flag + 8) == r) break;
                }
            }
        }, () =>
        {
            for (ulong r = 1; r <= Rounds; r++)
            {
                while (true)
                {
                    b.SafePoint();
                    if (b.View.Read64(flag) == r) break;
                }
                if (b.View.Read64(data) != r * 7) bad++;
                b.View.Write64(flag + 8, r);
            }
        }, () => { });
        Assert.Equal(0, bad);
        Assert.True(a.Cache.Stats.Downgrades + b.Cache.Stats.Downgrades > 0);
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _homeCluster?.Dispose();
        _node.Dispose();
    }
}
