using LegoEmu.Mem;
using LegoEmu.Mem.Cache;
using Xunit;

namespace LegoEmu.Tests.Mem;

/// <summary>
/// LEGOEMU_EXCACHE_POISON's mode: every line filled into a slot gets fresh storage and the old one is retired, so a host
/// pointer kept past the eviction of its line fails at once instead of reading or writing whatever line the slot holds
/// next. The guest sees the same bytes and counters as without it.
/// </summary>
public sealed unsafe class SlotRelocationTests
{
    const ulong Value = 0x0123_4567_89ab_cdef;

    /// <summary>One set of two ways: the third line evicts the first (FIFO). Returns the first line's host address while cached.</summary>
    static (ulong First, nint StaleHost) EvictFirst(CacheRig rig)
    {
        ulong a = rig.MapAnon(4);
        rig.View.Write64(a + 8, Value);
        int slot = rig.Cache.Lookup(rig.Space.Asid, a);
        Assert.True(slot >= 0);
        var host = (nint)rig.Cache.SlotData(slot);
        Assert.Equal(Value, *(ulong*)(host + 8));
        for (ulong k = 1; k <= 2; k++) rig.View.Write64(a + k * (ulong)rig.Line, k);
        Assert.True(rig.Cache.Lookup(rig.Space.Asid, a) < 0, "the first line should have been evicted");
        return (a, host);
    }

    [Fact]
    public void PageLinesLeaveTheirOldStorageInaccessible()
    {
        using var rig = new CacheRig(2 * 4096, 2, 4096, relocateSlots: true);
        var (a, stale) = EvictFirst(rig);
        // A read through the stale pointer would end the process with SIGSEGV: the kernel, copying from it, says EFAULT.
        string path = Path.GetTempFileName();
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
            long r = HostCode.Syscall(1 /* write */, file.SafeFileHandle.DangerousGetHandle(), stale, 8, 0, 0, 0);
            Assert.Equal(-14 /* EFAULT */, r);
        }
        finally
        {
            File.Delete(path);
        }
        // The line comes back with its bytes, written back at its eviction.
        Assert.Equal(Value, rig.View.Read64(a + 8));
        Assert.Equal(1UL, rig.View.Read64(a + (ulong)rig.Line));
    }

    [Fact]
    public void SmallLinesLeavePoisonBehind()
    {
        using var rig = new CacheRig(2 * 64, 2, 64, relocateSlots: true);
        var (a, stale) = EvictFirst(rig);
        Assert.Equal(SlotRelocation.Poison, *(ulong*)(stale + 8));
        Assert.Equal(Value, rig.View.Read64(a + 8));
    }

    [Fact]
    public void BytesAndCountersAreThoseOfACacheWithout()
    {
        using var plain = new CacheRig(4 * 64, 2, 64);
        using var moving = new CacheRig(4 * 64, 2, 64, relocateSlots: true);
        var sums = new List<ulong>();
        foreach (var rig in new[] { plain, moving })
        {
            ulong a = rig.MapAnon(1), sum = 0;
            for (int pass = 0; pass < 3; pass++)
                for (ulong k = 0; k + 8 <= 4096; k += 24) rig.View.Write64(a + k, rig.View.Read64(a + k) + k + (ulong)pass);
            for (ulong k = 0; k + 8 <= 4096; k += 8) sum = sum * 31 + rig.View.Read64(a + k);
            sums.Add(sum);
        }
        Assert.Equal(sums[0], sums[1]);
        Assert.Equal((plain.Stats.Misses, plain.Stats.Evictions, plain.Stats.WriteBacks),
            (moving.Stats.Misses, moving.Stats.Evictions, moving.Stats.WriteBacks));
        Assert.True(moving.Stats.Evictions > 100, $"{moving.Stats.Evictions} evictions");
    }
}
