using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using LegoEmu.Mem.Remote;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// A memory node with credentials listening on TCP speaks only TLS with a certificate from its cluster's CA:
/// a member's guest runs over it, a plaintext client gets nothing, and a client of another cluster refuses the node.
/// </summary>
[Collection(GuestCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TlsTests(GuestBuilds builds) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    async Task<string> Init(string name)
    {
        string dir = Path.Combine(_dir, name);
        var r = await EmulatorRunner.RunAsync("cluster", "init", dir);
        Assert.Equal(0, r.ExitCode);
        return dir;
    }

    [Fact]
    public async Task ClusterInitWritesACaAndANodeCertificate()
    {
        string dir = await Init("certs");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "node.key")));
        using var ca = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dir, "ca.crt"));
        using var node = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dir, "node.crt"));
        Assert.Equal(ca.Subject, node.Issuer);
        Assert.Equal("CN=legoemu-node", node.Subject);
    }

    [Fact]
    public async Task AGuestRunsOverAnEncryptedNodeAndStrangersGetNothing()
    {
        string dir = await Init("cluster"), other = await Init("other");
        using var node = new MemoryNodeProcess("tcp:127.0.0.1:0", extra: ["--credentials", dir]);
        string bigmem = builds.Binary("bigmem");

        var member = await EmulatorRunner.RunAsync("run", "--credentials", dir, "--memory-nodes", node.Endpoint, "--excache", "64K", bigmem, "8");
        Assert.True(member.ExitCode == 0, member.StderrText);
        var native = await ProcessRunner.RunAsync(bigmem, ["8"], TimeSpan.FromSeconds(60));
        Assert.Equal(native.StdoutText, member.StdoutText);

        // A plaintext Hello is not TLS: the node closes without a byte of its protocol.
        Endpoint.TryParse(node.Endpoint, out var ep, out _);
        using (var plain = ep!.NewSocket())
        {
            plain.ReceiveTimeout = 30_000;
            plain.Connect(ep.Address);
            var w = new FrameWriter();
            w.Begin((byte)Op.Hello, 1);
            w.U64(Protocol.Magic);
            w.U16(Protocol.Version);
            w.Bytes(new byte[16]);
            plain.Send(w.Finish());
            var buf = new byte[64];
            int n;
            try { n = plain.Receive(buf); }
            catch (SocketException) { n = 0; }
            Assert.True(n == 0 || BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(9)) != Protocol.Magic, "the node answered in plaintext");
        }
        Assert.True(node.LogContains("TLS handshake failed"), node.Log);

        // Another cluster's client does not accept this node's certificate.
        var stranger = await EmulatorRunner.RunAsync("run", "--credentials", other, "--memory-nodes", node.Endpoint, bigmem, "1");
        Assert.Equal(2, stranger.ExitCode);
        Assert.Contains("TLS handshake failed", Assert.Single(stranger.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        // And the TLS link really carries the protocol: a client with the cluster's CA gets the node's Hello reply.
        using var s = ep.NewSocket();
        s.Connect(ep.Address);
        using var ssl = new SslStream(new NetworkStream(s), false, (_, cert, _, _) => cert != null);
        await ssl.AuthenticateAsClientAsync("legoemu-node");
        Assert.True(ssl.IsEncrypted && ssl.IsAuthenticated);
    }

    [Fact]
    public async Task ThreadsRunOnAThreadHostOverTls()
    {
        // The home's link to its thread host and every memory link over TCP with the cluster's credentials (TLS): the
        // coherent caches of home and host wait for replies and invalidations on TLS links.
        string dir = await Init("hosts");
        using var node = new MemoryNodeProcess("tcp:127.0.0.1:0", extra: ["--credentials", dir]);
        using var host = new MemoryNodeProcess("tcp:127.0.0.1:0", verb: "procnode", extra: ["--credentials", dir]);
        string binary = builds.Binary("threads");
        var native = await ProcessRunner.RunAsync(binary, [], TimeSpan.FromSeconds(60));
        var r = await EmulatorRunner.RunAsync("run", "--credentials", dir, "--memory-nodes", node.Endpoint, "--processors", host.Endpoint, "--excache", "64K", binary);
        Assert.True(r.ExitCode == native.ExitCode, $"exit {r.ExitCode}: {r.StderrText}");
        Assert.Equal(native.StdoutText, r.StdoutText);
    }

    /// <summary>
    /// Processes sharing memory over two memory nodes reached by TLS: the line directory's callback channels are TLS
    /// too, and a component polling its sockets for replies and invalidations must find every byte a TLS stream has
    /// not handed on still in a socket.
    /// </summary>
    [Fact]
    public async Task ProcessesShareMemoryOverEncryptedNodes()
    {
        string dir = await Init("shared");
        using var a = new MemoryNodeProcess("tcp:127.0.0.1:0", extra: ["--credentials", dir]);
        using var b = new MemoryNodeProcess("tcp:127.0.0.1:0", extra: ["--credentials", dir]);
        foreach (var guest in new[] { "shared_memory", "shared_exec" })
        {
            string binary = builds.Binary(guest);
            var native = await ProcessRunner.RunAsync(binary, [], TimeSpan.FromSeconds(60));
            var r = await EmulatorRunner.RunAsync("run", "--credentials", dir, "--memory-nodes", $"{a.Endpoint},{b.Endpoint}", "--excache", "64K", binary);
            Assert.True(r.ExitCode == native.ExitCode, $"{guest}: exit {r.ExitCode}: {r.StderrText}");
            Assert.Equal(native.StdoutText, r.StdoutText);
        }
    }

    [Fact]
    public async Task OnlyANodeWithCredentialsListensBeyondLoopback()
    {
        // Refused before binding: no address other than loopback is touched.
        foreach (var verb in new[] { "memnode", "procnode" })
        {
            var r = await EmulatorRunner.RunAsync(verb, "--listen", "tcp:0.0.0.0:0");
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("without --credentials", Assert.Single(r.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        }
    }
}
