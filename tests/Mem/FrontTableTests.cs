using LegoEmu.Mem;
using LegoEmu.Mem.Cache;
using Xunit;

namespace LegoEmu.Tests.Mem;

/// <summary>
/// The per-thread front table's geometry and invalidation, seen through the cache's look-up counter: a front-table hit
/// never reaches the cache, every miss of the table is one look-up.
/// </summary>
public class FrontTableTests
{
    const ulong Page = CacheRig.Page;
    const ulong Base = 0x1000_0000;

    /// <summary>Maps one image page at each of <paramref name="addresses"/>, its bytes all <paramref name="fill"/> plus its index.</summary>
    static void MapPages(CacheRig rig, ulong[] addresses, byte fill)
    {
        for (int k = 0; k < addresses.Length; k++)
        {
            var bytes = new byte[Page];
            Array.Fill(bytes, (byte)(fill + k));
            rig.MapImage(addresses[k], bytes, Protection.ReadWrite);
        }
    }

    [Fact]
    public void LinesThirtyTwoMebibytesApartStayInTheTableTogether()
    {
        // Eight lines that a table of 8 192 entries (32 MiB of 4 KiB lines) put in one entry, used in turn: after each
        // line's first look-up, every use is a hit in the table.
        using var rig = new CacheRig(1 << 20, 16, 4096);
        var lines = new ulong[8];
        for (int k = 0; k < lines.Length; k++) lines[k] = Base + (ulong)k * (32UL << 20);
        MapPages(rig, lines, 1);
        for (int k = 0; k < lines.Length; k++) Assert.Equal((byte)(1 + k), rig.View.Read8(lines[k] + 5));
        long lookups = rig.Stats.Lookups;
        for (int round = 0; round < 100; round++)
            for (int k = 0; k < lines.Length; k++) Assert.Equal((byte)(1 + k), rig.View.Read8(lines[k] + (ulong)round));
        Assert.Equal(lookups, rig.Stats.Lookups);
    }

    [Fact]
    public void InvalidatingTheWholeTableReachesEveryPageOfItThatWasFilled()
    {
        // One line per page of the table (128 entries each) and a few sharing pages: after the cache drops every view's
        // entries (a write-back of everything), each line is looked up again exactly once. The cache holds them all
        // in one set (64 ways).
        using var rig = new CacheRig(1 << 20, 64, 4096);
        var lines = new ulong[48];
        for (int k = 0; k < 40; k++) lines[k] = Base + (ulong)k * 128 * Page;
        for (int k = 40; k < lines.Length; k++) lines[k] = Base + (ulong)(k - 39) * Page;
        MapPages(rig, lines, 3);
        foreach (var a in lines) rig.View.Write8(a + 1, 9);
        long lookups = rig.Stats.Lookups;
        foreach (var a in lines) Assert.Equal(9, rig.View.Read8(a + 1));
        Assert.Equal(lookups, rig.Stats.Lookups);

        rig.Cache.WriteBackAll();
        lookups = rig.Stats.Lookups;
        foreach (var a in lines) Assert.Equal(9, rig.View.Read8(a + 1));
        Assert.Equal(lookups + lines.Length, rig.Stats.Lookups);
        foreach (var a in lines) Assert.Equal(9, rig.View.Read8(a + 1));
        Assert.Equal(lookups + lines.Length, rig.Stats.Lookups);
    }

    [Fact]
    public void ATableGivenBackCarriesNothingIntoTheNextView()
    {
        // Views of caches that are gone give their tables back for the next ones: the same addresses over other memory
        // must read that memory's bytes, whichever table a view gets.
        var lines = new ulong[6];
        for (int k = 0; k < lines.Length; k++) lines[k] = Base + (ulong)k * (64UL << 20);
        for (int round = 0; round < 4; round++)
        {
            using var rig = new CacheRig(1 << 20, 16, 4096);
            byte fill = (byte)(10 * round + 1);
            MapPages(rig, lines, fill);
            for (int k = 0; k < lines.Length; k++) Assert.Equal((byte)(fill + k), rig.View.Read8(lines[k] + 7));
        }
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(8UL)]
    [InlineData(ulong.MaxValue - 1)]
    [InlineData(ulong.MaxValue - 7)]
    public void AccessesAtPageZeroAndTheTopOfTheAddressSpaceFaultInAFreshView(ulong address)
    {
        // A fresh table is zeroed, and a zero tag names line 0: its entry, and the last one (which an access wrapping
        // past the top of the address space probes), must not match.
        using var rig = new CacheRig(1 << 20, 16, 4096);
        var fault = Assert.Throws<MemoryFault>(() => rig.View.Read64(address));
        Assert.Equal(AccessKind.Read, fault.Access);
    }
}
