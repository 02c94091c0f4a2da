using System.Buffers.Binary;
using System.Net.Sockets;
using LegoEmu.Mem.Remote;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// Components started with credentials serve only peers that prove they hold the same cluster key, before any
/// request; a peer without the key, or with another, is refused with one line. (The test process speaks the
/// protocol by hand: the credentials of its own process stay unset, as other tests' nodes have none.)
/// </summary>
[Collection(GuestCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class AuthenticationTests(GuestBuilds builds) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-auth-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    async Task<string> Init(string name)
    {
        string dir = Path.Combine(_dir, name);
        var r = await EmulatorRunner.RunAsync("cluster", "init", dir);
        Assert.Equal(0, r.ExitCode);
        return dir;
    }

    static byte[] Key(string dir) => Convert.FromHexString(File.ReadAllText(Path.Combine(dir, "cluster.key")).Trim());

    static byte[] Frame(Op op, Action<FrameWriter> body)
    {
        var w = new FrameWriter();
        w.Begin((byte)op, 1);
        body(w);
        return w.Finish().ToArray();
    }

    static byte[]? ReadFrame(Socket s)
    {
        var header = new byte[4];
        if (!ReadExact(s, header)) return null;
        var body = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header)];
        return ReadExact(s, body) ? body : null;
    }

    static bool ReadExact(Socket s, byte[] buf)
    {
        int got = 0;
        try
        {
            while (got < buf.Length)
            {
                int n = s.Receive(buf, got, buf.Length - got, SocketFlags.None);
                if (n == 0) return false;
                got += n;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { return false; }
        return true;
    }

    [Fact]
    public async Task ClusterInitWritesAKeyOnlyItsOwnerCanRead()
    {
        string dir = await Init("creds");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "cluster.key")));
        Assert.Equal(32, Key(dir).Length);
        var again = await EmulatorRunner.RunAsync("cluster", "init", dir);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("exists already", again.StderrText);

        File.SetUnixFileMode(Path.Combine(dir, "cluster.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var loose = await EmulatorRunner.RunAsync("memnode", "--credentials", dir, "--listen", $"unix:{Path.Combine(_dir, "n.sock")}");
        Assert.Equal(2, loose.ExitCode);
        Assert.Contains("can be read by others", Assert.Single(loose.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task ANodeServesNothingBeforeTheClientProvesTheKey()
    {
        string dir = await Init("node");
        using var node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "node.sock")}", extra: ["--credentials", dir]);
        Endpoint.TryParse(node.Endpoint, out var ep, out _);
        var key = Key(dir);

        // The node proves itself in its Hello reply, and then answers nothing but the client's proof.
        byte[] Greet(Socket s, byte[] clientNonce)
        {
            s.Send(Frame(Op.Hello, w => { w.U64(Protocol.Magic); w.U16(Protocol.Version); w.Bytes(clientNonce); }));
            var reply = ReadFrame(s)!;
            var r = new FrameReader(reply.AsSpan(5));
            r.U64(); r.U16();
            var nodeNonce = r.Bytes(16).ToArray();
            Assert.Equal(1, r.U8());
            Assert.True(Handshake.Verify(key, Handshake.NodeRole, clientNonce, nodeNonce, r.Bytes(32)), "the node's proof does not check out");
            return nodeNonce;
        }

        using (var stranger = ep!.NewSocket())
        {
            stranger.Connect(ep.Address);
            Greet(stranger, new byte[16]);
            stranger.Send(Frame(Op.Stats, _ => { }));
            Assert.Null(ReadFrame(stranger)); // closed without an answer
        }
        using (var forger = ep.NewSocket())
        {
            forger.Connect(ep.Address);
            var nonce = Handshake.NewNonce();
            var nodeNonce = Greet(forger, nonce);
            var wrongKey = Handshake.RandomBytes(32);
            forger.Send(Frame(Op.Authenticate, w => w.Bytes(Handshake.Proof(wrongKey, Handshake.ClientRole, nodeNonce, nonce))));
            Assert.Null(ReadFrame(forger));
        }
        using (var member = ep.NewSocket())
        {
            member.Connect(ep.Address);
            var nonce = Handshake.NewNonce();
            var nodeNonce = Greet(member, nonce);
            member.Send(Frame(Op.Authenticate, w => w.Bytes(Handshake.Proof(key, Handshake.ClientRole, nodeNonce, nonce))));
            Assert.NotNull(ReadFrame(member));
            member.Send(Frame(Op.Stats, _ => { }));
            Assert.Equal((byte)Op.Stats | Protocol.ReplyBit, ReadFrame(member)![0]);
        }
        Assert.True(node.LogContains("op 15 before authentication"), $"the node did not log the refused request:\n{node.Log}");
        Assert.True(node.LogContains("authentication failed"), $"the node did not log the failed proof:\n{node.Log}");
    }

    [Fact]
    public async Task RunNeedsTheNodesKey()
    {
        string dir = await Init("shared"), other = await Init("other");
        using var node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "shared.sock")}", extra: ["--credentials", dir]);
        string hello = builds.Binary("hello");

        var member = await EmulatorRunner.RunAsync("run", "--credentials", dir, "--memory-nodes", node.Endpoint, hello);
        Assert.Equal(0, member.ExitCode);
        Assert.StartsWith("Hello, LegoEmu!\n", member.StdoutText);

        var stranger = await EmulatorRunner.RunAsync("run", "--memory-nodes", node.Endpoint, hello);
        Assert.Equal(2, stranger.ExitCode);
        Assert.Contains("requires credentials", Assert.Single(stranger.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        var forger = await EmulatorRunner.RunAsync("run", "--credentials", other, "--memory-nodes", node.Endpoint, hello);
        Assert.Equal(2, forger.ExitCode);
        Assert.Contains("does not hold this cluster's key", Assert.Single(forger.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        // The environment variable does what --credentials does, for forked children too.
        var env = new Dictionary<string, string?> { ["LEGOEMU_CREDENTIALS"] = dir };
        var viaEnv = await EmulatorRunner.RunAsync(["run", "--memory-nodes", node.Endpoint, hello], env);
        Assert.Equal(0, viaEnv.ExitCode);
    }

    [Fact]
    public async Task AThreadHostServesOnlyAHomeWithTheKey()
    {
        string dir = await Init("hosts");
        using var node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "hn.sock")}", extra: ["--credentials", dir]);
        using var host = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "hp.sock")}", verb: "procnode", extra: ["--credentials", dir]);
        var stranger = await EmulatorRunner.RunAsync("run", "--processors", host.Endpoint, "--memory-nodes", node.Endpoint, builds.Binary("hello"));
        Assert.NotEqual(0, stranger.ExitCode);
        Assert.Contains("requires credentials", stranger.StderrText);
        Assert.False(host.HasExited, "the host ended on a stranger's connection");
        var member = await EmulatorRunner.RunAsync("run", "--credentials", dir, "--processors", host.Endpoint, "--memory-nodes", node.Endpoint, builds.Binary("hello"));
        Assert.Equal(0, member.ExitCode);
        Assert.StartsWith("Hello, LegoEmu!\n", member.StdoutText);
    }
}
