using System.Runtime.InteropServices;
using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// A memory node's frame arena gives the pages of slots that stay free back to the kernel (its memfd cannot shrink),
/// and a slot handed out again reads as zeros whether its page was given back or only cleared.
/// </summary>
public sealed unsafe class FrameArenaTests
{
    [DllImport("libc", EntryPoint = "fstat", SetLastError = true)]
    static extern int Fstat(int fd, byte* buf);

    /// <summary>Bytes of memory the file holds now (st_blocks, in 512-byte units, of x86-64's struct stat).</summary>
    static long Allocated(int fd)
    {
        var buf = stackalloc byte[256];
        Assert.Equal(0, Fstat(fd, buf));
        return *(long*)(buf + 64) * 512;
    }

    [Fact]
    public void SlotsThatStayFreeGiveTheirPagesBackAndReadAsZerosWhenHandedOutAgain()
    {
        using var arena = new FrameArena(64L << 20);
        int n = FrameArena.ReleaseBatch + 300;
        var slots = new int[n];
        for (int i = 0; i < n; i++)
        {
            slots[i] = arena.Allocate();
            Assert.True(slots[i] >= 0);
            new Span<byte>(arena.Frame(slots[i]), (int)PageMath.PageSize).Fill((byte)(i | 1));
        }
        long full = Allocated(arena.Fd);
        Assert.True(full >= (long)n * (int)PageMath.PageSize, $"{full} bytes held for {n} written slots");
        // Freed one by one: a batch goes back as soon as it is complete, the rest when the arena is told to.
        foreach (int s in slots) arena.Free(s);
        Assert.Equal(FrameArena.ReleaseBatch, arena.Released);
        arena.Release();
        Assert.Equal(n, arena.Released);
        Assert.True(Allocated(arena.Fd) <= full - (long)n * (int)PageMath.PageSize, $"{Allocated(arena.Fd)} bytes held after freeing {n} of {full}");
        // A slot freed and taken again before any release is cleared instead.
        int kept = arena.Allocate();
        new Span<byte>(arena.Frame(kept), (int)PageMath.PageSize).Fill(7);
        arena.Free(kept);
        for (int i = 0; i < n; i++)
        {
            int s = arena.Allocate();
            Assert.True(new ReadOnlySpan<byte>(arena.Frame(s), (int)PageMath.PageSize).IndexOfAnyExcept((byte)0) < 0, $"slot {s} handed out again is not zero");
        }
        Assert.Equal(n, arena.InUse);
    }
}
