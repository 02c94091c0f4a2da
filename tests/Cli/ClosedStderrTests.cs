using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>
/// Guests close their standard descriptors at exit (coreutils do); the emulator's own reports
/// (--stats, fatal-signal lines) still reach the stderr it was started with, on one and on several
/// processor components.
/// </summary>
public class ClosedStderrTests
{
    const string Source = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <unistd.h>
        int main(int argc, char **argv)
        {
            puts("before");
            fflush(stdout);
            close(1);
            close(2);
            if (argc > 1) abort();
            return 3;
        }
        """;

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public async Task StatsAreReportedAfterTheGuestClosedItsStderr(string processors)
    {
        using var guest = await InlineGuest.BuildAsync("closes-stderr", Source);
        var r = await EmulatorRunner.RunAsync("run", "--processors", processors, "--stats", guest.Binary);
        Assert.Equal(3, r.ExitCode);
        Assert.Equal("before\n", r.StdoutText);
        Assert.Contains("legoemu: --- stats ---", r.StderrText);
        Assert.DoesNotContain("internal error", r.StderrText);
        Assert.DoesNotContain("   at ", r.StderrText);
    }

    [Fact]
    public async Task AFatalSignalIsReportedAfterTheGuestClosedItsStderr()
    {
        using var guest = await InlineGuest.BuildAsync("closes-stderr", Source);
        var r = await EmulatorRunner.RunAsync("run", guest.Binary, "abort");
        Assert.Equal(128 + 6, r.ExitCode);
        Assert.Contains("legoemu: guest terminated by SIGABRT", r.StderrText);
    }
}
