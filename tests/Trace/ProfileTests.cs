using System.Globalization;
using System.Text.Json;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// <c>run --profile FILE</c>: instructions and data accesses per guest instruction, the same in the interpreter
/// and in translated code, adding up exactly to what --stats-json counts; callgrind_annotate reads the file.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class ProfileTests(TraceGuestsFixture fixture) : IClassFixture<TraceGuestsFixture>
{
    const long Bytes = 256 << 10;
    const int Reps = 16;

    [Fact]
    public async Task BothTiersChargeTheSameInstructionsAndAccessesAndTheyAddUpToTheCounters()
    {
        string bin = fixture.Guests.Binary("hotfn");
        string[] args = [Bytes.ToString(CultureInfo.InvariantCulture), Reps.ToString(CultureInfo.InvariantCulture)];
        string expected = await TraceGuests.NativeAsync(bin, args);
        string dir = Directory.CreateTempSubdirectory("legoemu-profile-").FullName;
        try
        {
            var byTier = new List<Dictionary<string, long[]>>();
            foreach (string[] tier in new[] { new[] { "--tier", "interp" }, ["--translate-threshold", "0"], ["--translate-threshold", "10000"] })
            {
                string profile = Path.Combine(dir, $"p{byTier.Count}.callgrind"), stats = Path.Combine(dir, $"s{byTier.Count}.json");
                var r = await EmulatorRunner.RunAsync(["run", "--profile", profile, "--stats-json", stats, "--line", "64", "--excache", "64K", .. tier, bin, .. args]);
                Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
                Assert.Equal(expected, r.StdoutText);
                var functions = ReadProfile(profile);
                var counters = JsonDocument.Parse(File.ReadAllText(stats)).RootElement;
                Assert.Equal(counters.GetProperty("instructions").GetInt64(), functions.Values.Sum(c => c[0]));
                Assert.Equal(counters.GetProperty("accesses").GetInt64(), functions.Values.Sum(c => c[1]));
                Assert.Equal(counters.GetProperty("misses").GetInt64(), functions.Values.Sum(c => c[2]));
                // The loops' loads and stores, and the few stack accesses of the call (RET's load of the return address).
                Assert.InRange(functions["hot_sum"][1], Bytes / 64 * Reps, Bytes / 64 * Reps + 4);
                Assert.InRange(functions["cold_fill"][1], Bytes / 8, Bytes / 8 + 4);
                byTier.Add(functions);

                var annotate = await ProcessRunner.RunAsync("callgrind_annotate", [profile], TimeSpan.FromSeconds(60));
                Assert.True(annotate.ExitCode == 0, $"callgrind_annotate failed (is valgrind installed?): {annotate.StderrText}");
                Assert.Contains("hotfn.c:hot_sum", annotate.StdoutText);
            }
            // Misses differ between tiers (the translator decodes ahead, and its fetches miss too); instructions and
            // accesses may not.
            static IEnumerable<string> Executed(Dictionary<string, long[]> f) => f.Where(p => p.Value[0] + p.Value[1] > 0).Select(p => p.Key).Order();
            foreach (var other in byTier.Skip(1))
            {
                Assert.Equal(Executed(byTier[0]), Executed(other));
                foreach (var (fn, c) in byTier[0].Where(p => p.Value[0] + p.Value[1] > 0))
                {
                    Assert.True(c[0] == other[fn][0], $"{fn}: {c[0]} instructions interpreted, {other[fn][0]} translated");
                    Assert.True(c[1] == other[fn][1], $"{fn}: {c[1]} accesses interpreted, {other[fn][1]} translated");
                }
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Costs (Ir, Dacc, Miss, Mfill, WB) summed per function of a callgrind file.</summary>
    static Dictionary<string, long[]> ReadProfile(string path)
    {
        var sums = new Dictionary<string, long[]>();
        string? fn = null;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("fn=", StringComparison.Ordinal)) { fn = line[3..]; continue; }
            if (fn == null || !line.StartsWith("0x", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ');
            if (!sums.TryGetValue(fn, out var c)) sums[fn] = c = new long[5];
            for (int i = 0; i < 5; i++) c[i] += long.Parse(parts[2 + i], CultureInfo.InvariantCulture);
        }
        return sums;
    }
}
