using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// <c>memnode --connection-memory SIZE</c> bounds the frames one client's address spaces may hold: a guest that
/// writes more than that faults as on a full node, and the node goes on serving the others.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class ConnectionMemoryTests(GuestBuilds builds) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-quota-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AClientBeyondItsShareFaultsAndOthersGoOn()
    {
        using var node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "n.sock")}", extra: ["--connection-memory", "6M"]);
        string bigmem = builds.Binary("bigmem");
        // 16 MiB written through a 64 KiB cache: every line goes to the node, and the share runs out on the way.
        var greedy = await EmulatorRunner.RunAsync("run", "--memory-nodes", node.Endpoint, "--excache", "64K", bigmem, "16");
        Assert.Equal(139, greedy.ExitCode);
        Assert.Contains("SIGSEGV", greedy.StderrText);
        Assert.DoesNotContain("   at ", greedy.StderrText);
        // Within the share: served as usual, by the same node.
        var modest = await EmulatorRunner.RunAsync("run", "--memory-nodes", node.Endpoint, "--excache", "64K", bigmem, "2");
        Assert.Equal(0, modest.ExitCode);
        var native = await ProcessRunner.RunAsync(bigmem, ["2"], TimeSpan.FromSeconds(60));
        Assert.Equal(native.StdoutText, modest.StdoutText);
        Assert.False(node.HasExited);
    }

    [Fact]
    public async Task ASizeBelowAPageIsRefused()
    {
        var r = await EmulatorRunner.RunAsync("memnode", "--listen", $"unix:{Path.Combine(_dir, "bad.sock")}", "--connection-memory", "100");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("legoemu memnode: bad --connection-memory '100': a size of at least 4K", r.StderrText.Trim());
    }
}
