using System.Text.RegularExpressions;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>
/// What a user sees when something is wrong before the guest even starts: a shell-like
/// exit status (127 not found, 126 cannot execute) and one readable line, never a .NET
/// stack trace. In the guest collection because the truncated-ELF case cuts a real guest.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed partial class CliErrorTests(GuestBuilds builds) : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("legoemu-cli-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task MissingProgramExits127WithOneLine()
    {
        var path = Path.Combine(_scratch, "no-such-dir", "no-such-program");
        var result = await EmulatorRunner.RunAsync("run", path);

        Assert.True(result.ExitCode == 127, $"Expected exit 127 for a missing program. {Report(result)}");
        AssertOneLineError(result, mustContain: path);
    }

    [Fact]
    public async Task TextFileExits126WithOneLine()
    {
        var path = Path.Combine(_scratch, "notes.txt");
        // Deliberately no "#!": this is plain text, not a script.
        File.WriteAllText(path, "This is a text file, not an ELF executable.\nSecond line.\n");
        MakeExecutable(path);
        var result = await EmulatorRunner.RunAsync("run", path);

        Assert.True(result.ExitCode == 126, $"Expected exit 126 for a non-ELF file. {Report(result)}");
        AssertOneLineError(result, mustContain: path);
    }

    [Fact]
    public async Task TruncatedElfExits126WithOneLine()
    {
        // 40 bytes: a valid e_ident and the start of the header, but no program headers.
        var whole = File.ReadAllBytes(builds.Binary("hello"));
        var path = Path.Combine(_scratch, "truncated-hello");
        File.WriteAllBytes(path, whole[..40]);
        MakeExecutable(path);
        var result = await EmulatorRunner.RunAsync("run", path);

        Assert.True(result.ExitCode == 126, $"Expected exit 126 for a truncated ELF. {Report(result)}");
        AssertOneLineError(result, mustContain: path);
    }

    [Fact]
    public async Task UnknownOptionFailsWithoutStackTrace()
    {
        var result = await EmulatorRunner.RunAsync("run", "--bogus-option", "x");

        Assert.True(result.ExitCode != 0, $"An unknown option must fail. {Report(result)}");
        Assert.True(result.Stderr.Length > 0, $"An unknown option must be reported on stderr. {Report(result)}");
        Assert.Contains("--bogus-option", result.StderrText);
        AssertNoStackTrace(result);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("run --help")]
    public async Task HelpExitsZeroAndDescribesCacheOptions(string commandLine)
    {
        var result = await EmulatorRunner.RunAsync(commandLine.Split(' '));

        Assert.True(result.ExitCode == 0, $"Help must exit 0. {Report(result)}");
        Assert.True(result.StdoutText.Contains("--excache", StringComparison.Ordinal),
            $"Help should mention --excache. {Report(result)}");
        AssertNoStackTrace(result);
    }

    private static void AssertOneLineError(ProcessResult result, string mustContain)
    {
        AssertNoStackTrace(result);
        var lines = result.StderrText.TrimEnd('\n').Split('\n');
        Assert.True(result.Stderr.Length > 0 && lines.Length == 1,
            $"Expected exactly one line on stderr, got {(result.Stderr.Length == 0 ? 0 : lines.Length)}. {Report(result)}");
        Assert.True(lines[0].Contains(mustContain, StringComparison.Ordinal),
            $"The error should name the file {mustContain}. {Report(result)}");
    }

    private static void AssertNoStackTrace(ProcessResult result)
    {
        foreach (var text in new[] { result.StdoutText, result.StderrText })
        {
            Assert.False(StackFrame().IsMatch(text), $"Output contains a .NET stack trace. {Report(result)}");
            Assert.False(text.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase),
                $"Output reports an unhandled exception. {Report(result)}");
        }
    }

    private static string Report(ProcessResult result) =>
        $"{result}\n--- stdout ---\n{Truncate(result.StdoutText)}\n--- stderr ---\n{result.StderrTail()}";

    private static string Truncate(string s) => s.Length > 3000 ? s[..3000] + "…" : s;

    /// <summary>Executable, so the only thing wrong with the file is its content.</summary>
    private static void MakeExecutable(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                       UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                                       UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
    }

    /// <summary>The frame lines of a .NET exception dump: "   at Namespace.Type.Method(...)".</summary>
    [GeneratedRegex(@"^\s+at \S", RegexOptions.Multiline)]
    private static partial Regex StackFrame();
}
