using System.Text.Json;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// One record per access: a 16-byte load inside a line is one record and one counted access; a load that
/// crosses into the next line is two of each. Over a whole trace the data records equal the guest's
/// access counter exactly, in the interpreter and in translated code.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class TraceExactnessTests(TraceGuestsFixture fixture) : IClassFixture<TraceGuestsFixture>
{
    const long Wide = 30000, Split = 700;

    [Theory]
    [InlineData("--tier", "interp")]
    [InlineData("--translate-threshold", "0")]
    [InlineData("--translate-threshold", "10000")]
    public Task WideLoadsAreOneRecordAndSplitLoadsTwo(string option, string value) => TraceAndCount(option, value);

    /// <summary>
    /// The same over memory-node processes with a small ExCache, with the default miss path (stride prefetch, queued
    /// write-backs) and LegoOS's (neither): prefetch fills are records of their own kind, never counted as accesses.
    /// </summary>
    [Theory]
    [InlineData("stride", "queued")]
    [InlineData("off", "combined")]
    public Task OverMemoryNodesTheRecordsStillMatchTheAccesses(string prefetch, string writeBack) =>
        TraceAndCount("--memory-nodes", "2", "--excache", "64K", "--prefetch", prefetch, "--write-back", writeBack);

    async Task TraceAndCount(params string[] options)
    {
        string bin = fixture.Guests.Binary("wide");
        string[] args = ["65536", Wide.ToString(), Split.ToString()];
        string expected = await TraceGuests.NativeAsync(bin, args);
        string trace = Path.Combine(Path.GetTempPath(), $"legoemu-test-{Environment.ProcessId}-{Guid.NewGuid():N}-wide.trace");
        try
        {
            var r = await EmulatorRunner.RunAsync(["run", "--trace", trace, "--trace-level", "accesses", "--line", "64", .. options, bin, .. args]);
            Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
            Assert.Equal(expected, r.StdoutText);
            var region = await ReportAsync(trace, "--range", "0x200000000:+64K");
            Assert.Equal(Wide + 2 * Split, region.GetProperty("reads").GetInt64());
            var all = await ReportAsync(trace);
            Assert.True(all.GetProperty("complete").GetBoolean());
            Assert.Equal(all.GetProperty("guestAccesses").GetInt64(), all.GetProperty("reads").GetInt64() + all.GetProperty("writes").GetInt64());
        }
        finally { File.Delete(trace); }
    }

    static async Task<JsonElement> ReportAsync(string trace, params string[] options)
    {
        var r = await EmulatorRunner.RunAsync(["trace", "report", trace, "--json", .. options]);
        Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
        return JsonDocument.Parse(r.StdoutText).RootElement;
    }
}
