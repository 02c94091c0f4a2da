using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>
/// `legoemu run --stats prog 2> file`: the emulator's report goes through a duplicate of the inherited
/// descriptor, so it lands after what the guest wrote there and the file keeps both, in order. The guest's
/// part is compared with the same program's stderr file from a native run.
/// </summary>
public class StatsIntoStderrFileTests
{
    const string Source = """
        #include <stdio.h>
        int main(void)
        {
            for (int i = 0; i < 40; i++) fprintf(stderr, "guest line %d of the stderr file\n", i);
            puts("stdout text");
            return 0;
        }
        """;

    [Theory]
    [InlineData("--stats")]
    [InlineData("--strace")]
    public async Task TheGuestsStderrTextSurvivesTheReport(string report)
    {
        using var guest = await InlineGuest.BuildAsync("stderr-file", Source);
        string dir = Path.GetDirectoryName(guest.Binary)!;
        string native = Path.Combine(dir, "native.err"), emulated = Path.Combine(dir, "emulated.err");
        // sh does the redirection, as a user's shell would: a regular file, opened once, offset shared.
        const string Redirect = "f=$1; shift; exec \"$@\" 2>\"$f\"";
        var n = await ProcessRunner.RunAsync("sh", ["-c", Redirect, "sh", native, guest.Binary], EmulatorRunner.RunTimeout);
        Assert.Equal(0, n.ExitCode);
        var (host, prefix) = EmulatorRunner.Command;
        var e = await ProcessRunner.RunAsync("sh", ["-c", Redirect, "sh", emulated, host, .. prefix, "run", report, guest.Binary], EmulatorRunner.RunTimeout);
        Assert.False(e.TimedOut);
        Assert.Equal(0, e.ExitCode);
        Assert.Equal(n.StdoutText, e.StdoutText);
        string guestText = File.ReadAllText(native);
        Assert.Contains("guest line 39", guestText);
        string both = File.ReadAllText(emulated);
        string marker = report == "--stats" ? "legoemu: --- stats ---" : "write(2, \"guest line 0";
        Assert.Contains(marker, both);
        // Every guest line is there exactly as natively, in order, with nothing of the guest overwritten.
        var guestLines = both.Split('\n').Where(l => l.StartsWith("guest line ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(guestText.TrimEnd('\n').Split('\n'), guestLines);
        if (report == "--stats") Assert.StartsWith(guestText, both);
    }
}
