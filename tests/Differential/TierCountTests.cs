using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace LegoEmu.Tests.Differential;

/// <summary>
/// Translated code counts retired instructions and memory accesses per block, not per instruction, and
/// corrects the counts at faults and slow paths; the interpreter counts one by one. Both must report the
/// same totals in --stats, faults and signal handlers included.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed partial class TierCountTests(GuestBuilds builds)
{
    public static TheoryData<string> CountedGuests() => new(["sieve", "strings", "math64", "signals", "fault_segv", "fault_divide", "x87_math", "mxcsr"]);

    [Theory]
    [MemberData(nameof(CountedGuests))]
    public async Task TranslatedCountsMatchInterpreter(string guest)
    {
        var spec = Guests.Get(guest);
        var binary = builds.Binary(guest);
        var interp = await Counts(["--tier", "interp"], binary, spec);
        var translated = await Counts(["--translate-threshold", "0"], binary, spec);
        var auto = await Counts(["--translate-threshold", "50"], binary, spec);
        Assert.Equal(interp, translated);
        Assert.Equal(interp, auto);
    }

    /// <summary>
    /// --stats-json carries the translator's figures as --stats prints them: instructions translated plus interpreted make
    /// the total, regions are compiled when translating eagerly, and an interpreter-only run translated nothing.
    /// </summary>
    [Fact]
    public async Task StatsJsonSplitsInstructionsBetweenTiers()
    {
        var spec = Guests.Get("sieve");
        var binary = builds.Binary("sieve");
        foreach (var tier in new[] { new[] { "--tier", "interp" }, new[] { "--translate-threshold", "0" }, new[] { "--translate-threshold", "50" } })
        {
            string file = Path.Combine(Path.GetTempPath(), $"legoemu-tier-{Guid.NewGuid():N}.json");
            try
            {
                var run = await EmulatorRunner.RunAsync(
                    new[] { "run", "--stats", "--stats-json", file }.Concat(spec.RunOptions).Concat(tier).Append(binary).Concat(spec.Arguments),
                    Guests.Environment, Guests.EnvironmentPrefixToClear);
                Assert.True(run.ExitCode == spec.ExpectedExitCode, $"{string.Join(' ', tier)}: exit {run.ExitCode}\n{run.StderrTail()}");
                using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(file));
                var root = doc.RootElement;
                var t = root.GetProperty("tier");
                long instructions = root.GetProperty("instructions").GetInt64();
                long translated = t.GetProperty("translatedInstructions").GetInt64(), interpreted = t.GetProperty("interpretedInstructions").GetInt64();
                string what = $"{string.Join(' ', tier)}: {t}";
                Assert.Equal(Number(InstructionsLine().Match(run.StderrText), run.StderrText), instructions);
                Assert.Equal(instructions, translated + interpreted);
                if (tier[0] == "--tier")
                {
                    Assert.Equal("interp", t.GetProperty("mode").GetString());
                    Assert.Equal(0, translated);
                    continue;
                }
                Assert.Equal("auto", t.GetProperty("mode").GetString());
                // The compiler's thread may still finish a region after --stats was printed: no exact match of those counts.
                Assert.Equal(0, t.GetProperty("regionsFailed").GetInt64());
                if (tier[1] == "0")
                {
                    Assert.True(t.GetProperty("regionsCompiled").GetInt64() > 0, what);
                    Assert.True(translated > interpreted, what);
                    Assert.True(t.GetProperty("regionEntries").GetInt64() > 0 && t.GetProperty("ilBytes").GetInt64() > 0, what);
                }
            }
            finally
            {
                File.Delete(file);
            }
        }
    }

    static async Task<(long Instructions, long Accesses)> Counts(string[] tier, string binary, GuestSpec spec)
    {
        var run = await EmulatorRunner.RunAsync(
            new[] { "run", "--stats" }.Concat(spec.RunOptions).Concat(tier).Append(binary).Concat(spec.Arguments),
            Guests.Environment, Guests.EnvironmentPrefixToClear);
        Assert.True(run.ExitCode == spec.ExpectedExitCode, $"{string.Join(' ', tier)}: exit {run.ExitCode}\n{run.StderrTail()}");
        var text = run.StderrText;
        if (tier[0] != "--tier")
        {
            // A region whose compilation throws is dropped silently and its code interpreted: correct counts, no speed.
            var regions = RegionsLine().Match(text);
            Assert.True(regions.Success, $"--stats regions line missing:\n{text}");
            // Eager translation compiles before the code runs; at a threshold a short guest may end first.
            if (tier[1] == "0") Assert.True(Number(regions, text) > 0, $"{string.Join(' ', tier)}: no region compiled\n{regions.Value}");
            Assert.True(regions.Groups[2].Value == "0", $"{string.Join(' ', tier)}: regions failed to compile\n{regions.Value}");
        }
        return (Number(InstructionsLine().Match(text), text), Number(AccessesLine().Match(text), text));
    }

    static long Number(Match m, string text)
    {
        Assert.True(m.Success, $"--stats line missing:\n{text}");
        return long.Parse(m.Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"legoemu: guest instructions\s+([\d,]+)")]
    private static partial Regex InstructionsLine();

    [GeneratedRegex(@"legoemu: memory accesses\s+([\d,]+)")]
    private static partial Regex AccessesLine();

    [GeneratedRegex(@"legoemu: regions\s+([\d,]+) compiled.* ([\d,]+) failed;")]
    private static partial Regex RegionsLine();
}
