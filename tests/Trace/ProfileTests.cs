using System.Globalization;
using System.Text.Json;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// <c>run --profile FILE</c>: instructions and data accesses per guest instruction, the same in the interpreter
/// and in translated code, adding up exactly to what --stats-json counts, and per function equal to what
/// valgrind's cachegrind counts natively; callgrind_annotate reads the file.
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

    /// <summary>
    /// A third-party oracle for the profile: valgrind's cachegrind runs the same guest natively (glibc's
    /// variants pinned as in <see cref="LackeyOracleTests"/>). The guest's own functions must retire the same
    /// instructions and make the same data references, and rank in the same order.
    /// </summary>
    [Fact]
    public async Task TheGuestsFunctionsRetireAndAccessAsUnderCachegrind()
    {
        string bin = fixture.Guests.Binary("hotfn");
        string[] args = [Bytes.ToString(CultureInfo.InvariantCulture), Reps.ToString(CultureInfo.InvariantCulture)];
        string dir = Directory.CreateTempSubdirectory("legoemu-cachegrind-").FullName;
        try
        {
            string cgOut = Path.Combine(dir, "cachegrind.out"), profile = Path.Combine(dir, "profile.callgrind");
            var vg = await ProcessRunner.RunAsync("valgrind", ["--tool=cachegrind", $"--cachegrind-out-file={cgOut}", bin, .. args],
                TimeSpan.FromSeconds(120), LackeyOracleTests.SameLibc);
            Assert.True(vg.ExitCode == 0, $"valgrind failed (is it installed?): {vg.StderrText}");
            var r = await EmulatorRunner.RunAsync(["run", "--profile", profile, bin, .. args], LackeyOracleTests.SameLibc);
            Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
            Assert.Equal(vg.StdoutText, r.StdoutText);
            var ours = ReadProfile(profile);
            var theirs = ReadCachegrind(cgOut);
            foreach (var fn in new[] { "hot_sum", "cold_fill" })
            {
                Assert.True(theirs.ContainsKey(fn), $"cachegrind has no {fn}");
                Assert.True(ours[fn][0] == theirs[fn].Ir, $"{fn}: {ours[fn][0]} instructions here, {theirs[fn].Ir} under cachegrind");
                Assert.True(ours[fn][1] == theirs[fn].Dr + theirs[fn].Dw, $"{fn}: {ours[fn][1]} data accesses here, {theirs[fn].Dr} reads and {theirs[fn].Dw} writes under cachegrind");
            }
            Assert.Equal(theirs.OrderByDescending(p => p.Value.Ir).First().Key, ours.OrderByDescending(p => p.Value[0]).First().Key);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Ir, Dr and Dw summed per function of a cachegrind.out file (columns as its events line names them).</summary>
    static Dictionary<string, (long Ir, long Dr, long Dw)> ReadCachegrind(string path)
    {
        var sums = new Dictionary<string, (long Ir, long Dr, long Dw)>();
        string[] events = [];
        string? fn = null;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("events:", StringComparison.Ordinal)) { events = line[7..].Split(' ', StringSplitOptions.RemoveEmptyEntries); continue; }
            if (line.StartsWith("fn=", StringComparison.Ordinal)) { fn = line[3..]; continue; }
            if (fn == null || line.Length == 0 || !char.IsDigit(line[0])) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long Column(string name)
            {
                int i = Array.IndexOf(events, name);
                return i >= 0 && i + 1 < parts.Length ? long.Parse(parts[i + 1], CultureInfo.InvariantCulture) : 0;
            }
            var (ir, dr, dw) = sums.GetValueOrDefault(fn);
            sums[fn] = (ir + Column("Ir"), dr + Column("Dr"), dw + Column("Dw"));
        }
        return sums;
    }

    /// <summary>Costs (Ir, Dacc, Miss, Mfill, WB) summed per function of a callgrind file.</summary>
    static Dictionary<string, long[]> ReadProfile(string path)
    {
        var sums = new Dictionary<string, long[]>();
        string? fn = null;
        bool inclusive = false;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("fn=", StringComparison.Ordinal)) { fn = line[3..]; continue; }
            // The line after a call is the callee's inclusive cost, not the caller's own.
            if (line.StartsWith("calls=", StringComparison.Ordinal)) { inclusive = true; continue; }
            if (fn == null || !line.StartsWith("0x", StringComparison.Ordinal)) continue;
            if (inclusive) { inclusive = false; continue; }
            var parts = line.Split(' ');
            if (!sums.TryGetValue(fn, out var c)) sums[fn] = c = new long[5];
            for (int i = 0; i < 5; i++) c[i] += long.Parse(parts[2 + i], CultureInfo.InvariantCulture);
        }
        return sums;
    }
}
