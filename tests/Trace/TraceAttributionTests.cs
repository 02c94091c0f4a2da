using System.Text.Json;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// Every access, miss and write-back is charged to the guest instruction that made it, the same in the
/// interpreter and in translated code; records of system calls can be left out; the configured ExCache
/// replayed from a complete trace misses exactly as often as the real one; and the callgrind output is
/// read by callgrind_annotate, which names the hot function first.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class TraceAttributionTests(TraceGuestsFixture fixture) : IClassFixture<TraceGuestsFixture>
{
    const long Bytes = 256 << 10;
    const int Reps = 16;
    const string Range = "0x200000000:+256K";
    readonly TraceGuests _guests = fixture.Guests;

    static string TempFile(string name) => Path.Combine(Path.GetTempPath(), $"legoemu-test-{Environment.ProcessId}-{Guid.NewGuid():N}-{name}");

    async Task<string> RecordAsync(string policy, params string[] options) => (await RecordWithCountersAsync(policy, options)).Trace;

    /// <summary>Records the hotfn guest; also returns the run's --stats-json counters.</summary>
    async Task<(string Trace, JsonElement Counters)> RecordWithCountersAsync(string policy, params string[] options)
    {
        string bin = _guests.Binary("hotfn");
        string[] args = [Bytes.ToString(), Reps.ToString()];
        string expected = await TraceGuests.NativeAsync(bin, args);
        string trace = TempFile("hotfn.trace"), stats = TempFile("stats.json");
        // 64 KiB of LRU under a cyclic scan of 256 KiB: every load of hot_sum misses, whatever else the cache holds.
        var r = await EmulatorRunner.RunAsync(["run", "--trace", trace, "--trace-level", "accesses", "--line", "64", "--excache", "64K", "--ways", "4",
            "--policy", policy, "--stats-json", stats, .. options, bin, .. args]);
        Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
        Assert.Equal(expected, r.StdoutText);
        var counters = JsonDocument.Parse(File.ReadAllText(stats)).RootElement.Clone();
        File.Delete(stats);
        return (trace, counters);
    }

    static async Task<JsonElement> ReportAsync(string trace, params string[] options)
    {
        var r = await EmulatorRunner.RunAsync(["trace", "report", trace, "--json", .. options]);
        Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
        return JsonDocument.Parse(r.StdoutText).RootElement;
    }

    static JsonElement Function(JsonElement report, string name) =>
        report.GetProperty("functions").EnumerateArray().First(f => f.GetProperty("function").GetString() == name);

    [Theory]
    [InlineData("--tier", "interp")]
    [InlineData("--translate-threshold", "0")]
    [InlineData("--translate-threshold", "10000")]
    public async Task AccessesAndMissesAreChargedToTheirFunctionsAndLinesInBothTiers(string option, string value)
    {
        var (trace, counters) = await RecordWithCountersAsync("lru", option, value);
        try
        {
            var j = await ReportAsync(trace, "--range", Range, "--data-only");
            // Instructions come from the run's block counters, whatever the filters: all of them, as --stats counts.
            Assert.Equal(counters.GetProperty("instructions").GetInt64(), j.GetProperty("retiredInstructions").GetInt64());
            var functions = j.GetProperty("functions");
            Assert.Equal("hot_sum", functions[0].GetProperty("function").GetString());
            var hot = functions[0];
            Assert.True(hot.GetProperty("instructions").GetInt64() > 2 * Bytes / 64 * Reps, hot.ToString());
            Assert.Equal(Bytes / 64 * Reps, hot.GetProperty("reads").GetInt64());
            Assert.Equal(0, hot.GetProperty("writes").GetInt64());
            Assert.Equal(Bytes / 64 * Reps, hot.GetProperty("misses").GetInt64());
            var cold = Function(j, "cold_fill");
            Assert.Equal(Bytes / 8, cold.GetProperty("writes").GetInt64());
            Assert.Equal(0, cold.GetProperty("reads").GetInt64());
            // Left to data, the region holds exactly the guest's own loads and stores.
            Assert.Equal(Bytes / 64 * Reps, j.GetProperty("reads").GetInt64());
            Assert.Equal(Bytes / 8, j.GetProperty("writes").GetInt64());

            // hot_sum is written on one line: DWARF names it.
            string source = File.ReadAllLines(Path.Combine(TraceGuests.SourceDirectory, "hotfn.c")).ToList().FindIndex(l => l.Contains("HOT LINE")) + 1 is var n && n > 0 ? $"hotfn.c:{n}" : "?";
            var line = j.GetProperty("sourceLines").EnumerateArray().First(l => l.GetProperty("function").GetString() == "hot_sum");
            Assert.EndsWith(source, $"{line.GetProperty("file").GetString()}:{line.GetProperty("line").GetInt32()}");
            Assert.Equal(Bytes / 64 * Reps, line.GetProperty("accesses").GetInt64());

            // The read(2) into the region is the kernel's (at least one store per line), charged to its SYSCALL
            // and kept without --data-only.
            var all = await ReportAsync(trace, "--range", Range);
            var kernel = all.GetProperty("functions").EnumerateArray().First(f => f.GetProperty("function").GetString() is not ("hot_sum" or "cold_fill"));
            Assert.True(kernel.GetProperty("writes").GetInt64() >= Bytes / 64, kernel.ToString());
            Assert.Equal(all.GetProperty("writes").GetInt64(), Bytes / 8 + kernel.GetProperty("writes").GetInt64());
            var whole = await ReportAsync(trace);
            Assert.Equal(whole.GetProperty("guestAccesses").GetInt64(), whole.GetProperty("reads").GetInt64() + whole.GetProperty("writes").GetInt64());
            var dataOnly = await ReportAsync(trace, "--data-only");
            Assert.Equal(0, dataOnly.GetProperty("fetches").GetInt64());
            Assert.True(whole.GetProperty("kernelAccesses").GetInt64() >= Bytes / 64);
            Assert.Equal(whole.GetProperty("guestAccesses").GetInt64() - whole.GetProperty("kernelAccesses").GetInt64(),
                dataOnly.GetProperty("reads").GetInt64() + dataOnly.GetProperty("writes").GetInt64());
        }
        finally { File.Delete(trace); }
    }

    [Theory]
    [InlineData("fifo", "--translate-threshold", "10000")]
    [InlineData("lru", "--translate-threshold", "0")]
    [InlineData("random", "--tier", "interp")]
    [InlineData("clock", "--translate-threshold", "0")]
    public async Task ReplayOfTheConfiguredCacheMissesExactlyAsTheExCacheDid(string policy, string option, string value)
    {
        string trace = await RecordAsync(policy, option, value);
        try
        {
            var j = await ReportAsync(trace);
            Assert.True(j.GetProperty("complete").GetBoolean());
            long measured = j.GetProperty("guestMisses").GetInt64();
            Assert.True(measured > Bytes / 64 * Reps);
            Assert.Equal(measured, j.GetProperty("simulatedMisses").GetInt64());
        }
        finally { File.Delete(trace); }
    }

    [Fact]
    public async Task CallgrindAnnotateReadsTheProfileAndNamesTheHotFunctionFirst()
    {
        string trace = await RecordAsync("lru");
        string cg = TempFile("callgrind.out"), folded = TempFile("folded");
        try
        {
            var r = await EmulatorRunner.RunAsync(["trace", "report", trace, "--data-only", "--callgrind", cg, "--folded", folded]);
            Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
            var annotate = await ProcessRunner.RunAsync("callgrind_annotate", [cg], TimeSpan.FromSeconds(60));
            Assert.True(annotate.ExitCode == 0, $"callgrind_annotate failed (is valgrind installed?): {annotate.StderrText}");
            // The function table follows the "file:function" header; its first row is the hottest.
            var lines = annotate.StdoutText.Split('\n');
            int header = Array.FindIndex(lines, l => l.TrimEnd().EndsWith("file:function", StringComparison.Ordinal));
            Assert.True(header > 0, annotate.StdoutText);
            string first = lines.Skip(header + 1).First(l => l.Trim().Length > 0 && !l.StartsWith("---", StringComparison.Ordinal));
            Assert.Contains("hotfn.c:hot_sum", first);
            Assert.StartsWith("hotfn;hot_sum ", File.ReadLines(folded).First());
        }
        finally
        {
            File.Delete(trace);
            File.Delete(cg);
            File.Delete(folded);
        }
    }
}
