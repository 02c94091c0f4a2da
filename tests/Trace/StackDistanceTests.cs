using LegoEmu.Cluster.Trace;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>The Fenwick-tree stack distances against a naive LRU stack, through renumbering.</summary>
public class StackDistanceTests
{
    static List<int> NaiveDistances(IEnumerable<ulong> refs, out long cold)
    {
        var stack = new List<ulong>();
        var result = new List<int>();
        cold = 0;
        foreach (var r in refs)
        {
            int i = stack.IndexOf(r);
            if (i < 0) cold++;
            else
            {
                result.Add(i);
                stack.RemoveAt(i);
            }
            stack.Insert(0, r);
        }
        return result;
    }

    [Theory]
    [InlineData(50, 3000, 1)]
    [InlineData(500, 20000, 2)]
    [InlineData(5000, 30000, 3)]
    public void MatchesNaiveLruStack(int lines, int references, int seed)
    {
        var rng = new Random(seed);
        var refs = new List<ulong>();
        for (int i = 0; i < references; i++)
        {
            // A hot set and a uniform tail, so both short and long distances occur.
            ulong line = rng.Next(4) == 0 ? (ulong)rng.Next(lines) : (ulong)rng.Next(Math.Max(1, lines / 20));
            refs.Add(line * 64);
        }
        var naive = NaiveDistances(refs, out long cold);
        // A tiny initial capacity forces many renumberings.
        var sd = new StackDistance(initialCapacity: 64);
        foreach (var r in refs) sd.Reference(r);
        Assert.Equal(cold, sd.Cold);
        Assert.Equal(references, sd.References);
        var hist = new long[Math.Max(sd.MaxDistance, naive.Count == 0 ? 0 : naive.Max()) + 1];
        foreach (int d in naive) hist[d]++;
        Assert.Equal(naive.Count == 0 ? -1 : naive.Max(), sd.MaxDistance);
        Assert.Equal(hist, sd.Histogram.ToArray());
        foreach (int c in new[] { 1, 2, 7, lines / 10 + 1, lines })
        {
            long misses = cold + naive.Count(d => d >= c);
            Assert.Equal((double)misses / references, sd.MissRatio(c), 12);
        }
    }
}
