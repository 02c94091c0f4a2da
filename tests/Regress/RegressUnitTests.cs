using System.Text;
using LegoEmu.Cluster.Regress;
using LegoEmu.Mem.Cache;
using Xunit;

namespace LegoEmu.Tests.Regress;

/// <summary>The pure parts of regress: cache geometry for a fraction of a footprint, and output filters.</summary>
public sealed class RegressUnitTests
{
    [Theory]
    [InlineData(4096L * 8)]
    [InlineData(100_000L)]
    [InlineData(3L << 20)]
    [InlineData(768L << 10)]
    [InlineData(1_700_000_000L / 4)]
    [InlineData(4096L * 63 + 100)]
    [InlineData(4096L * 64)]
    [InlineData(4096L * 127)]
    [InlineData(4096L * 128)]
    public void GeometryIsValidAndWithinASixtyFourthOfTheTarget(long target)
    {
        var (size, ways) = ExCacheGeometry.Fit(target);
        var cfg = new CacheConfig(size, ways, 4096, ReplacementPolicy.Fifo);
        Assert.Null(cfg.Validate());
        Assert.True(size >= 8 * 4096);
        if (target >= 8 * 4096)
        {
            Assert.True(size <= target, $"{size} above target {target}");
            Assert.True(size > target * 63 / 64 - 4096, $"{size} too far below target {target}");
        }
        // LegoOS's associativity: 64 ways at least, or one set holding every line of a smaller cache.
        Assert.True(ways >= ExCacheGeometry.MinWays || cfg.Sets == 1, $"{ways} ways in {cfg.Sets} sets");
        Assert.True(ways < 2 * ExCacheGeometry.MinWays);
    }

    [Fact]
    public void FilterDropsReplacesAndSorts()
    {
        var f = new OutputFilter(["^time: "], [("0x[0-9a-f]+", "ADDR")], sortLines: true);
        var text = f.Apply(Encoding.UTF8.GetBytes("b at 0x7ffd1234\ntime: 1.5 s\na at 0x10\n"));
        Assert.Equal("\na at ADDR\nb at ADDR", text);
        Assert.Equal("x\ny", OutputFilter.None.Apply(Encoding.UTF8.GetBytes("x\ny")));
    }
}
