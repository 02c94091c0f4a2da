using System.Buffers.Binary;
using LegoEmu.Mem;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Space;
using Xunit;

namespace LegoEmu.Tests.Mem;

/// <summary>
/// One address space over its own memory component, cached by an ExCache of the given geometry,
/// seen through one CacheView: the smallest complete stack a guest thread runs on.
/// </summary>
internal sealed class CacheRig : IDisposable
{
    public const ulong Page = 4096;
    public const MapFlags Anon = MapFlags.Private | MapFlags.Anonymous;

    public CacheRig(long size, int ways, int lineSize, ReplacementPolicy policy = ReplacementPolicy.Fifo, bool relocateSlots = false)
    {
        Home = new InProcessMemoryComponent();
        Cache = new ExCache(new CacheConfig(size, ways, lineSize, policy), Home, relocateSlots);
        Space = new GuestAddressSpace(Home, Cache);
        View = new CacheView(Cache, Space.Asid);
    }

    public InProcessMemoryComponent Home { get; }
    public ExCache Cache { get; }
    public GuestAddressSpace Space { get; }
    public CacheView View { get; }
    public CacheStats Stats => Cache.Stats;
    public int Line => Cache.LineSize;

    /// <summary>Fresh private anonymous memory placed by the kernel rules (p-local until written back).</summary>
    public ulong MapAnon(ulong pages, Protection prot = Protection.ReadWrite)
    {
        long r = Space.Map(0, pages * Page, prot, Anon);
        Assert.True(r > 0, $"mmap failed: {r}");
        return (ulong)r;
    }

    /// <summary>Memory whose bytes live at the memory component from the start, like a loaded image.</summary>
    public ulong MapImage(ulong addr, byte[] contents, Protection prot)
    {
        long r = Space.MapForImage(addr, (ulong)contents.Length, prot, "image");
        Assert.Equal((long)addr, r);
        Space.Poke(addr, contents);
        return addr;
    }

    /// <summary>What the memory component holds for one line, bypassing the cache.</summary>
    public byte[] HomeLine(ulong lineAddr, out FillStatus status, int asid = -1)
    {
        var buf = new byte[Line];
        status = Home.Fill(asid < 0 ? Space.Asid : asid, lineAddr, buf, out _);
        return buf;
    }

    public void Dispose() => Cache.Dispose();
}

/// <summary>A textbook per-set FIFO cache: the expected counters for a given access sequence.</summary>
internal sealed class FifoModel
{
    readonly List<(ulong Line, bool Dirty)>[] _sets;
    readonly int _ways;
    readonly int _lineSize;

    public FifoModel(int sets, int ways, int lineSize)
    {
        _sets = Enumerable.Range(0, sets).Select(_ => new List<(ulong, bool)>()).ToArray();
        _ways = ways;
        _lineSize = lineSize;
    }

    public long Misses, Evictions, WriteBacks;

    public void Touch(ulong addr, bool write)
    {
        ulong line = addr & ~(ulong)(_lineSize - 1);
        var set = _sets[(int)((line / (ulong)_lineSize) % (ulong)_sets.Length)];
        int i = set.FindIndex(e => e.Line == line);
        if (i < 0)
        {
            Misses++;
            if (set.Count == _ways)
            {
                Evictions++;
                if (set[0].Dirty) WriteBacks++;
                set.RemoveAt(0);
            }
            set.Add((line, false));
            i = set.Count - 1;
        }
        if (write) set[i] = (line, true);
    }
}

/// <summary>
/// CLOCK as the ExCache documents it, walked step by step: per set a hand that, at each line, takes it when its count
/// has run out and else takes one from the count and moves on; a fill gives one pass, an access to a line whose count
/// ran out gives <see cref="ExCache.ClockChances"/>. It sees every access, as a reference bit set by hardware would:
/// the ExCache, whose front-table hits tell it nothing, must come to the same misses.
/// </summary>
internal sealed class ClockModel
{
    const ulong Empty = ulong.MaxValue;
    readonly ulong[] _line;
    readonly int[] _count;
    readonly bool[] _dirty;
    readonly int[] _hand;
    readonly int _sets, _ways, _lineSize;

    public ClockModel(int sets, int ways, int lineSize)
    {
        _sets = sets;
        _ways = ways;
        _lineSize = lineSize;
        _line = Enumerable.Repeat(Empty, sets * ways).ToArray();
        _count = new int[sets * ways];
        _dirty = new bool[sets * ways];
        _hand = new int[sets];
    }

    public long Misses, Evictions, WriteBacks;

    public void Touch(ulong addr, bool write)
    {
        ulong line = addr & ~(ulong)(_lineSize - 1);
        int set = (int)((line / (ulong)_lineSize) % (ulong)_sets), first = set * _ways;
        int i = Array.IndexOf(_line, line, first, _ways);
        if (i >= 0)
        {
            if (_count[i] == 0) _count[i] = ExCache.ClockChances;
        }
        else
        {
            Misses++;
            // An empty way first, the lowest (as the cache fills a set), and the hand stays.
            i = Array.IndexOf(_line, Empty, first, _ways);
            while (i < 0)
            {
                int at = first + _hand[set];
                _hand[set] = (_hand[set] + 1) % _ways;
                if (_count[at] == 0) i = at;
                else _count[at]--;
            }
            if (_line[i] != Empty)
            {
                Evictions++;
                if (_dirty[i]) WriteBacks++;
            }
            _line[i] = line;
            _count[i] = 1;
            _dirty[i] = false;
        }
        if (write) _dirty[i] = true;
    }
}

public sealed class ExCacheTests
{
    const ulong Page = CacheRig.Page;
    const MapFlags Anon = CacheRig.Anon;

    // ---------------------------------------------------------------- helpers

