using System.Text.Json;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// Recording with <c>run --trace</c> and analysing with <c>trace report</c>, on guests whose answers
/// are known: footprints equal the construction exactly, the miss-ratio curve predicts what a fully
/// associative LRU ExCache of the same size actually does, and the CDF finds the hot set.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class TraceReportTests(TraceGuestsFixture fixture) : IClassFixture<TraceGuestsFixture>
{
    const string Region = "0x200000000";
    readonly TraceGuests _guests = fixture.Guests;

    static string TempFile(string name) => Path.Combine(Path.GetTempPath(), $"legoemu-test-{Environment.ProcessId}-{Guid.NewGuid():N}-{name}");

    /// <summary>Runs the guest under legoemu with tracing, checks its stdout against native, returns the trace path.</summary>
    async Task<string> RecordAsync(string guest, string[] guestArgs, params string[] options)
    {
        string bin = _guests.Binary(guest);
        string expected = await TraceGuests.NativeAsync(bin, guestArgs);
        string trace = TempFile(guest + ".trace");
        var r = await EmulatorRunner.RunAsync(["run", "--trace", trace, .. options, bin, .. guestArgs]);
        Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
        Assert.Equal(expected, r.StdoutText);
        return trace;
    }

    static async Task<JsonElement> ReportJsonAsync(string trace, params string[] options)
    {
        var r = await EmulatorRunner.RunAsync(["trace", "report", trace, "--json", .. options]);
        Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
        return JsonDocument.Parse(r.StdoutText).RootElement;
    }

    [Fact]
    public async Task SequentialScanFootprintIsExact()
    {
        string trace = await RecordAsync("scan", ["1048576", "2"], "--trace-level", "accesses", "--line", "64");
        try
        {
            var j = await ReportJsonAsync(trace, "--range", Region + ":+1M");
            Assert.Equal(16384, j.GetProperty("footprintLines").GetInt64());
            Assert.Equal(1048576, j.GetProperty("footprintBytes").GetInt64());
            // Two passes, one read per line: every line's second read is at distance footprint-1.
            Assert.Equal(2 * 16384, j.GetProperty("reads").GetInt64());
            Assert.True(j.GetProperty("complete").GetBoolean());
        }
        finally { File.Delete(trace); }
    }

    [Theory]
    [InlineData("accesses")]
    [InlineData("misses")]
    public async Task StridedWalkFootprintIsExact(string level)
    {
        // 4 MiB walked with a 4160-byte stride: ceil(4194304 / 4160) = 1009 distinct 64-byte lines.
        string trace = await RecordAsync("stride", ["4194304", "4160", "3"], "--trace-level", level, "--line", "64");
        try
        {
            var j = await ReportJsonAsync(trace, "--range", Region + ":+4M");
            Assert.Equal(1009, j.GetProperty("footprintLines").GetInt64());
            Assert.Equal(level == "accesses" ? "accesses" : "fills", j.GetProperty("basis").GetString());
        }
        finally { File.Delete(trace); }
    }

    /// <summary>The exact curve at K lines against the fills of a real fully associative LRU ExCache of K lines.</summary>
    [Theory]
    [InlineData("uniform", new[] { "1048576", "200000" }, 512)]
    [InlineData("hotcold", new[] { "8388608", "32768", "400000" }, 1024)]
    [InlineData("hotcold", new[] { "8388608", "32768", "400000" }, 256)]
    public async Task ExactCurvePredictsAnLruCacheWithinOnePoint(string guest, string[] args, int lines)
    {
        string trace = await RecordAsync(guest, args, "--trace-level", "accesses", "--line", "64",
            "--excache", (lines * 64).ToString(), "--ways", lines.ToString(), "--policy", "lru");
        try
        {
            var j = await ReportJsonAsync(trace);
            Assert.Equal(lines, j.GetProperty("configuredCacheLines").GetInt64());
            double predicted = j.GetProperty("predictedMissRatio").GetDouble();
            double measured = j.GetProperty("measuredMissRatio").GetDouble();
            Assert.True(measured > 0.01, $"the guest should miss: measured {measured:P2}");
            Assert.True(Math.Abs(predicted - measured) <= 0.01, $"predicted {predicted:P3} vs measured {measured:P3} at {lines} lines");
        }
        finally { File.Delete(trace); }
    }

    [Fact]
    public async Task OnePercentShardsSampleStaysWithinTwoPoints()
    {
        string[] args = ["16777216", "32768", "1500000"];
        string trace = await RecordAsync("hotcold", args, "--trace-level", "accesses", "--trace-sample", "1%", "--line", "64",
            "--excache", "64K", "--ways", "1024", "--policy", "lru");
        try
        {
            var j = await ReportJsonAsync(trace);
            Assert.True(j.GetProperty("estimated").GetBoolean());
            Assert.Equal(0.01, j.GetProperty("header").GetProperty("sampleRate").GetDouble(), 3);
            double predicted = j.GetProperty("predictedMissRatio").GetDouble();
            double measured = j.GetProperty("measuredMissRatio").GetDouble();
            Assert.True(Math.Abs(predicted - measured) <= 0.02, $"predicted {predicted:P3} vs measured {measured:P3}");
            // The sample should have kept about 1 % of the records of a full trace.
            long records = j.GetProperty("accessRecords").GetInt64();
            long guestAccesses = j.GetProperty("guestAccesses").GetInt64();
            Assert.InRange(records, guestAccesses / 200, guestAccesses / 50);
            // A set-associative replay needs every line: the report says why there is none.
            Assert.Equal(JsonValueKind.Null, j.GetProperty("simulatedMisses").ValueKind);
            Assert.StartsWith("not replayed: the trace is sampled", j.GetProperty("simulationNote").GetString());
        }
        finally { File.Delete(trace); }
    }

    [Fact]
    public async Task CdfFindsTheHotSet()
    {
        // 19 of every 20 reads go to the 256 KiB hot set: 95 % of the region's accesses fall on exactly those lines.
        string trace = await RecordAsync("hotcold", ["8388608", "262144", "400000"], "--trace-level", "accesses", "--line", "64");
        try
        {
            var j = await ReportJsonAsync(trace, "--range", Region + ":+8M");
            var p95 = j.GetProperty("cdf").EnumerateArray().First(p => Math.Abs(p.GetProperty("accessShare").GetDouble() - 0.95) < 1e-9);
            Assert.Equal(262144, p95.GetProperty("bytes").GetInt64());
            Assert.Contains("95 % to 256 KB", j.GetProperty("cdfSentence").GetString());
            // 4096 hot lines plus 20000 swept cold lines.
            Assert.Equal(4096 + 20000, j.GetProperty("footprintLines").GetInt64());
        }
        finally { File.Delete(trace); }
    }

    [Fact]
    public async Task MissesOverMemoryNodesShowPerNodeTraffic()
    {
        // The walk writes every line, so its second pass must fetch the written lines back from the nodes.
        string trace = await RecordAsync("stride", ["4194304", "64", "2"], "--memory-nodes", "2", "--excache", "256K", "--line", "4K");
        try
        {
            var j = await ReportJsonAsync(trace);
            Assert.Equal(2, j.GetProperty("header").GetProperty("memoryNodes").GetInt32());
            var nodes = j.GetProperty("nodes").EnumerateArray().ToList();
            Assert.NotEmpty(nodes);
            Assert.True(nodes.Sum(n => n.GetProperty("fills").GetInt64()) >= 1000, "the second pass over 1024 written pages must refill them from the nodes");
            Assert.True(nodes.Sum(n => n.GetProperty("writeBacks").GetInt64()) >= 1000, "1024 written pages do not fit a 64-page cache");
            // A misses-only trace has no curve: that needs every access.
            Assert.Equal(JsonValueKind.Null, j.GetProperty("predictedMissRatio").ValueKind);
        }
        finally { File.Delete(trace); }
    }

    [Fact]
    public async Task TextReportNamesHotLinesAndSaysTheCdf()
    {
        string trace = await RecordAsync("hotcold", ["2097152", "65536", "100000"], "--trace-level", "accesses", "--line", "64");
        try
        {
            var r = await EmulatorRunner.RunAsync("trace", "report", trace, "--top", "5");
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("90 % of accesses go to", r.StdoutText);
            Assert.Contains("miss-ratio curve", r.StdoutText);
            Assert.Contains("hottest lines", r.StdoutText);
            // The guest's stack and code are named by mapping and symbol.
            Assert.Matches(@"\[stack\]|main|\[heap\]", r.StdoutText);
        }
        finally { File.Delete(trace); }
    }

    [Fact]
    public async Task WholeProcessTreesAreTracedOneFilePerProcess()
    {
        string trace = TempFile("tree.trace");
        string dir = Path.GetDirectoryName(trace)!, name = Path.GetFileName(trace);
        try
        {
            var r = await EmulatorRunner.RunAsync("run", "--trace", trace, "/bin/sh", "-c", "echo lego | tr a-z A-Z; /bin/true");
            Assert.Equal(0, r.ExitCode);
            Assert.Equal("LEGO\n", r.StdoutText);
            var children = Directory.GetFiles(dir, name + ".*");
            Assert.True(children.Length >= 2, $"expected a trace per forked process, found {children.Length}");
            var programs = new List<string>();
            foreach (var f in children.Append(trace))
            {
                var j = await ReportJsonAsync(f);
                Assert.True(j.GetProperty("complete").GetBoolean(), f);
                programs.Add(j.GetProperty("header").GetProperty("program").GetString()!);
            }
            // Children that exec'd are reported under their new program.
            Assert.Contains(programs, p => p.EndsWith("/tr", StringComparison.Ordinal));
            Assert.Contains(programs, p => p.EndsWith("/true", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var f in Directory.GetFiles(dir, name + "*")) File.Delete(f);
        }
    }

    [Fact]
    public async Task BadInputGivesOneLineAndAnExitCode()
    {
        string notTrace = TempFile("not-a-trace");
        File.WriteAllText(notTrace, "hello, this is not a trace file at all\n");
        try
        {
            var r = await EmulatorRunner.RunAsync("trace", "report", notTrace);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("not a LegoEmu trace", r.StderrText);
            Assert.DoesNotContain("   at ", r.StderrText);

            var missing = await EmulatorRunner.RunAsync("trace", "report", notTrace + ".missing");
            Assert.Equal(1, missing.ExitCode);
            Assert.DoesNotContain("   at ", missing.StderrText);

            var badRate = await EmulatorRunner.RunAsync("run", "--trace", notTrace, "--trace-level", "accesses", "--trace-sample", "2", _guests.Binary("scan"));
            Assert.Equal(2, badRate.ExitCode);
            Assert.Contains("--trace-sample", badRate.StderrText);

            var badRange = await EmulatorRunner.RunAsync("trace", "report", notTrace, "--range", "zzz");
            Assert.Equal(2, badRange.ExitCode);
        }
        finally { File.Delete(notTrace); }
    }

    [Fact]
    public async Task TruncatedTraceIsReportedAsCutShortOrRejectedCleanly()
    {
        string trace = await RecordAsync("scan", ["1048576", "1"], "--trace-level", "accesses", "--line", "64");
        try
        {
            byte[] all = File.ReadAllBytes(trace);
            foreach (int keep in new[] { 10, 40, all.Length / 2, all.Length - 3 })
            {
                File.WriteAllBytes(trace, all[..keep]);
                var r = await EmulatorRunner.RunAsync("trace", "report", trace);
                Assert.DoesNotContain("   at ", r.StderrText);
                if (r.ExitCode == 0) Assert.Contains("cut short", r.StdoutText);
                else Assert.Equal(1, r.ExitCode);
            }
        }
        finally { File.Delete(trace); }
    }
}

/// <summary>Builds the trace guests once for the test class.</summary>
public sealed class TraceGuestsFixture
{
    public TraceGuests Guests { get; } = new();
}
