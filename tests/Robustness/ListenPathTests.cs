using System.Net.Sockets;
using LegoEmu.Tests.Differential;
using LegoEmu.Tests.Remote;
using Xunit;

namespace LegoEmu.Tests.Robustness;

/// <summary><c>--listen unix:PATH</c> takes only what is its own: a stale socket, never a user's file or a live node's socket.</summary>
public sealed class ListenPathTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-listen-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static void AssertOneLine(ProcessResult r, string fragment)
    {
        string[] lines = r.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got: {r.StderrText}");
        Assert.Contains(fragment, lines[0]);
    }

    [Theory]
    [InlineData("memnode")]
    [InlineData("procnode")]
    public async Task ARegularFileIsRefusedAndKept(string verb)
    {
        string path = Path.Combine(_dir, "precious");
        File.WriteAllText(path, "keep me");
        var r = await EmulatorRunner.RunAsync(verb, "--listen", $"unix:{path}");
        Assert.Equal(1, r.ExitCode);
        AssertOneLine(r, "exists and is not a socket");
        Assert.Equal("keep me", File.ReadAllText(path));
    }

    [Fact]
    public async Task ATooLongPathIsOneLine()
    {
        string path = Path.Combine(_dir, new string('a', 120));
        var r = await EmulatorRunner.RunAsync("memnode", "--listen", $"unix:{path}");
        Assert.Equal(2, r.ExitCode);
        AssertOneLine(r, "longer than the limit of 107");
    }

    [Fact]
    public async Task ALiveNodesSocketIsNotTaken()
    {
        string path = Path.Combine(_dir, "live.sock");
        using var first = new MemoryNodeProcess($"unix:{path}");
        var r = await EmulatorRunner.RunAsync("memnode", "--listen", $"unix:{path}");
        Assert.Equal(1, r.ExitCode);
        AssertOneLine(r, "is in use");
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path)); // the first node still listens there
        Assert.False(first.HasExited);
    }

    [Fact]
    public void AStaleSocketIsReplaced()
    {
        string path = Path.Combine(_dir, "stale.sock");
        using (var killed = new MemoryNodeProcess($"unix:{path}")) killed.Kill(); // SIGKILL: the socket file stays
        Assert.True(File.Exists(path));
        using var node = new MemoryNodeProcess($"unix:{path}");
        Assert.Equal($"unix:{path}", node.Endpoint);
    }
}
