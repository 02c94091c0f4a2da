using System.Text.RegularExpressions;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>
/// <c>legoemu bench decode</c>: the emulator's block decoder walks the same instructions as Iced does over the same
/// bytes (its three rows count alike), and a file it cannot decode is one line and status 2.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed partial class BenchDecodeTests(GuestBuilds builds)
{
    [Fact]
    public async Task TheDecoderWalksWhatIcedWalks()
    {
        var r = await EmulatorRunner.RunAsync("bench", "decode", "--bytes", "64K", "--repeat", "1", builds.Binary("sieve"));
        Assert.True(r.ExitCode == 0, r.StderrTail());
        var rows = Row().Matches(r.StdoutText).Select(m => (Name: m.Groups[1].Value.Trim(), Count: long.Parse(m.Groups[2].Value.Replace(",", "")))).ToList();
        Assert.True(rows.Count == 3, $"expected three rows:\n{r.StdoutText}");
        Assert.True(rows[0].Count > 10_000, $"too few instructions decoded:\n{r.StdoutText}");
        Assert.All(rows, row => Assert.Equal(rows[2].Count, row.Count));
    }

    [Fact]
    public async Task AFileWithoutCodeIsOneLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"legoemu-decode-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "not a program\n");
        try
        {
            var r = await EmulatorRunner.RunAsync("bench", "decode", path);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("legoemu bench decode: ", r.StderrText);
            Assert.Single(r.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally { File.Delete(path); }
    }

    [GeneratedRegex(@"^(blocks, code lines[^\d]+|Iced alone[^\d]+)\s+([\d,]+)\s+[\d.]+\s*$", RegexOptions.Multiline)]
    private static partial Regex Row();
}
