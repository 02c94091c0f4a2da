using LegoEmu.Mem;
using LegoEmu.Mem.Remote;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// The grant table against a Dictionary doing the same operations: a grant it still returns after a revocation would
/// let a one-sided copy touch a frame the node may have reused, so removal (backward shift), range revocation and
/// growth must keep exactly the live grants.
/// </summary>
public sealed class GrantTableTests
{
    [Theory]
    [InlineData(1, 64)]
    [InlineData(2, 5000)]
    [InlineData(3, 1 << 20)]
    public void MatchesADictionary(int seed, int pageSpan)
    {
        var rng = new Random(seed);
        var table = new GrantTable();
        var model = new Dictionary<(int, ulong), (int, Protection)>();
        for (int op = 0; op < 200_000; op++)
        {
            int asid = rng.Next(3);
            // Pages near the top of the address space too, and runs of consecutive pages as the guest's misses make.
            ulong page = (rng.Next(4) == 0 ? (1UL << 35) - (ulong)pageSpan : 0) + (ulong)rng.Next(pageSpan);
            switch (rng.Next(10))
            {
                case < 5:
                {
                    int slot = rng.Next(1 << 22);
                    var prot = (Protection)rng.Next(8);
                    table.Set(asid, page, slot, prot);
                    model[(asid, page)] = (slot, prot);
                    break;
                }
                case < 8:
                    Assert.Equal(model.Remove((asid, page)), table.Remove(asid, page));
                    break;
                case 8:
                {
                    ulong end = page + (ulong)rng.Next(pageSpan / 8 + 1);
                    table.RemoveRange(asid, page, end);
                    foreach (var key in model.Keys.ToList())
                        if (key.Item1 == asid && key.Item2 >= page && key.Item2 < end) model.Remove(key);
                    break;
                }
                default:
                    if (rng.Next(2000) == 0)
                    {
                        table.Clear();
                        model.Clear();
                    }
                    break;
            }
            Assert.Equal(model.Count, table.Count);
            bool found = table.TryGet(asid, page, out int s, out var p);
            Assert.Equal(model.TryGetValue((asid, page), out var want), found);
            if (found) Assert.Equal(want, (s, p));
        }
        foreach (var ((asid, page), (slot, prot)) in model)
        {
            Assert.True(table.TryGet(asid, page, out int s, out var p));
            Assert.Equal((slot, prot), (s, p));
        }
    }
}
