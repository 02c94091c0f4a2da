using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using Xunit;

namespace LegoEmu.Tests.Mem;

/// <summary>
/// The Linux mmap/munmap/mprotect rules as the memory component applies them to one address space.
/// Expected values follow the kernel: top-down placement below mmap_base, MAP_FIXED replacing
/// whatever it overlaps, splitting at the edges of a partial munmap/mprotect.
/// </summary>
public sealed class VmaSetTests
{
    const ulong P = 4096;
    const MapFlags Anon = MapFlags.Private | MapFlags.Anonymous;
    const MapFlags AnonFixed = Anon | MapFlags.Fixed;
    const ulong Base = VmaSet.DefaultMmapBase;

    readonly InProcessMemoryComponent _home = new();
    readonly int _asid;

    public VmaSetTests() => _asid = _home.CreateAddressSpace();

    long Map(ulong addr, ulong len, Protection prot = Protection.ReadWrite, MapFlags flags = Anon, string name = "")
        => _home.Map(_asid, addr, len, prot, flags, name);

    (ulong Start, ulong End, Protection Prot, string Name)[] Layout()
        => _home.Snapshot(_asid).Select(v => (v.Start, v.End, v.Prot, v.Name)).ToArray();

    static (ulong, ulong, Protection, string)[] L(params (ulong, ulong, Protection, string)[] vmas) => vmas;

    FillStatus Fill(ulong addr, out Protection prot, out byte first)
    {
        var buf = new byte[64];
        var st = _home.Fill(_asid, addr, buf, out prot);
        first = buf[0];
        return st;
    }

    // ---------------------------------------------------------------- placement

    /// <summary>
    /// The search start remembered between mmaps never changes where a mapping goes: after a random mix of
    /// maps and unmaps of many sizes, every placement is the highest gap that fits, as a full walk finds it.
    /// </summary>
    [Fact]
    public void RememberedSearchStartKeepsHighestFit()
    {
        var set = new VmaSet();
        var rng = new Random(42);
        var live = new List<(ulong Start, ulong End)>();
        for (int step = 0; step < 3000; step++)
        {
            if (live.Count > 0 && rng.Next(3) == 0)
            {
                var (s, e) = live[rng.Next(live.Count)];
                // Unmap all of it or a page-aligned piece from its middle.
                ulong from = s + (ulong)rng.Next((int)((e - s) / P)) * P;
                ulong to = Math.Min(e, from + (ulong)(1 + rng.Next(4)) * P);
                set.Remove(from, to);
                live.Clear();
                live.AddRange(set.Items.Select(v => (v.Start, v.End)));
                continue;
            }
            ulong len = (ulong)(1 + rng.Next(rng.Next(2) == 0 ? 4 : 64)) * P;
            ulong expected = HighestFit(set, len);
            ulong got = set.FindFree(len, 0);
            Assert.Equal(expected, got);
            set.Insert(new Vma(got, got + len, Protection.ReadWrite, Anon, ""));
            live.Add((got, got + len));
        }
    }

    /// <summary>The placement rule written out plainly: the top of the highest gap below mmap_base that holds <paramref name="len"/>.</summary>
    static ulong HighestFit(VmaSet set, ulong len)
    {
        ulong top = set.MmapBase;
        foreach (var v in set.Items.Reverse())
        {
            if (v.Start >= top) continue;
            if (top > v.End && top - v.End >= len) return top - len;
            top = Math.Min(top, v.Start);
        }
        return top - VmaSet.MinAddress >= len ? top - len : 0;
    }

    [Fact]
    public void Mmap_PlacesMappingsTopDownBelowMmapBase()
    {
        long r1 = Map(0, 3 * P);
        long r2 = Map(0, P);
        long r3 = Map(0, 5000); // rounded up to two pages

        Assert.Equal((long)(Base - 3 * P), r1);
        Assert.Equal(r1 - (long)P, r2);
        Assert.Equal(r2 - 2 * (long)P, r3);
        Assert.Equal(
            L(((ulong)r3, (ulong)r2, Protection.ReadWrite, ""), ((ulong)r2, (ulong)r1, Protection.ReadWrite, ""), ((ulong)r1, Base, Protection.ReadWrite, "")),
            Layout());
    }

