using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace LegoEmu.Tests.Mem;

/// <summary>
/// Private mappings backed by a file (a program's segments): a page is read from the file at its first fill, shared
/// until written, keeps the bytes it had when mapped after the path is replaced, and follows its VMA through splits
/// and forks.
/// </summary>
public sealed class FileBackingTests : IDisposable
{
    const ulong Page = 4096, At = 0x40000;
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-filebacking-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A file of <paramref name="pages"/> pages, page i filled with the byte 'a'+i.</summary>
    (FileBacking Backing, string Path) MakeFile(int pages)
    {
        string path = Path.Combine(_dir, $"f{Guid.NewGuid():N}");
        var bytes = new byte[pages * (int)Page];
        for (int i = 0; i < pages; i++) Array.Fill(bytes, (byte)('a' + i), i * (int)Page, (int)Page);
        File.WriteAllBytes(path, bytes);
        var info = new FileInfo(path);
        // A version of its own per file: the process's page cache is keyed by it.
        var version = new FileVersion(7, (ulong)Random.Shared.NextInt64(), info.Length, info.LastWriteTimeUtc.Ticks, 0);
        SafeFileHandle handle = File.OpenHandle(path);
        return (new FileBacking(handle, version, path), path);
    }

    static byte[] FillPage(InProcessMemoryComponent home, int asid, ulong addr)
    {
        var line = new byte[Page];
        home.Fill(asid, addr, line, out _);
        return line;
    }

    [Fact]
    public void PagesAreReadWhenFirstFilledAndOnlyInsideTheBackedRange()
    {
        var (file, _) = MakeFile(5);
        var home = new InProcessMemoryComponent();
        int asid = home.CreateAddressSpace();
        Assert.Equal((long)At, home.Map(asid, At, 6 * Page, Protection.Read | Protection.Exec, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "prog"));
        home.BackWithFile(asid, At + Page, 3 * Page, file, Page); // file pages 1..3 at pages 1..3
        Assert.Equal(0, home.PrivateFrames(asid));

        Assert.All(FillPage(home, asid, At + 2 * Page), b => Assert.Equal((byte)'c', b));
        Assert.Equal(1, home.PrivateFrames(asid));
        Assert.Equal(0, home.Stats.Frames); // a page of the file is not the component's memory
        Assert.All(FillPage(home, asid, At + Page), b => Assert.Equal((byte)'b', b));
        Assert.All(FillPage(home, asid, At + 3 * Page), b => Assert.Equal((byte)'d', b));
        Assert.All(FillPage(home, asid, At), b => Assert.Equal(0, b));
        Assert.All(FillPage(home, asid, At + 4 * Page), b => Assert.Equal(0, b));
        Assert.All(FillPage(home, asid, At + 5 * Page), b => Assert.Equal(0, b));
    }

    [Fact]
    public void WritesCopyThePageAndForksAndSplitsKeepTheirOffsets()
    {
        var (file, _) = MakeFile(4);
        var home = new InProcessMemoryComponent();
        int parent = home.CreateAddressSpace();
        home.Map(parent, At, 4 * Page, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "prog");
        home.BackWithFile(parent, At, 4 * Page, file, 0);
        // A split in the middle (mprotect of page 1) and an unmapped front page: the rest shows the same file pages.
        Assert.Equal(0, home.Protect(parent, At + Page, Page, Protection.Read));
        Assert.Equal(0, home.Unmap(parent, At, Page));
        int child = home.ForkAddressSpace(parent);
        // A partial write (a 64-byte line) keeps the file's other bytes of the page.
        home.WriteBack(child, At + 2 * Page, Enumerable.Repeat((byte)'w', 64).ToArray());
        var written = FillPage(home, child, At + 2 * Page);
        Assert.All(written[..64], b => Assert.Equal((byte)'w', b));
        Assert.All(written[64..], b => Assert.Equal((byte)'c', b));
        Assert.Equal(1, home.Stats.Frames);
        Assert.All(FillPage(home, parent, At + 2 * Page), b => Assert.Equal((byte)'c', b));
        foreach (int asid in new[] { parent, child })
        {
            Assert.All(FillPage(home, asid, At + Page), b => Assert.Equal((byte)'b', b));
            Assert.All(FillPage(home, asid, At + 3 * Page), b => Assert.Equal((byte)'d', b));
            Assert.Equal(FillStatus.Unmapped, home.Fill(asid, At, new byte[Page], out _));
        }
        home.DestroyAddressSpace(child);
        Assert.Equal(0, home.Stats.Frames);
    }

    [Fact]
    public void AReplacedPathLeavesTheMappingWithTheBytesItWasMappedWith()
    {
        var (file, path) = MakeFile(2);
        var home = new InProcessMemoryComponent();
        int asid = home.CreateAddressSpace();
        home.Map(asid, At, 2 * Page, Protection.Read, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "prog");
        home.BackWithFile(asid, At, 2 * Page, file, 0);
        string other = path + ".new";
        File.WriteAllBytes(other, Enumerable.Repeat((byte)'x', 2 * (int)Page).ToArray());
        File.Move(other, path, overwrite: true);
        Assert.All(FillPage(home, asid, At + Page), b => Assert.Equal((byte)'b', b));
    }

    [Fact]
    public void ARangeOutsideOneFreshPrivateMappingGetsItsBytesAtOnce()
    {
        var (file, _) = MakeFile(3);
        var home = new InProcessMemoryComponent();
        int asid = home.CreateAddressSpace();
        home.Map(asid, At, Page, Protection.Read, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "one");
        home.Map(asid, At + Page, 2 * Page, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "two");
        home.BackWithFile(asid, At, 3 * Page, file, 0);
        Assert.Equal(3, home.PrivateFrames(asid));
        Assert.All(FillPage(home, asid, At), b => Assert.Equal((byte)'a', b));
        Assert.All(FillPage(home, asid, At + 2 * Page), b => Assert.Equal((byte)'c', b));
    }
}
