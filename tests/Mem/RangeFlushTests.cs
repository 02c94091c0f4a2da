using LegoEmu.Mem;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Component;
using Xunit;

namespace LegoEmu.Tests.Mem;

/// <summary>
/// A range flush (munmap, mmap over a range) looks only at the chunks of the range that hold cached lines: what it
/// skips must never hold a line of the range, whatever the line size, the alignment of the range or the evictions
/// before it. And the p-local ranges, kept in blocks, must answer as a plain list of ranges would.
/// </summary>
public sealed class RangeFlushTests
{
    [Theory]
    [InlineData(64, 64L << 10)]
    [InlineData(4096, 4L << 20)]
    [InlineData(4096, 64L << 10)]
    public void RemappedRange_ReadsZero_AndTheRestKeepsItsBytes(int line, long cacheSize)
    {
        using var rig = new CacheRig(cacheSize, 2, line);
        const ulong pages = 4096; // 16 MiB: many 64 KiB chunks
        ulong start = rig.MapAnon(pages);
        var written = new List<ulong>();
        var random = new Random(18);
        for (int i = 0; i < 600; i++)
        {
            ulong a = start + (ulong)random.NextInt64(0, (long)(pages * CacheRig.Page) - 8) & ~7UL;
            rig.View.Write64(a, a | 1);
            written.Add(a);
        }
        // Not aligned to lines larger than a page, nor to chunks.
        ulong cutStart = start + 257 * CacheRig.Page, cutEnd = start + 3001 * CacheRig.Page;
        Assert.Equal(0, rig.Space.Unmap(cutStart, cutEnd - cutStart));
        Assert.Equal((long)cutStart, rig.Space.Map(cutStart, cutEnd - cutStart, Protection.ReadWrite, CacheRig.Anon | MapFlags.Fixed));
        foreach (ulong a in written)
        {
            bool inside = a >= cutStart && a < cutEnd;
            ulong expected = inside ? 0 : a | 1;
            // Written twice at one address is one value: the last write of either is a | 1.
            Assert.True(rig.View.Read64(a) == expected, $"0x{a:x} ({(inside ? "remapped" : "kept")}) reads 0x{rig.View.Read64(a):x}");
        }
    }

    [Fact]
    public void PLocalRanges_AnswerAsAListOfRangesAndASetOfLines()
    {
        var tracker = new PLocalTracker();
        const int units = 3000 * 64; // 64-byte units, the smallest line
        var prot = new Protection?[units]; // the model: each unit's range protection, or none
        var writtenBack = new bool[units]; // and the units written back
        var random = new Random(1818);
        const ulong unit = 64, bottom = 0x7f0000000000;
        for (int step = 0; step < 6000; step++)
        {
            int a = random.Next(units), n = random.Next(1, step % 7 == 0 ? 400 * 64 : 12 * 64);
            if (step % 3 != 0) a &= ~63; // mostly whole pages, as mmap gives them
            int b = Math.Min(units, a + n);
            if (step % 3 != 0) b &= ~63;
            if (b <= a) continue;
            ulong s = bottom + (ulong)a * unit, e = bottom + (ulong)b * unit;
            switch (random.Next(5))
            {
                case 0:
                case 1:
                    var p = random.Next(2) == 0 ? Protection.ReadWrite : Protection.None;
                    tracker.Add(s, e, p);
                    for (int i = a; i < b; i++) (prot[i], writtenBack[i]) = (p, false);
                    break;
                case 2:
                    tracker.Remove(s, e);
                    for (int i = a; i < b; i++) (prot[i], writtenBack[i]) = (null, false);
                    break;
                case 3:
                    var q = random.Next(2) == 0 ? Protection.Read : Protection.ReadWrite;
                    tracker.Protect(s, e, q);
                    for (int i = a; i < b; i++) if (prot[i] != null) prot[i] = q;
                    break;
                default:
                    for (int k = random.Next(1, 40); k > 0; k--)
                    {
                        int u = random.Next(units);
                        tracker.MarkWritten(bottom + (ulong)u * unit);
                        writtenBack[u] = true;
                    }
                    break;
            }
            // The tracker remembers the range or gap it found last: every step asks a few units, some next to each other.
            for (int k = 0; k < 16; k++)
            {
                int i = k % 4 == 0 ? random.Next(units) : Math.Min(units - 1, random.Next(units) | 63);
                for (int j = i; j < Math.Min(units, i + 3); j++)
                {
                    bool fresh = tracker.IsFresh(bottom + (ulong)j * unit, out var got);
                    Assert.True(fresh == (prot[j] != null && !writtenBack[j]), $"step {step}: unit {j} fresh {fresh}");
                    if (prot[j] is { } want) Assert.True(got == want, $"step {step}: unit {j} protection {got}, expected {want}");
                }
            }
            if (step % 50 != 0) continue;
            for (int i = 0; i < units; i += random.Next(1, 24))
            {
                bool fresh = tracker.IsFresh(bottom + (ulong)i * unit, out var got);
                bool expectedFresh = prot[i] != null && !writtenBack[i];
                Assert.True(fresh == expectedFresh, $"step {step}: unit {i} fresh {fresh}, expected {expectedFresh}");
                if (prot[i] is { } want) Assert.True(got == want, $"step {step}: unit {i} protection {got}, expected {want}");
            }
        }
    }
}