    [Fact]
    public void Mmap_FillsTheHighestGapThatFits()
    {
        long r1 = Map(0, P);
        long r2 = Map(0, P);
        long r3 = Map(0, P);
        Assert.Equal(0, _home.Unmap(_asid, (ulong)r2, P));

        // Two pages do not fit the one-page hole, so they go below everything.
        Assert.Equal(r3 - 2 * (long)P, Map(0, 2 * P));
        Assert.Equal(r2, Map(0, P));
        Assert.Equal((long)(Base - P), r1);
    }

    [Fact]
    public void Mmap_HonoursAFreeHint_AndFallsBackWhenTheHintIsTakenOrTooLow()
    {
        Assert.Equal(0x10000000L, Map(0x10000000, 2 * P));
        Assert.Equal(0x20001000L, Map(0x20000123, P)); // hints are rounded up to a page

        long taken = Map(0x10001000, P);
        Assert.Equal((long)(Base - P), taken);
        long low = Map(0x1000, P); // below vm.mmap_min_addr
        Assert.Equal((long)(Base - 2 * P), low);
    }

    [Fact]
    public void Mmap_PlacesBelowAMappingThatStraddlesMmapBase()
    {
        Assert.Equal((long)(Base - P), Map(Base - P, 3 * P, flags: AnonFixed));
        Assert.Equal((long)(Base - 3 * P), Map(0, 2 * P));
    }

    [Fact]
    public void FindFree_ReturnsZeroWhenNoGapIsLargeEnough()
    {
        var set = new VmaSet { MmapBase = VmaSet.MinAddress + 2 * P };
        Assert.Equal(VmaSet.MinAddress, set.FindFree(2 * P, 0));
        Assert.Equal(0UL, set.FindFree(3 * P, 0));
        set.Insert(new Vma(VmaSet.MinAddress + P, VmaSet.MinAddress + 2 * P, Protection.Read, Anon, ""));
        Assert.Equal(VmaSet.MinAddress, set.FindFree(P, 0));
        Assert.Equal(0UL, set.FindFree(2 * P, 0));
    }

    [Fact]
    public void Mmap_WhenNothingFits_ReturnsEnomem()
    {
        Assert.Equal(-Errno.ENOMEM, Map(0, Base)); // larger than everything below mmap_base
    }

    // ---------------------------------------------------------------- MAP_FIXED

    [Fact]
    public void MapFixed_ReplacesTheOverlappedPart_SplittingTheOldMapping_AndDroppingItsData()
    {
        Assert.Equal(0x200000L, Map(0x200000, 4 * P, flags: AnonFixed, name: "a"));
        _home.Poke(_asid, 0x200000, Enumerable.Repeat((byte)0xAB, 4 * (int)P).ToArray());
        Assert.Equal(4, _home.Stats.Frames);

        Assert.Equal(0x201000L, Map(0x201000, P, Protection.Read, AnonFixed, "b"));
        Assert.Equal(
            L((0x200000UL, 0x201000UL, Protection.ReadWrite, "a"), (0x201000UL, 0x202000UL, Protection.Read, "b"), (0x202000UL, 0x204000UL, Protection.ReadWrite, "a")),
            Layout());
        Assert.Equal(3, _home.Stats.Frames);

        Assert.Equal(FillStatus.Zero, Fill(0x201000, out var prot, out byte b1));
        Assert.Equal((Protection.Read, (byte)0), (prot, b1));
        Assert.Equal(FillStatus.Data, Fill(0x200fc0, out prot, out byte b0));
        Assert.Equal((Protection.ReadWrite, (byte)0xAB), (prot, b0));
        Assert.Equal(FillStatus.Data, Fill(0x202000, out _, out byte b2));
        Assert.Equal(0xAB, b2);
    }

    [Fact]
    public void MapFixed_OverSeveralMappingsAndGaps_LeavesOnlyItself()
    {
        Map(0x300000, P, flags: AnonFixed, name: "x");
        Map(0x302000, P, flags: AnonFixed, name: "y");
        Map(0x304000, 2 * P, flags: AnonFixed, name: "z");

        Assert.Equal(0x300000L, Map(0x300000, 5 * P, Protection.Read, AnonFixed, "w"));
        Assert.Equal(
            L((0x300000UL, 0x305000UL, Protection.Read, "w"), (0x305000UL, 0x306000UL, Protection.ReadWrite, "z")),
            Layout());
    }

