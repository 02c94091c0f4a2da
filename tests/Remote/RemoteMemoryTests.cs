using System.Globalization;
using System.Text.RegularExpressions;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>Guest memory really lives in memory-node processes, and their failure or exhaustion is reported cleanly.</summary>
[Collection(GuestCollection.Name)]
public sealed partial class RemoteMemoryTests(GuestBuilds builds)
{
    [GeneratedRegex(@"emulator peak RSS\s+([0-9.]+) MiB")]
    private static partial Regex PeakRss();

    [GeneratedRegex(@"memory node \d+\s+(\S+): requests [0-9,]+, fills ([0-9,]+), write-backs ([0-9,]+), bytes sent ([0-9,]+) received ([0-9,]+)")]
    private static partial Regex NodeLine();

    static long Num(string s) => long.Parse(s.Replace(",", ""), CultureInfo.InvariantCulture);

    [Fact]
    public async Task A128MiBWorkingSetLivesInTheNodesNotInTheEmulator()
    {
        using var a = new MemoryNodeProcess();
        using var b = new MemoryNodeProcess();
        string guest = builds.Binary("bigmem");
        var native = await ProcessRunner.RunAsync(guest, ["128"], TimeSpan.FromSeconds(60));
        var run = await EmulatorRunner.RunAsync("run", "--memory-nodes", $"{a.Endpoint},{b.Endpoint}", "--excache", "256K", "--stats", guest, "128");
        Assert.True(run.ExitCode == 0, run.StderrTail());
        Assert.Equal(native.StdoutText, run.StdoutText);

        var rss = PeakRss().Match(run.StderrText);
        Assert.True(rss.Success, run.StderrTail());
        double peakMiB = double.Parse(rss.Groups[1].Value, CultureInfo.InvariantCulture);
        // The .NET runtime alone is ~45 MiB; the guest's 128 MiB must not be in this process.
        Assert.True(peakMiB < 96, $"emulator peak RSS {peakMiB} MiB: guest memory is not remote");

        var nodes = NodeLine().Matches(run.StderrText);
        Assert.Equal(2, nodes.Count);
        long sent = nodes.Sum(m => Num(m.Groups[4].Value)), received = nodes.Sum(m => Num(m.Groups[5].Value));
        long writeBacks = nodes.Sum(m => Num(m.Groups[3].Value)), fills = nodes.Sum(m => Num(m.Groups[2].Value));
        // Every written line leaves the 256 KiB cache once (write-back) and comes back once (fill) for the checksum pass.
        Assert.True(sent >= 128L << 20, $"only {sent} bytes went to the nodes");
        Assert.True(received >= 128L << 20, $"only {received} bytes came from the nodes");
        Assert.True(writeBacks >= 32768 && fills >= 32768, $"write-backs {writeBacks}, fills {fills}");
    }

    [Fact]
    public async Task AKilledNodeIsNamedAndTheGuestStops()
    {
        using var node = new MemoryNodeProcess();
        string guest = builds.Binary("bigmem");
        var run = EmulatorRunner.RunAsync("run", "--memory-nodes", node.Endpoint, "--excache", "256K", guest, "4096");
        await Task.Delay(1500);
        Assert.False(run.IsCompleted, "the guest finished before the node could be killed");
        node.Kill();
        var result = await run;
        Assert.Equal(128 + 7, result.ExitCode);
        Assert.Contains(node.Endpoint, result.StderrText);
        Assert.DoesNotContain("   at ", result.StderrText);
    }

    [Fact]
    public async Task SpawnedNodesLeaveNothingBehindWhenTheGuestCrashes()
    {
        string tmp = Directory.CreateTempSubdirectory("legoemu-test-").FullName;
        try
        {
            var result = await EmulatorRunner.RunAsync(
                ["run", "--memory-nodes", "2", "--excache", "64K", builds.Binary("fault_segv")],
                new Dictionary<string, string?> { ["TMPDIR"] = tmp });
            Assert.Equal(128 + 11, result.ExitCode);
            Assert.Empty(Directory.EnumerateFileSystemEntries(tmp));
            // No memnode process that used our private directory may survive.
            var survivors = Directory.EnumerateDirectories("/proc")
                .Select(d => Path.Combine(d, "cmdline"))
                .Where(f => { try { return File.ReadAllText(f).Contains(tmp); } catch (IOException) { return false; } catch (UnauthorizedAccessException) { return false; } })
                .ToList();
            Assert.Empty(survivors);
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }

    [Fact]
    public async Task AFullClusterFaultsTheGuestInsteadOfCrashing()
    {
        using var node = new MemoryNodeProcess(capacity: "4M");
        var result = await EmulatorRunner.RunAsync("run", "--memory-nodes", node.Endpoint, "--excache", "64K", builds.Binary("bigmem"), "64");
        Assert.Equal(128 + 11, result.ExitCode);
        Assert.Contains("no memory to back it", result.StderrText);
        Assert.DoesNotContain("   at ", result.StderrText);
        Assert.False(node.HasExited);
    }
}
