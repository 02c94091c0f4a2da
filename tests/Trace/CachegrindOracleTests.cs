using System.Globalization;
using System.Text;
using LegoEmu.Cluster.Bench;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// Programs nobody here wrote, checked against valgrind's cachegrind the way a new user would, through
/// <c>legoemu bench cachegrind</c>: the ExCache with cachegrind's first-level data cache geometry misses as
/// often (within 2 %), the guest retires as many instructions (within 1 %), and the profile ranks the hot
/// functions in cachegrind's order with the same costs. The quick cases run always; the long ones (xz, a
/// python3 workload of two billion instructions, gzip of 3 MB) when LEGOEMU_CACHEGRIND_LONG=1.
/// </summary>
public sealed class CachegrindOracleTests
{
    static bool Long => Environment.GetEnvironmentVariable("LEGOEMU_CACHEGRIND_LONG") == "1";

    [Fact]
    public Task Bzip2() => WithInput(300_000, input => Check(["bzip2", "-c", input], hot: 3));

    [Fact]
    public Task Gzip() => WithInput(Long ? 3_000_000 : 400_000, input => Check(["gzip", "-9", "-c", input], hot: 1));

    [Fact]
    public Task SortOfNumbers() => WithLines(300_000, input => Check(["sort", input], hot: 5));

    [Fact]
    public Task BusyboxStatic() => WithInput(1_000_000, input => Check(["busybox", "gzip", "-c", input], hot: 0));