    /// <summary>Deterministic bytes that differ per address and per seed (seed 0..255 gives 256 distinct patterns).</summary>
    static byte[] Pattern(ulong addr, int length, int seed)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++)
            b[i] = (byte)((((addr + (ulong)i) * 0x9E3779B97F4A7C15UL) >> 56) ^ (ulong)((seed * 0x5B + 0x11) & 0xff));
        return b;
    }

    static void WriteLine64(CacheView v, ulong addr, byte[] data)
    {
        for (int o = 0; o < data.Length; o += 8) v.Write64(addr + (ulong)o, BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(o)));
    }

    static byte[] ReadLine64(CacheView v, ulong addr, int length)
    {
        var b = new byte[length];
        for (int o = 0; o < length; o += 8) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(o), v.Read64(addr + (ulong)o));
        return b;
    }

    static byte[] ReadBytes(CacheView v, ulong addr, int length)
    {
        var b = new byte[length];
        v.ReadBytes(addr, b);
        return b;
    }

    static MemoryFault Fault(Action access) => Assert.Throws<MemoryFault>(access);

    static void AssertFault(MemoryFault f, ulong address, AccessKind access, FaultReason reason)
    {
        Assert.Equal(address, f.Address);
        Assert.Equal(access, f.Access);
        Assert.Equal(reason, f.Reason);
    }

    static UInt128 ReadN(CacheView v, ulong a, int size) => size switch
    {
        1 => v.Read8(a),
        2 => v.Read16(a),
        4 => v.Read32(a),
        8 => v.Read64(a),
        _ => System.Runtime.CompilerServices.Unsafe.BitCast<System.Runtime.Intrinsics.Vector128<byte>, UInt128>(v.Read128(a)),
    };

    static void WriteN(CacheView v, ulong a, int size, UInt128 value)
    {
        switch (size)
        {
            case 1: v.Write8(a, (byte)value); break;
            case 2: v.Write16(a, (ushort)value); break;
            case 4: v.Write32(a, (uint)value); break;
            case 8: v.Write64(a, (ulong)value); break;
            default: v.Write128(a, System.Runtime.CompilerServices.Unsafe.BitCast<UInt128, System.Runtime.Intrinsics.Vector128<byte>>(value)); break;
        }
    }

    static UInt128 RefRead(byte[] mem, int off, int size)
    {
        var b = new byte[16];
        Array.Copy(mem, off, b, 0, size);
        return BinaryPrimitives.ReadUInt128LittleEndian(b);
    }

    static void RefWrite(byte[] mem, int off, int size, UInt128 value)
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(b, value);
        Array.Copy(b, 0, mem, off, size);
    }

    // ---------------------------------------------------------------- configuration

    [Theory]
    [InlineData(16384, 4, 32)]      // line below the minimum
    [InlineData(1 << 20, 1, 8192)]  // line above the maximum (a page)
    [InlineData(16384, 4, 96)]      // line not a power of two
    [InlineData(16384, 0, 64)]      // no ways
    [InlineData(128, 4, 64)]        // smaller than one set
    [InlineData(3 * 4 * 64, 4, 64)] // three sets: not a power of two
    public void InvalidGeometryIsRejectedAtConstruction(long size, int ways, int line)
    {
        var config = new CacheConfig(size, ways, line, ReplacementPolicy.Fifo);
        Assert.NotNull(config.Validate());
        Assert.Throws<ArgumentException>(() => new ExCache(config, new InProcessMemoryComponent()).Dispose());
    }

    [Theory]
    [InlineData(64, 1, 64, 1)]
    [InlineData(512, 2, 64, 4)]
    [InlineData(16384, 4, 4096, 1)]
    public void SmallGeometriesAreAcceptedWithTheExpectedSetCount(long size, int ways, int line, int sets)
    {
        var config = new CacheConfig(size, ways, line, ReplacementPolicy.Fifo);
        Assert.Null(config.Validate());
        Assert.Equal(sets, config.Sets);
    }

    // ---------------------------------------------------------------- eviction and replacement

    [Fact]
    public void Fifo_OneSetOfFour4KLines_ThrashedDataSurvives_AndCountersFollowGeometry()
    {
        using var rig = new CacheRig(16 * 1024, 4, 4096);
        const int lines = 16;
        ulong b = rig.MapAnon(lines);
        var model = new FifoModel(1, 4, 4096);

        for (int i = 0; i < lines; i++)
        {
            WriteLine64(rig.View, b + (ulong)i * Page, Pattern(b + (ulong)i * Page, 4096, i));
            model.Touch(b + (ulong)i * Page, write: true);
        }
        // 16 compulsory misses; the first four fill empty ways, the other twelve each evict a dirty line.
        Assert.Equal(16, rig.Stats.Misses);
        Assert.Equal(12, rig.Stats.Evictions);
        Assert.Equal(12, rig.Stats.WriteBacks);
        Assert.Equal(16, rig.Stats.PLocalFills);
        Assert.Equal(0, rig.Stats.RemoteFills);
        Assert.Equal((model.Misses, model.Evictions, model.WriteBacks), (rig.Stats.Misses, rig.Stats.Evictions, rig.Stats.WriteBacks));

        for (int i = 0; i < lines; i++)
        {
            Assert.Equal(Pattern(b + (ulong)i * Page, 4096, i), ReadLine64(rig.View, b + (ulong)i * Page, 4096));
            model.Touch(b + (ulong)i * Page, write: false);
        }
        // Reading 0..15 in order: every line misses again (12..15 are pushed out by 0..3 before their turn);
        // only the four still-dirty lines 12..15 cost a write-back, and every fill now comes from the component.
        Assert.Equal(32, rig.Stats.Misses);
        Assert.Equal(28, rig.Stats.Evictions);
        Assert.Equal(16, rig.Stats.WriteBacks);
        Assert.Equal(16, rig.Stats.RemoteFills);
        Assert.Equal(16L * 4096, rig.Stats.BytesWrittenBack);
        Assert.Equal(16, rig.Home.Stats.WriteBacks);
        Assert.Equal((model.Misses, model.Evictions, model.WriteBacks), (rig.Stats.Misses, rig.Stats.Evictions, rig.Stats.WriteBacks));
    }

    [Fact]
    public void Fifo_FourSetsOfTwo64ByteLines_ScrambledReads_CountersMatchFifoModel()
    {
        using var rig = new CacheRig(512, 2, 64);
        const int lines = 256;
        ulong b = rig.MapAnon(4);
        var model = new FifoModel(4, 2, 64);

        for (int i = 0; i < lines; i++)
        {
            ulong a = b + (ulong)i * 64;
            WriteLine64(rig.View, a, Pattern(a, 64, 7));
            model.Touch(a, write: true);
        }
        Assert.Equal(256, rig.Stats.Misses);
        Assert.Equal(248, rig.Stats.Evictions);
        Assert.Equal(248, rig.Stats.WriteBacks);

        // A stride coprime with 256 visits every line once in scrambled order; the tail revisits recent
        // lines so some accesses hit and the sequence is not trivially all-miss.
        var order = Enumerable.Range(0, lines).Select(i => i * 97 % lines).ToList();
        order.AddRange(order.Skip(lines - 6).Reverse());
        order.AddRange(order.Take(3));
        foreach (int i in order)
        {
            ulong a = b + (ulong)i * 64;
            Assert.Equal(Pattern(a, 64, 7), ReadLine64(rig.View, a, 64));
            model.Touch(a, write: false);
        }
        Assert.Equal(model.Misses, rig.Stats.Misses);
        Assert.Equal(model.Evictions, rig.Stats.Evictions);
        Assert.Equal(model.WriteBacks, rig.Stats.WriteBacks);
        Assert.True(rig.Stats.Misses < 256 + order.Count, "the revisits were expected to hit at least once");
    }

    [Theory]
    [InlineData(ReplacementPolicy.Fifo, 64L, 1, 64)]
    [InlineData(ReplacementPolicy.Lru, 512L, 2, 64)]
    [InlineData(ReplacementPolicy.Random, 512L, 2, 64)]
    [InlineData(ReplacementPolicy.Fifo, 16384L, 4, 4096)]
    [InlineData(ReplacementPolicy.Lru, 8192L, 2, 4096)]
    [InlineData(ReplacementPolicy.Random, 16384L, 2, 4096)]
    [InlineData(ReplacementPolicy.Clock, 512L, 2, 64)]
    [InlineData(ReplacementPolicy.Clock, 16384L, 4, 4096)]
    public void RandomMixedAccessesInATinyCache_MatchAReferenceArray(ReplacementPolicy policy, long size, int ways, int line)
    {
        using var rig = new CacheRig(size, ways, line, policy);
        const int pages = 6;
        ulong b = rig.MapAnon(pages);
        var mem = new byte[pages * (int)Page];
        var rnd = new Random(1234);
        for (int step = 0; step < 20000; step++)
        {
            int off = rnd.Next(mem.Length - 16);
            int size1 = 1 << rnd.Next(5);
            if (rnd.Next(3) == 0)
            {
                UInt128 v = new((ulong)rnd.NextInt64(), (ulong)rnd.NextInt64());
                WriteN(rig.View, b + (ulong)off, size1, v);
                RefWrite(mem, off, size1, v);
            }
            else
            {
                Assert.Equal(RefRead(mem, off, size1), ReadN(rig.View, b + (ulong)off, size1));
            }
        }
        Assert.Equal(mem, ReadBytes(rig.View, b, mem.Length));
        Assert.True(rig.Stats.Evictions > 1000, $"expected heavy thrashing, got {rig.Stats.Evictions} evictions");

        // The component must agree once everything dirty has been pushed out.
        rig.Cache.WriteBackAll();
        for (int o = 0; o < mem.Length; o += line)
        {
            var got = rig.HomeLine(b + (ulong)o, out var st);
            Assert.NotEqual(FillStatus.Unmapped, st);
            Assert.Equal(mem.AsSpan(o, line).ToArray(), got);
        }
    }

    [Fact]
    public void Fifo_EvictsTheOldestLine_EvenWhenItWasJustUsed()
    {
        using var rig = new CacheRig(8192, 2, 4096, ReplacementPolicy.Fifo);
        ulong a = rig.MapAnon(3), b = a + Page, c = a + 2 * Page;
        rig.View.Read8(a);
        rig.View.Read8(b);
        rig.View.Read8(a);
        rig.View.Read8(c);

        long m = rig.Stats.Misses;
        rig.View.Read8(a);
        Assert.Equal(m + 1, rig.Stats.Misses);
    }

    [Fact]
    public void Lru_EvictsTheLeastRecentlyUsedLine()
    {
        using var rig = new CacheRig(8192, 2, 4096, ReplacementPolicy.Lru);
        ulong a = rig.MapAnon(3), b = a + Page, c = a + 2 * Page;
        rig.View.Read8(a);
        rig.View.Read8(b);
        rig.View.Read8(a); // a is now more recently used than b
        rig.View.Read8(c); // must evict b

        long m = rig.Stats.Misses;
        rig.View.Read8(a);
        Assert.Equal(m, rig.Stats.Misses);
        rig.View.Read8(b);
        Assert.Equal(m + 1, rig.Stats.Misses);
    }

    [Theory]
    [InlineData(ReplacementPolicy.Lru, false)]
    [InlineData(ReplacementPolicy.Fifo, true)]
    public void ReplacementPolicy_DecidesTheVictim_WhenTheReuseReachesTheCache(ReplacementPolicy policy, bool expectAEvicted)
    {
        using var rig = new CacheRig(8192, 2, 4096, policy);
        ulong a = rig.MapAnon(3), b = a + Page, c = a + 2 * Page;
        rig.View.Read8(a);
        rig.View.Read8(b);
        // Dropping the front table makes the reuse of a go through ExCache.Lookup, the only place LRU learns of it.
        rig.View.InvalidateAll();
        rig.View.Read8(a);
        rig.View.Read8(c);

        long m = rig.Stats.Misses;
        rig.View.Read8(a);
        Assert.Equal(expectAEvicted ? m + 1 : m, rig.Stats.Misses);
        if (!expectAEvicted)
        {
            rig.View.Read8(b);
            Assert.Equal(m + 1, rig.Stats.Misses);
        }
    }

    [Fact]
    public void Clock_KeepsALineUsedAfterItsCountRanOut_ThoughItsHitsNeverReachTheCache()
    {
        using var rig = new CacheRig(8192, 2, 4096, ReplacementPolicy.Clock);
        ulong a = rig.MapAnon(4), b = a + Page, c = a + 2 * Page, d = a + 3 * Page;
        rig.View.Read8(a);
        rig.View.Read8(b);
        // Every count is 1: the hand goes round once, running out b's, and takes a. b leaves the front table.
        rig.View.Read8(c);
        long lookups = rig.Stats.Lookups, hits = rig.Stats.Hits, misses = rig.Stats.Misses;
        rig.View.Read8(b);
        Assert.Equal((lookups + 1, hits + 1, misses), (rig.Stats.Lookups, rig.Stats.Hits, rig.Stats.Misses));
        // Back in the front table: the next use is a front-table hit, which the cache never hears of.
        rig.View.Read8(b + 8);
        Assert.Equal(lookups + 1, rig.Stats.Lookups);
        // The hand stands at b, used since its count ran out: it passes b and takes c, which FIFO would have kept.
        rig.View.Read8(d);
        misses = rig.Stats.Misses;
        rig.View.Read8(b);
        Assert.Equal(misses, rig.Stats.Misses);
        rig.View.Read8(c);
        Assert.Equal(misses + 1, rig.Stats.Misses);
    }

    /// <summary>
    /// A hot set of lines reused between a scan and scattered accesses, through the front table: the cache's counters
    /// are those of <see cref="ClockModel"/>, which sees every access. Were a hit on a line whose count ran out left
    /// unseen (the hand not taking the line out of the front table), the cache would drop hot lines the model keeps.
    /// </summary>
    [Theory]
    [InlineData(16384L, 4, 4096)]
    [InlineData(65536L, 8, 4096)]
    [InlineData(4096L, 16, 64)]
    [InlineData(8192L, 32, 64)]
    public void Clock_MissesAsAClockThatSeesEveryAccess_AndLessThanFifo(long size, int ways, int line)
    {
        using var rig = new CacheRig(size, ways, line, ReplacementPolicy.Clock);
        int cacheLines = (int)(size / line), sets = cacheLines / ways, regionLines = cacheLines * 4;
        ulong pages = ((ulong)regionLines * (ulong)line + Page - 1) / Page;
        ulong b = rig.MapAnon(pages);
        var clock = new ClockModel(sets, ways, line);
        var fifo = new FifoModel(sets, ways, line);
        var rnd = new Random(19);
        var hot = Enumerable.Range(0, cacheLines / 2).Select(_ => rnd.Next(regionLines)).ToArray();
        int scan = 0;
        long accesses = 0;
        for (int step = 0; step < 40000; step++)
        {
            int r = rnd.Next(10);
            int l = r < 6 ? hot[rnd.Next(hot.Length)] : r < 9 ? scan++ % regionLines : rnd.Next(regionLines);
            ulong addr = b + (ulong)l * (ulong)line + (ulong)rnd.Next(line);
            bool write = rnd.Next(4) == 0;
            // A few accesses at a time, as a guest's loads and stores come: all but the first of them front-table hits.
            for (int k = 0; k < 3; k++)
            {
                if (write) rig.View.Write8(addr, (byte)step);
                else rig.View.Read8(addr);
                clock.Touch(addr, write);
                fifo.Touch(addr, write);
                accesses++;
            }
        }
        Assert.Equal((clock.Misses, clock.Evictions, clock.WriteBacks), (rig.Stats.Misses, rig.Stats.Evictions, rig.Stats.WriteBacks));
        Assert.True(clock.Misses < fifo.Misses * 9 / 10, $"CLOCK {clock.Misses} misses, FIFO {fifo.Misses}");
        // The hits the cache heard of are few: most went through the front table alone.
        Assert.True(rig.Stats.Lookups < accesses / 2, $"{rig.Stats.Lookups} look-ups of {accesses} accesses");
    }

    // ---------------------------------------------------------------- write-back

    [Theory]
    [InlineData(4096)]
    [InlineData(64)]
    public void DirtyLine_ReachesTheComponentOnlyWhenEvicted(int line)
    {
        using var rig = new CacheRig(4L * line, 4, line);
        ulong b = rig.MapAnon(5);
        var data = Pattern(b, line, 3);
        WriteLine64(rig.View, b, data);

        var before = rig.HomeLine(b, out var st0);
        Assert.Equal(FillStatus.Zero, st0);
        Assert.Equal(new byte[line], before);
        Assert.Equal(0, rig.Home.Stats.WriteBacks);

        // Four more lines of the single set push the written line out.
        for (int i = 1; i <= 4; i++) rig.View.Read8(b + (ulong)(i * line));
        Assert.Equal(1, rig.Stats.WriteBacks);
        Assert.Equal(1, rig.Home.Stats.WriteBacks);
        Assert.Equal(line, rig.Stats.BytesWrittenBack);

        var after = rig.HomeLine(b, out var st1);
        Assert.Equal(FillStatus.Data, st1);
        Assert.Equal(data, after);
    }

    [Fact]
    public void CleanLines_AreNeverWrittenBack()
    {
        using var rig = new CacheRig(512, 2, 64);
        var image = Pattern(0x600000, 8 * (int)Page, 9);
        ulong img = rig.MapImage(0x600000, image, Protection.ReadWrite);
        ulong anon = rig.MapAnon(4);

        for (int pass = 0; pass < 2; pass++)
        {
            Assert.Equal(image, ReadBytes(rig.View, img, image.Length));
            Assert.Equal(new byte[4 * Page], ReadBytes(rig.View, anon, 4 * (int)Page));
        }
        Assert.True(rig.Stats.Evictions > 500);
        Assert.Equal(0, rig.Stats.WriteBacks);
        Assert.Equal(0, rig.Home.Stats.WriteBacks);
    }

    [Fact]
    public void WriteBackAll_PushesDirtyLines_KeepsThemCached_AndLaterWritesDirtyThemAgain()
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        ulong b = rig.MapAnon(1);
        for (int i = 0; i < 3; i++) WriteLine64(rig.View, b + (ulong)i * 64, Pattern(b + (ulong)i * 64, 64, i));
        rig.View.Read64(b + 10 * 64); // a clean line, which must not be written back

        rig.Cache.WriteBackAll();
        Assert.Equal(3, rig.Stats.WriteBacks);
        Assert.Equal(3, rig.Home.Stats.WriteBacks);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(Pattern(b + (ulong)i * 64, 64, i), rig.HomeLine(b + (ulong)i * 64, out var st));
            Assert.Equal(FillStatus.Data, st);
        }

        long misses = rig.Stats.Misses;
        for (int i = 0; i < 3; i++) Assert.Equal(Pattern(b + (ulong)i * 64, 64, i), ReadLine64(rig.View, b + (ulong)i * 64, 64));
        Assert.Equal(misses, rig.Stats.Misses);

        rig.Cache.WriteBackAll();
        Assert.Equal(3, rig.Stats.WriteBacks);

        // The view held write permission on line 1 before WriteBackAll; the store must re-dirty the line.
        rig.View.Write8(b + 64 + 5, 0xEE);
        rig.Cache.WriteBackAll();
        Assert.Equal(4, rig.Stats.WriteBacks);
        var expected = Pattern(b + 64, 64, 1);
        expected[5] = 0xEE;
        Assert.Equal(expected, rig.HomeLine(b + 64, out _));
    }

    [Fact]
    public void TwoViewsOfOneAddressSpace_SeeEachOthersStores_AcrossEvictions()
    {
        using var rig = new CacheRig(8192, 2, 4096);
        var other = new CacheView(rig.Cache, rig.Space.Asid);
        ulong b = rig.MapAnon(4);
        rig.View.Write64(b + 8, 0x1122334455667788);
        Assert.Equal(0x1122334455667788UL, other.Read64(b + 8));

        // other evicts the line rig.View has in its front table; rig.View must not keep using the stale slot.
        other.Write64(b + Page, 1);
        other.Write64(b + 2 * Page, 2);
        other.Write64(b + 3 * Page, 3);
        Assert.Equal(0x1122334455667788UL, rig.View.Read64(b + 8));
        Assert.Equal(3UL, rig.View.Read64(b + 3 * Page));
        rig.View.Write64(b + 2 * Page, 22);
        Assert.Equal(22UL, other.Read64(b + 2 * Page));
    }

    // ---------------------------------------------------------------- permission faults

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WriteToReadOnlyMapping_FaultsWithProtection_AndLeavesDataUnchanged(bool componentBacked)
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        var contents = componentBacked ? Pattern(0x600000, (int)Page, 1) : new byte[Page];
        ulong a = componentBacked ? rig.MapImage(0x600000, contents, Protection.Read) : rig.MapAnon(1, Protection.Read);

        Assert.Equal(contents[4], rig.View.Read8(a + 4)); // the line is cached and in the front table now
        long faults = rig.Stats.Faults;

        AssertFault(Fault(() => rig.View.Write32(a + 4, 0xdeadbeef)), a + 4, AccessKind.Write, FaultReason.Protection);
        AssertFault(Fault(() => rig.View.Write8(a + 0x801, 1)), a + 0x801, AccessKind.Write, FaultReason.Protection);
        AssertFault(Fault(() => rig.View.WriteBytes(a + 0x10, new byte[3])), a + 0x10, AccessKind.Write, FaultReason.Protection);
        Assert.Equal(faults + 3, rig.Stats.Faults);
        Assert.Equal(contents, ReadBytes(rig.View, a, (int)Page));
        Assert.Equal(0, rig.Stats.WriteBacks);
    }

    [Fact]
    public void FetchFromNonExecutableMemory_FaultsWithProtection()
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        ulong data = rig.MapImage(0x600000, Pattern(0x600000, (int)Page, 2), Protection.ReadWrite);
        ulong anon = rig.MapAnon(1);

        rig.View.Read8(data + 0x40);
        AssertFault(Fault(() => rig.View.Fetch8(data + 0x41)), data + 0x41, AccessKind.Fetch, FaultReason.Protection);
        AssertFault(Fault(() => rig.View.Fetch8(anon + 7)), anon + 7, AccessKind.Fetch, FaultReason.Protection);
    }

    [Fact]
    public void FetchFromExecutableMemory_ReturnsItsBytes_ButStoresFault()
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        var code = Pattern(0x400000, (int)Page, 4);
        ulong text = rig.MapImage(0x400000, code, Protection.ReadExec);

        for (int i = 0; i < 200; i++) Assert.Equal(code[i], rig.View.Fetch8(text + (ulong)i));
        Assert.Equal(code[100], rig.View.Read8(text + 100));
        AssertFault(Fault(() => rig.View.Write8(text + 100, 0)), text + 100, AccessKind.Write, FaultReason.Protection);
    }

    [Fact]
    public void AccessToUnmappedMemory_FaultsWithUnmapped_AtTheExactAddress()
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        rig.MapImage(0x600000, new byte[Page], Protection.All);
        rig.MapImage(0x602000, new byte[Page], Protection.All);
        ulong hole = 0x601000;

        long faults = rig.Stats.Faults;
        AssertFault(Fault(() => rig.View.Read8(hole + 0x123)), hole + 0x123, AccessKind.Read, FaultReason.Unmapped);
        AssertFault(Fault(() => rig.View.Read64(hole + 0x800)), hole + 0x800, AccessKind.Read, FaultReason.Unmapped);
        AssertFault(Fault(() => rig.View.Write16(hole + 0xffe, 1)), hole + 0xffe, AccessKind.Write, FaultReason.Unmapped);
        AssertFault(Fault(() => rig.View.Fetch8(hole)), hole, AccessKind.Fetch, FaultReason.Unmapped);
        AssertFault(Fault(() => rig.View.Read8(0x10)), 0x10, AccessKind.Read, FaultReason.Unmapped);
        Assert.Equal(faults + 5, rig.Stats.Faults);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReadOfProtNoneMemory_FaultsWithProtection(bool componentBacked)
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        ulong a = componentBacked ? rig.MapImage(0x600000, new byte[Page], Protection.None) : rig.MapAnon(1, Protection.None);
        AssertFault(Fault(() => rig.View.Read32(a + 0x20)), a + 0x20, AccessKind.Read, FaultReason.Protection);
        AssertFault(Fault(() => rig.View.Write8(a + 0x21, 0)), a + 0x21, AccessKind.Write, FaultReason.Protection);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Mprotect_RevokingWrite_AppliesToALineAlreadyCachedForWriting(bool writtenBackFirst)
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        ulong a = rig.MapAnon(2);
        rig.View.Write64(a + 8, 0x0102030405060708);
        rig.View.Write64(a + Page, 0x99);
        if (writtenBackFirst) rig.Cache.WriteBackAll();
        rig.View.Write64(a + 16, 0xAABB); // the front table holds write permission for this line now

        Assert.Equal(0, rig.Space.Protect(a, Page, Protection.Read));
        AssertFault(Fault(() => rig.View.Write64(a + 16, 0)), a + 16, AccessKind.Write, FaultReason.Protection);
        AssertFault(Fault(() => rig.View.Write8(a + 8, 0)), a + 8, AccessKind.Write, FaultReason.Protection);
        // Dirty data is not lost by the permission change.
        Assert.Equal(0x0102030405060708UL, rig.View.Read64(a + 8));
        Assert.Equal(0xAABBUL, rig.View.Read64(a + 16));
        // The second page kept its rights.
        rig.View.Write64(a + Page, 0x77);
        Assert.Equal(0x77UL, rig.View.Read64(a + Page));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Mprotect_GrantingWrite_AppliesToALineAlreadyCachedReadOnly(bool componentBacked)
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        var contents = componentBacked ? Pattern(0x600000, (int)Page, 5) : new byte[Page];
        ulong a = componentBacked ? rig.MapImage(0x600000, contents, Protection.Read) : rig.MapAnon(1, Protection.Read);

        Assert.Equal(contents[0x30], rig.View.Read8(a + 0x30));
        Fault(() => rig.View.Write8(a + 0x30, 1));

        Assert.Equal(0, rig.Space.Protect(a, Page, Protection.ReadWrite));
        rig.View.Write8(a + 0x30, 0x5A);
        Assert.Equal(0x5A, rig.View.Read8(a + 0x30));
        Assert.Equal(contents[0x31], rig.View.Read8(a + 0x31));
    }

    [Fact]
    public void Mprotect_ExecBit_AppliesToALineAlreadyCachedForFetching_BothWays()
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        var code = Pattern(0x400000, (int)Page, 6);
        ulong text = rig.MapImage(0x400000, code, Protection.ReadExec);
        Assert.Equal(code[3], rig.View.Fetch8(text + 3));

        Assert.Equal(0, rig.Space.Protect(text, Page, Protection.Read));
        AssertFault(Fault(() => rig.View.Fetch8(text + 3)), text + 3, AccessKind.Fetch, FaultReason.Protection);
        Assert.Equal(code[3], rig.View.Read8(text + 3));

        Assert.Equal(0, rig.Space.Protect(text, Page, Protection.ReadExec));
        Assert.Equal(code[3], rig.View.Fetch8(text + 3));
    }

    [Fact]
    public void Mprotect_ToNone_ThenBack_KeepsTheData()
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        ulong a = rig.MapAnon(1);
        rig.View.Write32(a + 0x100, 0xCAFEBABE);

        Assert.Equal(0, rig.Space.Protect(a, Page, Protection.None));
        AssertFault(Fault(() => rig.View.Read32(a + 0x100)), a + 0x100, AccessKind.Read, FaultReason.Protection);
        // A line never touched is still p-local, and must take the new rights from the p-local tracker.
        AssertFault(Fault(() => rig.View.Read8(a + 0xF00)), a + 0xF00, AccessKind.Read, FaultReason.Protection);

        Assert.Equal(0, rig.Space.Protect(a, Page, Protection.ReadWrite));
        Assert.Equal(0xCAFEBABEu, rig.View.Read32(a + 0x100));
        Assert.Equal(0, rig.View.Read8(a + 0xF00));
    }

    // ---------------------------------------------------------------- accesses crossing a line

    [Theory]
    [InlineData(64L, 1)]       // a single line: both halves of a crossing access fight for it
    [InlineData(512L, 2)]
    [InlineData(1L << 20, 8)]  // nothing is ever evicted
    public void AccessesAroundEveryLineBoundary_MatchAReferenceArray(long size, int ways)
    {
        using var rig = new CacheRig(size, ways, 64);
        const int len = 2 * (int)Page;
        ulong b = rig.MapAnon(2);
        var mem = Pattern(b, len, 8);
        rig.View.WriteBytes(b, mem);
        var rnd = new Random(99);

        foreach (int width in new[] { 2, 4, 8, 16 })
        {
            for (int boundary = 64; boundary < len; boundary += 64)
            {
                // From fully below the boundary, through every straddling offset, to fully above it.
                for (int off = boundary - width; off <= boundary; off++)
                {
                    ulong a = b + (ulong)off;
                    Assert.Equal(RefRead(mem, off, width), ReadN(rig.View, a, width));
                    UInt128 v = new((ulong)rnd.NextInt64(), (ulong)rnd.NextInt64());
                    WriteN(rig.View, a, width, v);
                    RefWrite(mem, off, width, v);
                    Assert.Equal(RefRead(mem, off, width), ReadN(rig.View, a, width));
                    // Neighbours on both sides must be untouched.
                    Assert.Equal(mem[off - 1], rig.View.Read8(a - 1));
                    if (off + width < len) Assert.Equal(mem[off + width], rig.View.Read8(a + (ulong)width));
                }
            }
        }
        Assert.Equal(mem, ReadBytes(rig.View, b, len));
        rig.Cache.WriteBackAll();
        for (int o = 0; o < len; o += 64) Assert.Equal(mem.AsSpan(o, 64).ToArray(), rig.HomeLine(b + (ulong)o, out _));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    public void CrossingWrite_IntoReadOnlySecondLine_FaultsWithoutModifyingTheFirstLine(int width)
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        ulong b = rig.MapAnon(2);
        ulong boundary = b + Page;
        var lastLine = Pattern(boundary - 64, 64, 10);
        var firstLine = Pattern(boundary, 64, 11);
        rig.View.WriteBytes(boundary - 64, lastLine);
        rig.View.WriteBytes(boundary, firstLine);
        Assert.Equal(0, rig.Space.Protect(boundary, Page, Protection.Read));

        for (int k = 1; k < width; k++)
        {
            ulong a = boundary - (ulong)k;
            var f = Fault(() => WriteN(rig.View, a, width, UInt128.MaxValue));
            Assert.Equal(AccessKind.Write, f.Access);
            Assert.Equal(FaultReason.Protection, f.Reason);
            Assert.InRange(f.Address, boundary, a + (ulong)width - 1);
        }
        Assert.Equal(lastLine, ReadBytes(rig.View, boundary - 64, 64));
        Assert.Equal(firstLine, ReadBytes(rig.View, boundary, 64));
        rig.Cache.WriteBackAll();
        Assert.Equal(lastLine, rig.HomeLine(boundary - 64, out _));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    [InlineData(16)]
    public void CrossingWrite_FromReadOnlyFirstLine_FaultsAtTheFirstByte_WithoutModifyingTheSecondLine(int width)
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        ulong b = rig.MapAnon(2);
        ulong boundary = b + Page;
        var firstLine = Pattern(boundary, 64, 12);
        rig.View.WriteBytes(boundary, firstLine);
        Assert.Equal(0, rig.Space.Protect(b, Page, Protection.Read));

        for (int k = 1; k < width; k++)
        {
            ulong a = boundary - (ulong)k;
            AssertFault(Fault(() => WriteN(rig.View, a, width, UInt128.MaxValue)), a, AccessKind.Write, FaultReason.Protection);
        }
        Assert.Equal(firstLine, ReadBytes(rig.View, boundary, 64));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    public void CrossingAccess_IntoUnmappedPage_Faults_AndAWriteLeavesTheFirstLineUntouched(int width)
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        ulong b = rig.MapAnon(2);
        ulong boundary = b + Page;
        Assert.Equal(0, rig.Space.Unmap(boundary, Page));
        var lastLine = Pattern(boundary - 64, 64, 13);
        rig.View.WriteBytes(boundary - 64, lastLine);

        for (int k = 1; k < width; k++)
        {
            ulong a = boundary - (ulong)k;
            // The first inaccessible byte is what si_addr reports for a read split across pages.
            AssertFault(Fault(() => ReadN(rig.View, a, width)), boundary, AccessKind.Read, FaultReason.Unmapped);
            var f = Fault(() => WriteN(rig.View, a, width, UInt128.MaxValue));
            Assert.Equal((AccessKind.Write, FaultReason.Unmapped), (f.Access, f.Reason));
            Assert.InRange(f.Address, boundary, a + (ulong)width - 1);
        }
        Assert.Equal(lastLine, ReadBytes(rig.View, boundary - 64, 64));
    }

    // ---------------------------------------------------------------- p-local lines

    [Fact]
    public void FreshAnonymousMemory_ReadsZero_ServedLocallyWithoutTheComponent()
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        ulong b = rig.MapAnon(4);
        Assert.Equal(new byte[4 * Page], ReadBytes(rig.View, b, 4 * (int)Page));
        Assert.Equal(4 * 64, rig.Stats.PLocalFills);
        Assert.Equal(0, rig.Stats.RemoteFills);
        Assert.Equal(0, rig.Home.Stats.Fills);
        Assert.Equal(0, rig.Stats.BytesFilled);
    }

    [Fact]
    public void WrittenAnonymousLine_AfterEviction_ComesBackFromTheComponentIntact()
    {
        using var rig = new CacheRig(8192, 2, 4096);
        ulong b = rig.MapAnon(3);
        var data = Pattern(b, 4096, 14);
        WriteLine64(rig.View, b, data);
        Assert.Equal(1, rig.Stats.PLocalFills);

        rig.View.Read8(b + Page);
        rig.View.Read8(b + 2 * Page);
        Assert.Equal(1, rig.Stats.WriteBacks);

        long plocal = rig.Stats.PLocalFills, remote = rig.Stats.RemoteFills, homeFills = rig.Home.Stats.Fills;
        Assert.Equal(data, ReadLine64(rig.View, b, 4096));
        Assert.Equal(remote + 1, rig.Stats.RemoteFills);
        Assert.Equal(homeFills + 1, rig.Home.Stats.Fills);
        Assert.Equal(plocal, rig.Stats.PLocalFills);
    }

    [Fact]
    public void CleanEvictedFreshLine_StaysPLocal()
    {
        using var rig = new CacheRig(8192, 2, 4096);
        ulong b = rig.MapAnon(3);
        for (int round = 0; round < 3; round++)
            for (int p = 0; p < 3; p++)
                Assert.Equal(0UL, rig.View.Read64(b + (ulong)p * Page + 64));
        Assert.True(rig.Stats.Evictions >= 6);
        Assert.Equal(rig.Stats.Misses, rig.Stats.PLocalFills);
        Assert.Equal(0, rig.Stats.WriteBacks);
        Assert.Equal(0, rig.Home.Stats.Fills);
    }

    [Fact]
    public void With64ByteLines_OnlyTheWrittenBackLineOfAPageLeavesPLocal()
    {
        using var rig = new CacheRig(512, 2, 64);
        ulong b = rig.MapAnon(1);
        var data = Pattern(b + 3 * 64, 64, 15);
        WriteLine64(rig.View, b + 3 * 64, data);
        // Lines 7 and 11 share set 3 with line 3 in a 4-set cache and push it out.
        rig.View.Read8(b + 7 * 64);
        rig.View.Read8(b + 11 * 64);
        Assert.Equal(1, rig.Stats.WriteBacks);

        long plocal = rig.Stats.PLocalFills, remote = rig.Stats.RemoteFills, misses = rig.Stats.Misses;
        var page = ReadBytes(rig.View, b, (int)Page);
        var expected = new byte[Page];
        data.CopyTo(expected, 3 * 64);
        Assert.Equal(expected, page);
        Assert.Equal(misses + 64, rig.Stats.Misses);
        Assert.Equal(remote + 1, rig.Stats.RemoteFills);
        Assert.Equal(plocal + 63, rig.Stats.PLocalFills);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MapFixedAnonymousOverWrittenMemory_ReadsZeroAgain(bool writtenBack)
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        ulong b = rig.MapAnon(2);
        rig.View.WriteBytes(b, Pattern(b, 2 * (int)Page, 16));
        if (writtenBack) rig.Cache.WriteBackAll();

        Assert.Equal((long)b, rig.Space.Map(b, 2 * Page, Protection.ReadWrite, Anon | MapFlags.Fixed));
        long plocal = rig.Stats.PLocalFills;
        Assert.Equal(new byte[2 * Page], ReadBytes(rig.View, b, 2 * (int)Page));
        Assert.Equal(plocal + 128, rig.Stats.PLocalFills);
    }

    [Fact]
    public void MapForImageOverAnonymousMemory_ShowsThePokedBytesAndNewRights()
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        Assert.Equal(0x600000L, rig.Space.Map(0x600000, Page, Protection.ReadWrite, Anon | MapFlags.Fixed));
        var contents = Pattern(0x600000, (int)Page, 17);
        rig.MapImage(0x600000, contents, Protection.Read);

        Assert.Equal(contents, ReadBytes(rig.View, 0x600000, (int)Page));
        AssertFault(Fault(() => rig.View.Write8(0x600000, 0)), 0x600000, AccessKind.Write, FaultReason.Protection);
    }

    // ---------------------------------------------------------------- munmap and brk

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Munmap_DropsCachedLines_LaterAccessesFault_AndARemapReadsZero(bool writtenBack)
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        ulong b = rig.MapAnon(2);
        rig.View.WriteBytes(b, Pattern(b, 2 * (int)Page, 18));
        if (writtenBack) rig.Cache.WriteBackAll();
        long homeWriteBacks = rig.Home.Stats.WriteBacks;
        Assert.Equal(Pattern(b + 0x80, 1, 18)[0], rig.View.Read8(b + 0x80)); // the line is hot in the front table

        Assert.Equal(0, rig.Space.Unmap(b, 2 * Page));
        AssertFault(Fault(() => rig.View.Read8(b + 0x80)), b + 0x80, AccessKind.Read, FaultReason.Unmapped);
        AssertFault(Fault(() => rig.View.Write64(b + Page + 8, 1)), b + Page + 8, AccessKind.Write, FaultReason.Unmapped);
        Assert.Equal(homeWriteBacks, rig.Home.Stats.WriteBacks);

        Assert.Equal((long)b, rig.Space.Map(b, 2 * Page, Protection.ReadWrite, Anon | MapFlags.Fixed));
        Assert.Equal(new byte[2 * Page], ReadBytes(rig.View, b, 2 * (int)Page));
        rig.Cache.WriteBackAll();
        Assert.Equal(new byte[64], rig.HomeLine(b + 0x80, out _));
    }

    [Fact]
    public void Munmap_OfTheMiddlePage_LeavesTheOuterPagesIntact()
    {
        using var rig = new CacheRig(512, 2, 64);
        ulong b = rig.MapAnon(3);
        var data = Pattern(b, 3 * (int)Page, 19);
        rig.View.WriteBytes(b, data);

        Assert.Equal(0, rig.Space.Unmap(b + Page, Page));
        Assert.Equal(data.AsSpan(0, (int)Page).ToArray(), ReadBytes(rig.View, b, (int)Page));
        Assert.Equal(data.AsSpan(2 * (int)Page, (int)Page).ToArray(), ReadBytes(rig.View, b + 2 * Page, (int)Page));
        AssertFault(Fault(() => rig.View.Read8(b + Page + 0x7ff)), b + Page + 0x7ff, AccessKind.Read, FaultReason.Unmapped);
    }

    [Fact]
    public void Brk_GrowsWithFreshZeroPages_ShrinksDroppingData_AndRegrowsZeroed()
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        rig.MapImage(0x400000, Pattern(0x400000, (int)Page, 20), Protection.ReadWrite);
        rig.Space.SetBrkBase(0x401000);
        Assert.Equal(0x401000UL, rig.Space.Brk(0));

        Assert.Equal(0x403010UL, rig.Space.Brk(0x403010));
        var heap = Assert.Single(rig.Space.Vmas(), v => v.Name == "[heap]");
        Assert.Equal((0x401000UL, 0x404000UL, Protection.ReadWrite), (heap.Start, heap.End, heap.Prot));
        long homeFills = rig.Home.Stats.Fills;
        Assert.Equal(0, rig.View.Read8(0x403fff)); // the break rounds up to a page
        Assert.Equal(homeFills, rig.Home.Stats.Fills);
        AssertFault(Fault(() => rig.View.Read8(0x404000)), 0x404000, AccessKind.Read, FaultReason.Unmapped);

        var data = Pattern(0x401000, 3 * (int)Page, 21);
        rig.View.WriteBytes(0x401000, data);
        rig.Cache.WriteBackAll();

        Assert.Equal(0x402000UL, rig.Space.Brk(0x402000));
        AssertFault(Fault(() => rig.View.Read8(0x402000)), 0x402000, AccessKind.Read, FaultReason.Unmapped);
        Assert.Equal(data.AsSpan(0, (int)Page).ToArray(), ReadBytes(rig.View, 0x401000, (int)Page));

        Assert.Equal(0x404000UL, rig.Space.Brk(0x404000));
        Assert.Equal(new byte[2 * Page], ReadBytes(rig.View, 0x402000, 2 * (int)Page));
        Assert.Equal(data.AsSpan(0, (int)Page).ToArray(), ReadBytes(rig.View, 0x401000, (int)Page));
        heap = Assert.Single(rig.Space.Vmas(), v => v.Name == "[heap]");
        Assert.Equal((0x401000UL, 0x404000UL), (heap.Start, heap.End));
    }

    [Fact]
    public void Brk_BelowTheBaseOrIntoAnotherMapping_LeavesTheBreakUnchanged()
    {
        using var rig = new CacheRig(1 << 20, 8, 64);
        rig.MapImage(0x400000, new byte[Page], Protection.ReadWrite);
        rig.Space.SetBrkBase(0x401000);
        Assert.Equal(0x402000UL, rig.Space.Brk(0x402000));
        rig.MapImage(0x405000, new byte[Page], Protection.Read);

        Assert.Equal(0x402000UL, rig.Space.Brk(0x400800));
        Assert.Equal(0x402000UL, rig.Space.Brk(0x406000));
        AssertFault(Fault(() => rig.View.Read8(0x402000)), 0x402000, AccessKind.Read, FaultReason.Unmapped);
        // The refused shrink below the base must not have dropped the heap either.
        rig.View.Write8(0x401fff, 7);
        Assert.Equal(7, rig.View.Read8(0x401fff));
    }

    // ---------------------------------------------------------------- address spaces sharing one cache

    static (InProcessMemoryComponent Home, ExCache Cache, GuestAddressSpace A, GuestAddressSpace B, CacheView VA, CacheView VB)
        TwoSpaces(long size, int ways, int line)
    {
        var home = new InProcessMemoryComponent();
        var cache = new ExCache(new CacheConfig(size, ways, line, ReplacementPolicy.Fifo), home);
        var a = new GuestAddressSpace(home, cache);
        var b = new GuestAddressSpace(home, cache);
        Assert.NotEqual(a.Asid, b.Asid);
        return (home, cache, a, b, new CacheView(cache, a.Asid), new CacheView(cache, b.Asid));
    }

    [Fact]
    public void TwoAddressSpaces_AnonymousMemoryAtTheSameAddress_StaysSeparateAcrossEvictions()
    {
        var (home, cache, a, b, va, vb) = TwoSpaces(4 * 4096, 2, 4096);
        using var ownedCache = cache;
        long ra = a.Map(0, 4 * Page, Protection.ReadWrite, Anon);
        long rb = b.Map(0, 4 * Page, Protection.ReadWrite, Anon);
        Assert.Equal(ra, rb); // same placement rules: the interesting case
        ulong x = (ulong)ra;

        for (int p = 0; p < 4; p++)
        {
            ulong at = x + (ulong)p * Page;
            WriteLine64(va, at, Pattern(at, 4096, 30));
            WriteLine64(vb, at, Pattern(at, 4096, 31));
        }
        for (int p = 3; p >= 0; p--)
        {
            ulong at = x + (ulong)p * Page;
            Assert.Equal(Pattern(at, 4096, 30), ReadLine64(va, at, 4096));
            Assert.Equal(Pattern(at, 4096, 31), ReadLine64(vb, at, 4096));
        }
        // Four evictions while writing, four more when pages 1 and 0 of both spaces come back.
        Assert.Equal(8, cache.Stats.Evictions);

        cache.WriteBackAll();
        var buf = new byte[4096];
        home.Fill(a.Asid, x, buf, out _);
        Assert.Equal(Pattern(x, 4096, 30), buf);
        home.Fill(b.Asid, x, buf, out _);
        Assert.Equal(Pattern(x, 4096, 31), buf);
    }

    [Fact]
    public void TwoAddressSpaces_ImageMemoryAtTheSameAddress_StaysSeparate()
    {
        var (_, cache, a, b, va, vb) = TwoSpaces(512, 2, 64);
        using var ownedCache = cache;
        const ulong at = 0x500000;
        a.MapForImage(at, Page, Protection.ReadWrite, "a");
        b.MapForImage(at, Page, Protection.ReadWrite, "b");
        a.Poke(at, Pattern(at, (int)Page, 40));
        b.Poke(at, Pattern(at, (int)Page, 41));

        Assert.Equal(Pattern(at, (int)Page, 40), ReadBytes(va, at, (int)Page));
        Assert.Equal(Pattern(at, (int)Page, 41), ReadBytes(vb, at, (int)Page));
        va.Write64(at + 0x100, 0xA);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(Pattern(at + 0x100, 8, 41)), vb.Read64(at + 0x100));
        ReadBytes(vb, at, (int)Page); // pushes a's dirty line out through b's traffic
        Assert.Equal(0xAUL, va.Read64(at + 0x100));
    }

    [Fact]
    public void SwitchAddressSpace_MakesAViewSeeTheOtherSpace()
    {
        var (_, cache, a, b, va, _) = TwoSpaces(1 << 20, 8, 64);
        using var ownedCache = cache;
        const ulong at = 0x500000;
        a.MapForImage(at, Page, Protection.ReadWrite, "a");
        b.MapForImage(at, Page, Protection.ReadWrite, "b");
        a.Poke(at, [1]);
        b.Poke(at, [2]);

        Assert.Equal(1, va.Read8(at));
        va.SwitchAddressSpace(b.Asid);
        Assert.Equal(2, va.Read8(at));
        va.Write8(at, 22);
        va.SwitchAddressSpace(a.Asid);
        Assert.Equal(1, va.Read8(at));
    }

    [Fact]
    public void UnmapInOneAddressSpace_KeepsTheOthersCachedDirtyLines()
    {
        var (_, cache, a, b, va, vb) = TwoSpaces(1 << 20, 8, 64);
        using var ownedCache = cache;
        ulong x = (ulong)a.Map(0, Page, Protection.ReadWrite, Anon);
        Assert.Equal((long)x, b.Map(0, Page, Protection.ReadWrite, Anon));
        va.Write64(x, 0xAAAA);
        vb.Write64(x, 0xBBBB);

        Assert.Equal(0, a.Unmap(x, Page));
        AssertFault(Fault(() => va.Read64(x)), x, AccessKind.Read, FaultReason.Unmapped);
        Assert.Equal(0xBBBBUL, vb.Read64(x));
        cache.WriteBackAll();
        cache.FlushRange(b.Asid, x, x + Page, writeBack: false);
        Assert.Equal(0xBBBBUL, vb.Read64(x));
    }

    [Fact]
    public void TwoAddressSpaces_MappingInOne_DoesNotMakeTheAddressReadableInTheOther()
    {
        var (_, cache, a, _, _, vb) = TwoSpaces(1 << 20, 8, 64);
        using var ownedCache = cache;
        ulong x = (ulong)a.Map(0, Page, Protection.ReadWrite, Anon);

        AssertFault(Fault(() => vb.Read8(x + 5)), x + 5, AccessKind.Read, FaultReason.Unmapped);
        AssertFault(Fault(() => vb.Write8(x + 5, 1)), x + 5, AccessKind.Write, FaultReason.Unmapped);
    }

    [Fact]
    public void TwoAddressSpaces_MmapInOne_DoesNotLoseTheOthersWrittenBackData()
    {
        var (_, cache, a, b, va, _) = TwoSpaces(8192, 2, 4096);
        using var ownedCache = cache;
        ulong x = (ulong)a.Map(0, 4 * Page, Protection.ReadWrite, Anon);
        var data = Pattern(x, 4096, 50);
        WriteLine64(va, x, data);
        va.Write8(x + Page, 1);
        va.Write8(x + 2 * Page, 2); // evicts page 0, which is written back to a's frames
        Assert.Equal(1, cache.Stats.WriteBacks);

        Assert.Equal((long)x, b.Map(0, 4 * Page, Protection.ReadWrite, Anon));
        Assert.Equal(data, ReadLine64(va, x, 4096));
    }
}
