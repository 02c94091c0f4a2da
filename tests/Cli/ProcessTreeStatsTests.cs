using System.Text.RegularExpressions;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>
/// <c>run --stats</c> of a process tree: every forked process prints its own report at its exit, each line labelled with
/// its pid, and the process <c>legoemu</c> started keeps the unlabelled report, printed last.
/// </summary>
public class ProcessTreeStatsTests
{
    [Fact]
    public async Task EveryProcessOfTheTreeReportsItsOwnCounters()
    {
        var r = await EmulatorRunner.RunAsync("run", "--stats", "/bin/sh", "-c", "/bin/true; exit 3");
        Assert.Equal(3, r.ExitCode);
        string err = r.StderrText;
        var child = Regex.Matches(err, @"^legoemu\[(\d+)\]: --- stats of a forked process: /bin/true ---$", RegexOptions.Multiline);
        Assert.Single(child);
        string pid = child[0].Groups[1].Value;
        Assert.Matches(new Regex($@"^legoemu\[{pid}\]: guest instructions   [1-9][0-9,]* in ", RegexOptions.Multiline), err);
        Assert.Matches(new Regex($@"^legoemu\[{pid}\]: CPU time             [0-9.]+ s on the guest's thread, [0-9.]+ s by this processor component in all .*; execve [0-9.]+ s$", RegexOptions.Multiline), err);
        // The root's report is the only unlabelled one, and comes after its child's.
        Assert.Single(Regex.Matches(err, "^legoemu: --- stats ---$", RegexOptions.Multiline));
        Assert.Single(Regex.Matches(err, "^legoemu: guest instructions ", RegexOptions.Multiline));
        Assert.True(err.IndexOf("legoemu: --- stats ---", StringComparison.Ordinal) > child[0].Index);
        Assert.DoesNotContain("   at ", err);
    }
}
