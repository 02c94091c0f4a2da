using System.Globalization;
using System.Text.Json;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// A third-party oracle: the same static guest runs under valgrind's lackey, which prints every load, store
/// and modify of the real program, and under LegoEmu with an access trace. Over the guest's own region both
/// must count the same reads, writes and distinct 64-byte lines, and an LRU cache of K lines fed lackey's
/// accesses must miss as often as the report's exact curve says at K. glibc's AVX, SSSE3 and ERMS variants
/// are turned off in both, so both run the same memset and memcpy.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class LackeyOracleTests(TraceGuestsFixture fixture) : IClassFixture<TraceGuestsFixture>
{
    const ulong Region = 0x200000000;
    const int Bytes = 64 << 10;
    const int Line = 64;
    /// <summary>glibc's string functions pinned to their SSE2 variants, so native (valgrind) and emulated runs execute the same code.</summary>
    internal static readonly Dictionary<string, string?> SameLibc = new()
    {
        ["GLIBC_TUNABLES"] = "glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX_Fast_Unaligned_Load,-ERMS,-FSRM,-SSSE3",
    };

    [Fact]
    public async Task FootprintAccessesAndLruMissesEqualLackeys()
    {
        string bin = fixture.Guests.Binary("oracle");
        string[] args = [Bytes.ToString(CultureInfo.InvariantCulture), "20000"];
        string dir = Directory.CreateTempSubdirectory("legoemu-lackey-").FullName;
        try
        {
            string log = Path.Combine(dir, "lackey.txt"), trace = Path.Combine(dir, "oracle.trace");
            var vg = await ProcessRunner.RunAsync("valgrind", ["--tool=lackey", "--trace-mem=yes", $"--log-file={log}", bin, .. args],
                TimeSpan.FromSeconds(120), SameLibc);
            Assert.True(vg.ExitCode == 0, $"valgrind failed (is it installed?): {vg.StderrText}");
            var run = await EmulatorRunner.RunAsync(["run", "--trace", trace, "--trace-level", "accesses", "--line", Line.ToString(CultureInfo.InvariantCulture), bin, .. args], SameLibc);
            Assert.True(run.ExitCode == 0, $"{run}\n{run.StderrTail()}");
            Assert.Equal(vg.StdoutText, run.StdoutText);
            var r = await EmulatorRunner.RunAsync(["trace", "report", trace, "--json", "--data-only", "--range", $"0x{Region:x}:+64K"]);
            Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
            var j = JsonDocument.Parse(r.StdoutText).RootElement;

            var (reads, writes, lines) = ReadLackey(log);
            Assert.Equal(reads, j.GetProperty("reads").GetInt64());
            Assert.Equal(writes, j.GetProperty("writes").GetInt64());
            Assert.Equal(lines.Distinct().Count(), j.GetProperty("footprintLines").GetInt64());
            long references = reads + writes;
            int compared = 0;
            foreach (var p in j.GetProperty("mrc").EnumerateArray())
            {
                long k = p.GetProperty("lines").GetInt64();
                if (k > Bytes / Line) continue;
                long predicted = (long)Math.Round(p.GetProperty("missRatio").GetDouble() * references);
                Assert.True(LruMisses(lines, (int)k) == predicted, $"LRU of {k} lines: lackey's accesses miss {LruMisses(lines, (int)k)} times, the report says {predicted}");
                compared++;
            }
            Assert.True(compared >= 8, $"only {compared} curve points compared");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Lackey's loads (L), stores (S) and modifies (M: a load then a store) in the region, split at line boundaries.</summary>
    static (long Reads, long Writes, List<ulong> Lines) ReadLackey(string log)
    {
        long reads = 0, writes = 0;
        var lines = new List<ulong>();
        foreach (var text in File.ReadLines(log))
        {
            if (text.Length < 4 || text[0] != ' ' || text[1] is not ('L' or 'S' or 'M')) continue;
            char kind = text[1];
            var parts = text[3..].Trim().Split(',');
            ulong a = ulong.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong size = ulong.Parse(parts[1], CultureInfo.InvariantCulture);
            if (a + size <= Region || a >= Region + Bytes) continue;
            for (ulong line = a / Line; line <= (a + size - 1) / Line; line++)
            {
                if (kind != 'S') { reads++; lines.Add(line); }
                if (kind != 'L') { writes++; lines.Add(line); }
            }
        }
        return (reads, writes, lines);
    }

    /// <summary>Misses of a fully associative LRU cache of <paramref name="capacity"/> lines (cold misses included).</summary>
    static long LruMisses(List<ulong> lines, int capacity)
    {
        var order = new LinkedList<ulong>();
        var where = new Dictionary<ulong, LinkedListNode<ulong>>();
        long misses = 0;
        foreach (var line in lines)
        {
            if (where.TryGetValue(line, out var node)) order.Remove(node);
            else
            {
                misses++;
                if (where.Count == capacity)
                {
                    where.Remove(order.Last!.Value);
                    order.RemoveLast();
                }
            }
            where[line] = order.AddFirst(line);
        }
        return misses;
    }
}