    [Fact]
    public Task Python() => Check([File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", "-c", $"import json; print(sum(len(json.dumps(list(range(i)))) for i in range({(Long ? 2000 : 500)})))"], hot: 6,
        annotate: "_PyUnicode_JoinArray");

    /// <summary>
    /// The data footprint: the distinct lines lackey sees bzip2 load and store natively, against a LegoEmu
    /// trace's (<c>trace report --data-only</c>), within 2 % (valgrind's preloaded library and environment are
    /// the difference); with LEGOEMU_CACHEGRIND_LONG=1 also gzip and xz.
    /// </summary>
    [Fact]
    public async Task FootprintAsLackeySeesIt()
    {
        var commands = new List<Func<string, string[]>> { input => ["bzip2", "-c", input] };
        if (Long)
        {
            commands.Add(input => ["xz", "-1", "-c", input]);
            commands.Add(input => ["gzip", "-c", input]);
        }
        foreach (var command in commands)
            await WithInput(Long ? 100_000 : 60_000, async input =>
            {
                var r = await EmulatorRunner.RunAsync(["bench", "cachegrind", "--footprint", "--top", "3", .. command(input)]);
                Assert.True(r.ExitCode == 0, $"{r}\n{r.StdoutText}\n{r.StderrTail()}");
                string table = r.StdoutText;
                Assert.Contains("outputs and exit statuses: equal (exit 0)", table);
                var row = table.Split('\n').Single(l => l.StartsWith("| data footprint in lines", StringComparison.Ordinal)).Split('|');
                long lackey = long.Parse(row[2].Trim().Replace(",", ""), CultureInfo.InvariantCulture);
                long traced = long.Parse(row[3].Trim().Replace(",", ""), CultureInfo.InvariantCulture);
                Assert.True(lackey > 1000, table);
                Within(traced, lackey, 0.02, $"{command(input)[0]}'s footprint", table);
            });
    }

    [Fact]
    public Task XzLong() => !Long ? Task.CompletedTask : WithInput(2_000_000, input => Check(["xz", "-c", input], hot: 2));

    /// <summary>
    /// Runs the verb on <paramref name="command"/> and checks its totals and the <paramref name="hot"/> hottest
    /// named functions: same names in the same order, instructions within 2 % and, where a function makes 1 %
    /// of the misses or more, misses within 5 % (its data lie elsewhere natively: sets conflict differently). Valgrind counts every iteration of a REP-prefixed string
    /// instruction as an instruction (LegoEmu, like the CPU, one), so a program that clears a large table
    /// with REP STOS at start needs work enough to make that small.
    /// </summary>
    static async Task Check(string[] command, int hot, string? annotate = null)
    {
        if (!command[0].StartsWith('/') && Which(command[0]) == null) Assert.Fail($"{command[0]} is not installed (the CI image has it)");
        string dir = Directory.CreateTempSubdirectory("legoemu-cg-").FullName;
        try
        {
            var r = await EmulatorRunner.RunAsync(["bench", "cachegrind", "--keep", dir, "--top", "12", .. command],
                new Dictionary<string, string?> { ["PYTHONHASHSEED"] = "0" });
            Assert.True(r.ExitCode == 0, $"{r}\n{r.StdoutText}\n{r.StderrTail()}");
            string table = r.StdoutText;
            Assert.Contains("outputs and exit statuses: equal (exit 0)", table);
            var m = CachegrindBench.Load(dir, true, 0);
            var cg = m.Cachegrind;
            Within(m.Instructions, cg.Total("Ir"), 0.01, "instructions", table);
            Within(m.DataMisses, cg.Total("D1mr") + cg.Total("D1mw"), 0.02, "data misses", table);
            var theirs = cg.Ranking("Ir").Take(hot).ToList();
            var ours = m.Profile.Ranking("Ir").Take(hot).ToList();
            Assert.True(theirs.SequenceEqual(ours), $"hot functions: cachegrind {string.Join(", ", theirs)}; legoemu {string.Join(", ", ours)}\n{table}");
            long misses = m.DataMisses;
            foreach (var fn in theirs)
            {
                Within(m.Profile.Cost(fn, "Ir"), cg.Cost(fn, "Ir"), 0.02, $"{fn}'s instructions", table);
                long theirMisses = cg.Cost(fn, "D1mr", "D1mw");
                if (theirMisses * 100 >= misses) Within(m.FunctionDataMisses(fn), theirMisses, 0.05, $"{fn}'s misses", table);
            }
            if (annotate != null)
            {
                var a = await ProcessRunner.RunAsync("callgrind_annotate", [Path.Combine(dir, "profile.callgrind")], TimeSpan.FromSeconds(60));
                Assert.True(a.ExitCode == 0, a.StderrText);
                // The first function with a name: stripped code is named by its entry address (???:0x...).
                var first = a.StdoutText.Split('\n').SkipWhile(l => !l.Contains("file:function", StringComparison.Ordinal)).Skip(2)
                    .First(l => !l.Contains(":0x", StringComparison.Ordinal));
                Assert.Contains(annotate, first);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    static void Within(long ours, long theirs, double tolerance, string what, string table) =>
        Assert.True(Math.Abs(ours - theirs) <= tolerance * theirs, $"{what}: {ours:N0} under LegoEmu, {theirs:N0} under cachegrind ({CachegrindBench.Diff(ours, theirs)}; tolerance {tolerance:P0})\n{table}");

    /// <summary>A file of compressible text (seeded words) for the compressors.</summary>
    static async Task WithInput(int bytes, Func<string, Task> body)
    {
        string path = Path.Combine(Path.GetTempPath(), $"legoemu-cg-input-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        var rng = new Random(20);
        string[] words = Enumerable.Range(0, 2000).Select(i => new string(Enumerable.Range(0, 3 + rng.Next(8)).Select(_ => (char)('a' + rng.Next(26))).ToArray())).ToArray();
        var sb = new StringBuilder(bytes + 16);
        while (sb.Length < bytes) sb.Append(words[(int)Math.Min(words.Length - 1, -Math.Log(1 - rng.NextDouble()) * 200)]).Append(rng.Next(12) == 0 ? '\n' : ' ');
        await File.WriteAllTextAsync(path, sb.ToString(0, bytes));
        try { await body(path); }
        finally { File.Delete(path); }
    }

    /// <summary>A file of shuffled decimal numbers, one a line, for sort.</summary>
    static async Task WithLines(int count, Func<string, Task> body)
    {
        string path = Path.Combine(Path.GetTempPath(), $"legoemu-cg-lines-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        var rng = new Random(20);
        var numbers = Enumerable.Range(1, count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        rng.Shuffle(numbers);
        await File.WriteAllLinesAsync(path, numbers);
        try { await body(path); }
        finally { File.Delete(path); }
    }

    static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
}