    [Fact]
    public void MapFixedNoReplace_OverAnExistingMapping_ReturnsEexist_AndChangesNothing()
    {
        Map(0x200000, 2 * P, flags: AnonFixed, name: "a");
        _home.Poke(_asid, 0x201000, [0x42]);
        var before = Layout();

        Assert.Equal(-Errno.EEXIST, Map(0x201000, 2 * P, Protection.Read, Anon | MapFlags.FixedNoReplace, "b"));
        Assert.Equal(-Errno.EEXIST, Map(0x1ff000, 2 * P, Protection.Read, Anon | MapFlags.FixedNoReplace, "b"));
        Assert.Equal(before, Layout());
        Assert.Equal(FillStatus.Data, Fill(0x201000, out _, out byte b));
        Assert.Equal(0x42, b);

        Assert.Equal(0x202000L, Map(0x202000, P, Protection.Read, Anon | MapFlags.FixedNoReplace, "c"));
        Assert.Equal(2, Layout().Length);
    }

    [Theory]
    [InlineData(0x200000UL, 0UL, MapFlags.None, -Errno.EINVAL)]                        // zero length
    [InlineData(0x200123UL, 4096UL, MapFlags.Fixed, -Errno.EINVAL)]                   // unaligned fixed address
    [InlineData(0x200123UL, 4096UL, MapFlags.FixedNoReplace, -Errno.EINVAL)]
    [InlineData(VmaSet.TaskSize - 4096, 8192UL, MapFlags.Fixed, -Errno.ENOMEM)]       // past the top of user space
    [InlineData(0UL, ulong.MaxValue - 100, MapFlags.None, -Errno.ENOMEM)]             // length overflows when rounded
    public void Mmap_RejectsBadArguments(ulong addr, ulong len, MapFlags extra, long expected)
    {
        Assert.Equal(expected, Map(addr, len, flags: Anon | extra));
        Assert.Empty(Layout());
    }

    // ---------------------------------------------------------------- munmap

    [Fact]
    public void Munmap_InTheMiddle_SplitsTheMapping_AndDropsOnlyThoseFrames()
    {
        Map(0x300000, 4 * P, flags: AnonFixed, name: "m");
        _home.Poke(_asid, 0x300000, Enumerable.Repeat((byte)7, 4 * (int)P).ToArray());

        Assert.Equal(0L, _home.Unmap(_asid, 0x301000, 2 * P));
        Assert.Equal(
            L((0x300000UL, 0x301000UL, Protection.ReadWrite, "m"), (0x303000UL, 0x304000UL, Protection.ReadWrite, "m")),
            Layout());
        Assert.Equal(2, _home.Stats.Frames);
        Assert.Equal(FillStatus.Unmapped, Fill(0x301000, out _, out _));
        Assert.Equal(FillStatus.Unmapped, Fill(0x302fc0, out _, out _));
        Assert.Equal(FillStatus.Data, Fill(0x303000, out _, out byte b));
        Assert.Equal(7, b);
    }

    [Fact]
    public void Munmap_AcrossSeveralMappingsAndGaps_TrimsTheEdges()
    {
        Map(0x400000, 2 * P, flags: AnonFixed, name: "a");
        Map(0x403000, P, flags: AnonFixed, name: "b");
        Map(0x405000, 2 * P, flags: AnonFixed, name: "c");

        Assert.Equal(0L, _home.Unmap(_asid, 0x401000, 5 * P));
        Assert.Equal(
            L((0x400000UL, 0x401000UL, Protection.ReadWrite, "a"), (0x406000UL, 0x407000UL, Protection.ReadWrite, "c")),
            Layout());
    }

    [Fact]
    public void Munmap_RoundsTheLengthUp_AndAcceptsUnmappedRanges()
    {
        Map(0x400000, 2 * P, flags: AnonFixed);
        Assert.Equal(0L, _home.Unmap(_asid, 0x400000, 1));
        Assert.Equal(L((0x401000UL, 0x402000UL, Protection.ReadWrite, "")), Layout());
        Assert.Equal(0L, _home.Unmap(_asid, 0x900000, 3 * P));
        Assert.Single(Layout());
    }

    [Theory]
    [InlineData(0x400123UL, 4096UL)]          // unaligned address
    [InlineData(0x400000UL, 0UL)]             // zero length
    [InlineData(VmaSet.TaskSize, 4096UL)]     // past the top of user space
    public void Munmap_RejectsBadArgumentsWithEinval(ulong addr, ulong len)
    {
        Map(0x400000, P, flags: AnonFixed);
        Assert.Equal(-Errno.EINVAL, _home.Unmap(_asid, addr, len));
        Assert.Single(Layout());
    }

    // ---------------------------------------------------------------- mprotect

