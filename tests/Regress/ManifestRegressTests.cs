using System.Xml.Linq;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Regress;

/// <summary>
/// `legoemu regress --manifest` on a tiny suite of host programs: passing cases, a case that must
/// mismatch (a PID differs between any two processes), the same case made to pass by a filter,
/// compared output files, and malformed manifests that must give one clear line and exit 2.
/// </summary>
public sealed class ManifestRegressTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("legoemu-manifest-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private Task<ProcessResult> Regress(string manifest, params string[] more) =>
        EmulatorRunner.RunAsync(new[] { "regress", "--manifest", manifest, "--work", Path.Combine(_dir, "work") }.Concat(more));

    [Fact]
    public async Task MismatchMakesRegressFailAndFiltersAndOutputFilesWork()
    {
        Write("in.txt", "pear\napple\nfig\n");
        var manifest = Write("suite.json", """
        {
          "suite": "tiny",
          "cases": [
            { "name": "echo", "command": ["/bin/echo", "hello", "world"] },
            { "name": "pid", "command": "echo pid $$" },
            { "name": "pid-filtered", "command": "echo pid $$; echo elapsed 0.$$ s",
              "filter": { "dropLines": ["^elapsed "], "replace": [ { "pattern": "[0-9]+", "with": "N" } ] } },
            { "name": "sort-file", "command": ["sort", "-o", "out.txt", "in.txt"], "files": ["in.txt"], "outputs": ["out.txt"] },
            { "name": "exit-status", "command": "exit 3" },
            { "name": "pwd", "command": ["/bin/pwd"] }
          ]
        }
        """);
        var junit = Path.Combine(_dir, "junit.xml");
        var result = await Regress(manifest, "--junit", junit);

        Assert.True(result.ExitCode == 1, $"A mismatching case must make regress exit 1, got {result.ExitCode}:\n{result.StdoutText}\n{result.StderrTail()}");
        Assert.Matches(@"(?m)^echo\s+embedded\s+pass\s", result.StdoutText);
        Assert.Matches(@"(?m)^pid\s+embedded\s+MISMATCH\s", result.StdoutText);
        Assert.Matches(@"(?m)^pid-filtered\s+embedded\s+pass\s", result.StdoutText);
        Assert.Matches(@"(?m)^sort-file\s+embedded\s+pass\s", result.StdoutText);
        Assert.Matches(@"(?m)^exit-status\s+embedded\s+pass\s", result.StdoutText);
        // Native and emulated runs of a case share one working directory path.
        Assert.Matches(@"(?m)^pwd\s+embedded\s+pass\s", result.StdoutText);
        Assert.Contains("tiny: 5 passed, 1 mismatched, 0 errors", result.StdoutText);
        Assert.Contains("stdout differs at line 1", result.StderrText);

        var suite = XDocument.Load(junit).Root!.Element("testsuite")!;
        Assert.Equal("6", suite.Attribute("tests")!.Value);
        Assert.Equal("1", suite.Attribute("failures")!.Value);
        var failed = suite.Elements("testcase").Where(e => e.Element("failure") != null).Select(e => e.Attribute("name")!.Value);
        Assert.Equal(["pid"], failed);
    }

    /// <summary>Real third-party programs (coreutils, gzip, sqlite3, python3, a shell pipeline) through a checked-in manifest.</summary>
    [Fact]
    public async Task HostToolsManifestPasses()
    {
        var manifest = Path.Combine(AppContext.BaseDirectory, "regress", "host-tools.json");
        Assert.True(File.Exists(manifest), $"{manifest} was not copied to the test output");
        var result = await Regress(manifest);
        Assert.True(result.ExitCode == 0, $"host-tools suite failed (exit {result.ExitCode}):\n{result.StdoutText}\n{result.StderrTail()}");
        Assert.Contains("host-tools: 7 passed, 0 mismatched, 0 errors", result.StdoutText);
    }

    /// <summary>
    /// CPython's regression-test modules (Debian's libpython3.11-testsuite) match native test by test: a quick set in
    /// every run; with LEGOEMU_CPYTHON_LONG=1 the long manifest instead, which takes many minutes.
    /// </summary>
    [Fact]
    public async Task CPythonRegressionModulesMatchNative()
    {
        Assert.True(File.Exists("/usr/lib/python3.11/test/test_bisect.py"),
            "CPython's regression tests are missing: install Debian's libpython3.11-testsuite (.ci/run does)");
        bool longRun = Environment.GetEnvironmentVariable("LEGOEMU_CPYTHON_LONG") == "1";
        string suite = longRun ? "cpython-long" : "cpython";
        var manifest = Path.Combine(AppContext.BaseDirectory, "regress", suite + ".json");
        Assert.True(File.Exists(manifest), $"{manifest} was not copied to the test output");
        // Each module runs natively and emulated, one after the other: minutes, not the default per-run limit.
        var (fileName, prefix) = EmulatorRunner.Command;
        var limit = longRun ? TimeSpan.FromHours(3) : TimeSpan.FromMinutes(8); // stretched by the load (ProcessRunner)
        var result = await ProcessRunner.RunAsync(fileName,
            prefix.Concat(new[] { "regress", "--manifest", manifest, "--work", Path.Combine(_dir, "work") }), limit);
        Assert.True(result.ExitCode == 0, $"{suite} suite failed (exit {result.ExitCode}):\n{result.StdoutText}\n{result.StderrTail()}");
        Assert.Matches($@"(?m)^{suite}: [1-9][0-9]* passed, 0 mismatched, 0 errors", result.StdoutText);
    }

    [Fact]
    public async Task OutputFileDifferenceIsAMismatch()
    {
        // The file's content is the PID: it differs between the two runs while stdout does not.
        var manifest = Write("suite.json", """
        { "cases": [ { "name": "pid-file", "command": "echo $$ > out.txt; echo done", "outputs": ["out.txt"] } ] }
        """);
        var result = await Regress(manifest);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("output file out.txt differs", result.StderrText);
    }

    [Theory]
    [InlineData("{ \"cases\": [ { \"name\": \"a\", \"command\": [\"/bin/true\"] ", "not valid JSON")]
    [InlineData("{ \"cases\": [ { \"name\": \"a\", \"comand\": [\"/bin/true\"] } ] }", "unknown key \"comand\"")]
    [InlineData("{ \"cases\": [ { \"name\": \"a\" } ] }", "case \"a\" has no \"command\"")]
    [InlineData("{ \"cases\": [] }", "\"cases\" must be a non-empty array")]
    [InlineData("{ \"cases\": [ { \"name\": \"a\", \"command\": [\"/bin/true\"], \"files\": [\"missing.txt\"] } ] }", "does not exist")]
    [InlineData("{ \"cases\": [ { \"name\": \"a\", \"command\": [\"/bin/true\"], \"filter\": { \"dropLines\": [\"(\"] } } ] }", "bad regular expression")]
    public async Task MalformedManifestGivesOneClearLine(string json, string expected)
    {
        var manifest = Write("bad.json", json);
        var result = await Regress(manifest);
        Assert.True(result.ExitCode == 2, $"Expected exit 2 for a bad manifest, got {result.ExitCode}:\n{result.StderrText}");
        var lines = result.StderrText.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 1, $"Expected one line on stderr:\n{result.StderrText}");
        Assert.StartsWith("legoemu: ", lines[0]);
        Assert.Contains(manifest, lines[0]);
        Assert.Contains(expected, lines[0]);
    }

    [Fact]
    public async Task MissingManifestAndConflictingOptionsAreClear()
    {
        var missing = await Regress(Path.Combine(_dir, "nope.json"));
        Assert.Equal(2, missing.ExitCode);
        Assert.StartsWith("legoemu: ", missing.StderrText);
        Assert.DoesNotContain("   at ", missing.StderrText);

        var both = await EmulatorRunner.RunAsync("regress", "--suite", "phoenix", "--manifest", "x.json");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("exactly one of --suite phoenix and --manifest", both.StderrText);
    }
}
