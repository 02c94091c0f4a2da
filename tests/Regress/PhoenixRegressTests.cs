using System.Xml.Linq;
using LegoEmu.Cluster.Regress;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Regress;

/// <summary>
/// `legoemu regress --suite phoenix` as CI runs it: every app identical to native in the embedded
/// configuration and over 2 memory nodes with a 25 % ExCache, with a JUnit report that parses.
/// and with its threads over 2 processor components (the three configurations CI runs).
/// </summary>
[Collection(PhoenixCollection.Name)]
public sealed class PhoenixRegressTests(PhoenixFixture phoenix) : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("legoemu-regress-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Theory]
    [InlineData("embedded")]
    [InlineData("remote")]
    [InlineData("split")]
    public async Task AllAppsMatchNative(string config)
    {
        _ = phoenix.Manifest; // build and generate first, so a gcc failure is reported as such
        var junit = Path.Combine(_scratch, "junit.xml");
        var result = await RunRegress(["regress", "--suite", "phoenix", "--size", PhoenixFixture.Size, "--config", config,
            "--work", PhoenixFixture.WorkDirectory, "--junit", junit]);
        Assert.True(result.ExitCode == 0, $"regress --config {config} failed (exit {result.ExitCode}):\n{result.StdoutText}\n{result.StderrTail()}");

        // The table on stdout: one passing row per app.
        foreach (var app in PhoenixSuite.Apps)
            Assert.Matches($@"(?m)^{app}\s+{config}\s+pass\s", result.StdoutText);
        // Progress went to stderr while it ran.
        Assert.Contains($"[{PhoenixSuite.Apps.Length}/{PhoenixSuite.Apps.Length}]", result.StderrText);

        var doc = XDocument.Load(junit);
        var suite = doc.Root!.Element("testsuite")!;
        Assert.Equal($"phoenix-{PhoenixFixture.Size}", suite.Attribute("name")!.Value);
        Assert.Equal(PhoenixSuite.Apps.Length.ToString(), suite.Attribute("tests")!.Value);
        Assert.Equal("0", suite.Attribute("failures")!.Value);
        Assert.Equal("0", suite.Attribute("errors")!.Value);
        var names = suite.Elements("testcase").Select(e => e.Attribute("name")!.Value).Order(StringComparer.Ordinal);
        Assert.Equal(PhoenixSuite.Apps.Order(StringComparer.Ordinal), names);
        Assert.All(suite.Elements("testcase"), e => Assert.Equal($"phoenix-{PhoenixFixture.Size}.{config}", e.Attribute("classname")!.Value));
        if (config != "embedded")
        {
            // The remote rows ran with a cache smaller than the footprint, so they must show some misses.
            Assert.All(suite.Elements("testcase"), e => Assert.Matches(@"miss ratio [0-9.]+ %", e.Element("system-out")!.Value));
        }
    }

    /// <summary>The sweep on one app: every point compared with native, and the LegoOS-style table printed.</summary>
    [Fact]
    public async Task SweepPrintsSlowdownPerFraction()
    {
        _ = phoenix.Manifest;
        var result = await RunRegress(["regress", "--suite", "phoenix", "--size", PhoenixFixture.Size, "--cases", "histogram",
            "--sweep-excache", "25%,100%", "--work", PhoenixFixture.WorkDirectory]);
        Assert.True(result.ExitCode == 0, $"sweep failed (exit {result.ExitCode}):\n{result.StdoutText}\n{result.StderrTail()}");
        // Each fraction runs without prefetch (LegoOS's miss path) and with the default one; every run is compared.
        foreach (var point in new[] { "25%-prefetch-off", "25%-prefetch-on", "100%-prefetch-off", "100%-prefetch-on" })
            Assert.Matches($@"(?m)^histogram\s+sweep-{point}\s+pass\s", result.StdoutText);
        Assert.Matches(@"(?m)^case\s+footprint\s+native s\s+local s\s+25% off\s+25% on\s+100% off\s+100% on$", result.StdoutText);
        Assert.Matches(@"(?m)^histogram\s+[0-9.]+ MiB\s+[0-9.]+\s+[0-9.]+(\s+[0-9.]+x){4}$", result.StdoutText);
        // The detail rows carry what explains a slow point: the mean miss, the write-backs, and what became of the prefetched lines.
        Assert.Matches(@"(?m)^case\s+ExCache\s+of footprint\s+prefetch\s+time s\s+vs local\s+vs largest\s+misses\s+miss ratio\s+miss us\s+write-backs\s+prefetch used\s+late\s+wasted$", result.StdoutText);
        Assert.Matches(@"(?m)^histogram\s+\S+ \S+\s+[0-9.]+ %\s+on\s+[0-9.]+\s+[0-9.]+x\s+[0-9.]+x\s+[0-9,]+\s+[0-9.]+ %\s+[0-9.]+\s+[0-9,]+\s+[0-9,]+\s+[0-9,]+\s+[0-9,]+$", result.StdoutText);
    }

    /// <summary>Small inputs fit the usual per-run limit; medium and large ones get hours.</summary>
    private static async Task<ProcessResult> RunRegress(string[] args)
    {
        if (PhoenixFixture.Size == "small") return await EmulatorRunner.RunAsync(args);
        var (file, prefix) = EmulatorRunner.Command;
        return await ProcessRunner.RunAsync(file, prefix.Concat(args), TimeSpan.FromHours(4));
    }
}