    [Fact]
    public void Mprotect_OfTheMiddlePage_SplitsIntoThree_AndRestoringCoalesces()
    {
        Map(0x500000, 4 * P, flags: AnonFixed, name: "m");

        Assert.Equal(0L, _home.Protect(_asid, 0x501000, P, Protection.Read));
        Assert.Equal(
            L((0x500000UL, 0x501000UL, Protection.ReadWrite, "m"), (0x501000UL, 0x502000UL, Protection.Read, "m"), (0x502000UL, 0x504000UL, Protection.ReadWrite, "m")),
            Layout());
        Assert.Equal(FillStatus.Zero, Fill(0x501000, out var prot, out _));
        Assert.Equal(Protection.Read, prot);
        Fill(0x502000, out prot, out _);
        Assert.Equal(Protection.ReadWrite, prot);

        Assert.Equal(0L, _home.Protect(_asid, 0x501000, P, Protection.ReadWrite));
        Assert.Equal(L((0x500000UL, 0x504000UL, Protection.ReadWrite, "m")), Layout());
    }

    [Fact]
    public void Mprotect_OfTheTail_SplitsIntoTwo_AndTheWholeRangeCoalescesBack()
    {
        Map(0x500000, 4 * P, flags: AnonFixed, name: "m");
        Assert.Equal(0L, _home.Protect(_asid, 0x502000, 2 * P, Protection.ReadExec));
        Assert.Equal(
            L((0x500000UL, 0x502000UL, Protection.ReadWrite, "m"), (0x502000UL, 0x504000UL, Protection.ReadExec, "m")),
            Layout());
        Assert.Equal(0L, _home.Protect(_asid, 0x500000, 4 * P, Protection.Read));
        Assert.Equal(L((0x500000UL, 0x504000UL, Protection.Read, "m")), Layout());
    }

    [Fact]
    public void Mprotect_AcrossTwoMappings_SplitsBoth_AndKeepsThemDistinct()
    {
        Map(0x600000, 2 * P, flags: AnonFixed, name: "a");
        Map(0x602000, 2 * P, flags: AnonFixed, name: "b");

        Assert.Equal(0L, _home.Protect(_asid, 0x601000, 2 * P, Protection.ReadExec));
        Assert.Equal(
            L(
                (0x600000UL, 0x601000UL, Protection.ReadWrite, "a"), (0x601000UL, 0x602000UL, Protection.ReadExec, "a"),
                (0x602000UL, 0x603000UL, Protection.ReadExec, "b"), (0x603000UL, 0x604000UL, Protection.ReadWrite, "b")
            ),
            Layout());
    }

    [Fact]
    public void Mprotect_RoundsTheLengthUp()
    {
        Map(0x600000, 2 * P, flags: AnonFixed);
        Assert.Equal(0L, _home.Protect(_asid, 0x600000, 1, Protection.None));
        Assert.Equal(
            L((0x600000UL, 0x601000UL, Protection.None, ""), (0x601000UL, 0x602000UL, Protection.ReadWrite, "")),
            Layout());
    }

    [Fact]
    public void Mprotect_Errors_LeaveEverythingUnchanged()
    {
        Map(0x700000, P, flags: AnonFixed, name: "a");
        Map(0x702000, P, flags: AnonFixed, name: "b");
        var before = Layout();

        Assert.Equal(-Errno.EINVAL, _home.Protect(_asid, 0x700123, P, Protection.Read));
        Assert.Equal(-Errno.ENOMEM, _home.Protect(_asid, 0x700000, 3 * P, Protection.Read)); // hole in the middle
        Assert.Equal(-Errno.ENOMEM, _home.Protect(_asid, 0x702000, 2 * P, Protection.Read)); // runs past the end
        Assert.Equal(-Errno.ENOMEM, _home.Protect(_asid, 0x900000, P, Protection.Read));     // nothing there
        Assert.Equal(before, Layout());
        Assert.Equal(0L, _home.Protect(_asid, 0x900000, 0, Protection.Read));                // zero length is a no-op
    }

    [Fact]
    public void Snapshot_IsNotChangedByLaterOperations()
    {
        Map(0x800000, 2 * P, flags: AnonFixed, name: "s");
        var snap = _home.Snapshot(_asid);

        _home.Protect(_asid, 0x800000, 2 * P, Protection.Read);
        _home.Unmap(_asid, 0x801000, P);
        var v = Assert.Single(snap);
        Assert.Equal((0x800000UL, 0x802000UL, Protection.ReadWrite), (v.Start, v.End, v.Prot));
    }
}
