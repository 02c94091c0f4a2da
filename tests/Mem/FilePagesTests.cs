using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using Xunit;

namespace LegoEmu.Tests.Mem;

/// <summary>Pages of the process's file page cache placed in private mappings: shared until written, never written in place.</summary>
public sealed class FilePagesTests
{
    const ulong Page = 4096;

    [Fact]
    public void WritingOneMappingCopiesThePageAndLeavesTheCacheAndOtherMappingsAlone()
    {
        var version = new FileVersion(1, (ulong)Random.Shared.NextInt64(), 2 * (long)Page + 10, 5, 6);
        int reads = 0;
        long Read(long page, byte[] into)
        {
            reads++;
            int n = page < 2 ? (int)Page : 10;
            Array.Fill(into, (byte)('a' + page), 0, n);
            return n;
        }
        var pages = FilePages.Get(version, 0, 4, Read)!;
        Assert.Equal(3, pages.Count); // the file ends in its third page
        Assert.Same(pages[1], FilePages.Get(version, 1, 1, Read)![0]);
        Assert.Equal(3, reads);

        var home = new InProcessMemoryComponent();
        int one = home.CreateAddressSpace(), two = home.CreateAddressSpace();
        const ulong At = 0x10000;
        foreach (int asid in new[] { one, two })
        {
            Assert.Equal((long)At, home.Map(asid, At, 3 * Page, Protection.ReadWrite, MapFlags.Private | MapFlags.Fixed, "file"));
            home.PokePages(asid, At, pages);
        }
        int forked = home.ForkAddressSpace(one);
        home.WriteBack(one, At + Page, Enumerable.Repeat((byte)'w', (int)Page).ToArray());

        var line = new byte[Page];
        Assert.Equal(FillStatus.Data, home.Fill(one, At + Page, line, out _));
        Assert.All(line, b => Assert.Equal((byte)'w', b));
        foreach (int asid in new[] { two, forked })
        {
            Assert.Equal(FillStatus.Data, home.Fill(asid, At + Page, line, out _));
            Assert.All(line, b => Assert.Equal((byte)'b', b));
        }
        Assert.All(pages[1], b => Assert.Equal((byte)'b', b));
        Assert.Equal(FillStatus.Data, home.Fill(two, At + 2 * Page, line, out _));
        Assert.Equal((byte)'c', line[9]);
        Assert.Equal(0, line[10]);
        // Only the written copy is the component's own memory.
        Assert.Equal(1, home.Stats.Frames);
        home.DestroyAddressSpace(one);
        home.DestroyAddressSpace(two);
        home.DestroyAddressSpace(forked);
        Assert.Equal(0, home.Stats.Frames);
    }
}
