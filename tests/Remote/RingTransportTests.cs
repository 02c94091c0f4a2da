using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using LegoEmu.Mem.Remote;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// The shared-memory ring beside a Unix socket (the default there): guests over it match their native runs, with one
/// component and with threads over several; a node that dies or freezes under it ends the guest as it does over the
/// plain socket, with the same line; and a peer that breaks the ring or sends a malformed frame through it loses its
/// connection with a line in the node's log, while the node serves everyone else.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class RingTransportTests(GuestBuilds builds) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-ring-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static Dictionary<string, string?> Env(string transport)
    {
        var env = new Dictionary<string, string?>(Guests.Environment) { [RingTransport.Variable] = transport == "ring" ? null : "off" };
        return env;
    }

    [Theory]
    [InlineData("bigmem", "ring")]
    [InlineData("bigmem", "unix")]
    [InlineData("malloc_stress", "ring")]
    [InlineData("fork_workers", "ring")]
    public async Task AGuestOverSpawnedNodesMatchesNative(string guest, string transport)
    {
        var spec = Guests.Get(guest);
        var native = await builds.NativeRunAsync(spec);
        Assert.True(!native.TimedOut && native.ExitCode == spec.ExpectedExitCode, $"The native run is not a usable reference: {native}");
        var run = await EmulatorRunner.RunAsync(
            new[] { "run", "--stats", "--memory-nodes", "2", "--excache", "64K" }.Concat(spec.RunOptions).Append(builds.Binary(guest)).Concat(spec.Arguments),
            Env(transport), Guests.EnvironmentPrefixToClear);
        StaticGuestTests.AssertSameOutput("emulated stdout", "native stdout", native.Stdout, run.Stdout, run, $"exit status: native {native.ExitCode}, emulated {run.ExitCode}");
        Assert.True(run.ExitCode == native.ExitCode, $"exit status: native {native.ExitCode}, emulated {run.ExitCode}\n{run.StderrTail()}");
        // The frames really took that way: --stats says how each node was reached.
        Assert.Matches($@"memory node 0 .*, over {transport}\n", run.StderrText);
        Assert.Matches($@"memory node 1 .*, over {transport}\n", run.StderrText);
    }

    [Theory]
    [InlineData("threads")]
    [InlineData("atomics")]
    public async Task ThreadsOverTwoComponentsMatchNativeOverRings(string guest)
    {
        var spec = Guests.Get(guest);
        var native = await builds.NativeRunAsync(spec);
        Assert.True(!native.TimedOut && native.ExitCode == spec.ExpectedExitCode, $"The native run is not a usable reference: {native}");
        var run = await EmulatorRunner.RunAsync(
            new[] { "run", "--stats", "--processors", "2", "--memory-nodes", "2", "--excache", "64K" }.Concat(spec.RunOptions).Append(builds.Binary(guest)).Concat(spec.Arguments),
            Env("ring"), Guests.EnvironmentPrefixToClear);
        StaticGuestTests.AssertSameOutput("emulated stdout", "native stdout", native.Stdout, run.Stdout, run, $"exit status: native {native.ExitCode}, emulated {run.ExitCode}");
        Assert.True(run.ExitCode == native.ExitCode, $"exit status: native {native.ExitCode}, emulated {run.ExitCode}\n{run.StderrTail()}");
        Assert.Matches(@"thread \d+ +ran on component [1-9]", run.StderrText);
        Assert.Matches(@"memory node 0 .*, over ring\n", run.StderrText);
    }

    const string TouchSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        /* Says it is ready, waits for a line, then writes 64 MiB over and over: every line of it goes to the memory
           node. It says so after the first round, and only a failure ends it. */
        int main(void) {
            printf("ready\n");
            fflush(stdout);
            char line[8];
            if (!fgets(line, sizeof line, stdin)) return 2;
            size_t n = 64 << 20;
            char *p = malloc(n);
            for (int round = 0;; round++) {
                memset(p, round, n);
                if (round == 0) {
                    printf("touching\n");
                    fflush(stdout);
                }
            }
        }
        """;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    static extern int Kill(int pid, int sig);

    /// <summary>
    /// A node killed (SIGKILL) or frozen (SIGSTOP) while the guest streams through it: status 135 and one line naming
    /// the node, the same line over the ring as over the socket.
    /// </summary>
    [Theory]
    [InlineData("ring", 9)]
    [InlineData("unix", 9)]
    [InlineData("ring", 19)]
    [InlineData("unix", 19)]
    public async Task ANodeThatDiesOrFreezesEndsTheGuestAlike(string transport, int signal)
    {
        using var guest = await InlineGuest.BuildAsync("ringtouch", TouchSource);
        using var node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, $"node-{transport}-{signal}.sock")}");
        var (file, prefix) = EmulatorRunner.Command;
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(["run", "--memory-nodes", node.Endpoint, "--node-timeout", "2", "--excache", "64K", guest.Binary])) psi.ArgumentList.Add(a);
        if (transport != "ring") psi.Environment[RingTransport.Variable] = "off";
        else psi.Environment.Remove(RingTransport.Variable);
        using var run = Process.Start(psi)!;
        var stderr = run.StandardError.ReadToEndAsync();
        try
        {
            var ready = await run.StandardOutput.ReadLineAsync().WaitAsync(EmulatorRunner.RunTimeout);
            Assert.Equal("ready", ready);
            run.StandardInput.WriteLine("go");
            run.StandardInput.Close();
            // The node dies under a stream of fills and write-backs.
            Assert.Equal("touching", await run.StandardOutput.ReadLineAsync().WaitAsync(EmulatorRunner.RunTimeout));
            Assert.Equal(0, Kill(node.Pid, signal));
            Assert.True(run.WaitForExit(EmulatorRunner.RunTimeout), "the guest hung on the failed node");
            Assert.Equal(135, run.ExitCode);
            var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.DoesNotContain("   at ", line);
            string expected = signal == 9 ? $"memory node {node.Endpoint} (node 0) closed the connection" : $"memory node {node.Endpoint} (node 0) did not answer within 2 s (--node-timeout)";
            Assert.True(line.Contains(expected) || (signal == 9 && line.Contains($"memory node {node.Endpoint} (node 0) failed:")), $"not the failed node's line: {line}");
        }
        finally
        {
            // SIGCONT, so a frozen node can be stopped normally; never to a killed one, whose PID another test's process may
            // have taken by now (a stray SIGCONT wakes another test's frozen node).
            if (signal == 19 && !node.HasExited) Kill(node.Pid, 18);
            if (!run.HasExited) run.Kill();
        }
    }

    // ---- a hostile or broken peer on the ring ----

    static Socket Hello(string endpoint)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 20_000 };
        s.Connect(new UnixDomainSocketEndPoint(endpoint["unix:".Length..]));
        var w = new FrameWriter();
        w.Begin((byte)Op.Hello, 1);
        w.U64(Protocol.Magic);
        w.U16(Protocol.Version);
        w.Bytes(new byte[16]);
        s.Send(w.Finish());
        var header = new byte[4];
        Exactly(s, header);
        var body = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header)];
        Exactly(s, body);
        Assert.Equal((byte)Op.Hello | Protocol.ReplyBit, body[0]);
        return s;
    }

    static void Exactly(Socket s, byte[] buf)
    {
        int got = 0;
        while (got < buf.Length)
        {
            int r = s.Receive(buf, got, buf.Length - got, SocketFlags.None);
            if (r == 0) throw new IOException("closed");
            got += r;
        }
    }

    static byte[] ReadReply(RingLink ring)
    {
        var header = new byte[4];
        Fill(ring, header);
        var body = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header)];
        Fill(ring, body);
        return body;
    }

    static void Fill(RingLink ring, Span<byte> buf)
    {
        while (buf.Length > 0)
        {
            int n = ring.Receive(buf, 20_000);
            if (n == 0) throw new IOException("closed");
            buf = buf[n..];
        }
    }

    static byte[] Frame(Op op, uint id, Action<FrameWriter> body)
    {
        var w = new FrameWriter();
        w.Begin((byte)op, id);
        body(w);
        return w.Finish().ToArray();
    }

    /// <summary>The node closed the ring's connection: a read sees its end (a node that went on would leave it waiting).</summary>
    static void AssertClosed(RingLink ring)
    {
        var buf = new byte[64];
        Assert.Equal(0, ring.Receive(buf, 20_000));
    }

    void AssertServed(string endpoint)
    {
        using var s = Hello(endpoint);
        using var ring = RingLink.Request(s, RingTransport.MinCapacity, 20_000);
        Assert.NotNull(ring);
        ring.Send(Frame(Op.Stats, 2, _ => { }), 20_000);
        Assert.Equal((byte)Op.Stats | Protocol.ReplyBit, ReadReply(ring)[0]);
    }

    [Fact]
    public void AMalformedFrameOnTheRingClosesOnlyThatConnection()
    {
        using var node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "hostile.sock")}");
        using (var s = Hello(node.Endpoint))
        using (var ring = RingLink.Request(s, RingTransport.MinCapacity, 20_000))
        {
            Assert.NotNull(ring);
            var frame = Frame(Op.Stats, 2, _ => { });
            BinaryPrimitives.WriteUInt32LittleEndian(frame, 2); // shorter than any frame's header
            ring.Send(frame, 20_000);
            AssertClosed(ring);
        }
        Assert.True(node.LogContains("frame length 2 out of range"), node.Log);
        using (var s = Hello(node.Endpoint))
        using (var ring = RingLink.Request(s, RingTransport.MinCapacity, 20_000))
        {
            ring!.Send(Frame((Op)250, 2, _ => { }), 20_000);
            AssertClosed(ring);
        }
        Assert.True(node.LogContains("unknown op 250"), node.Log);
        AssertServed(node.Endpoint);
        Assert.DoesNotContain("   at ", node.Log);
        Assert.DoesNotContain("internal error", node.Log);
        Assert.False(node.HasExited);
    }

    [Fact]
    public void ACounterOutOfBoundsClosesTheConnectionWithALine()
    {
        using var node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "scribble.sock")}");
        using (var s = Hello(node.Endpoint))
        using (var ring = RingLink.Request(s, RingTransport.MinCapacity, 20_000))
        {
            Assert.NotNull(ring);
            ring.ScribbleOutgoingHead(1L << 40);
            AssertClosed(ring);
        }
        Assert.True(node.LogContains("the ring's head (1099511627776) is out of bounds"), node.Log);
        AssertServed(node.Endpoint);
        Assert.DoesNotContain("   at ", node.Log);
        Assert.False(node.HasExited);
    }

    /// <summary>A ring of one page: frames far larger than it (a 1 MiB poke, a batch of fills) stream through it whole.</summary>
    [Fact]
    public void FramesLargerThanTheRingStreamThroughIt()
    {
        using var node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "small.sock")}");
        using var s = Hello(node.Endpoint);
        using var ring = RingLink.Request(s, RingTransport.MinCapacity, 20_000);
        Assert.NotNull(ring);
        uint id = 10;
        ring.Send(Frame(Op.CreateSpace, id++, w => { w.I32(0); w.U64(42); }), 20_000);
        var created = ReadReply(ring);
        int asid = BinaryPrimitives.ReadInt32LittleEndian(created.AsSpan(5));
        Assert.True(asid > 0);
        const ulong at = 0x10000000;
        ring.Send(Frame(Op.Map, id++, w => { w.I32(asid); w.U64(at); w.U64(1 << 20); w.U8(3); w.I32(0x32); w.Str("ring"); }), 20_000);
        ReadReply(ring);
        var data = new byte[1 << 20];
        new Random(7).NextBytes(data);
        ring.Send(Frame(Op.Poke, id++, w => { w.I32(asid); w.U64(at); w.Bytes(data); }), 20_000);
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(ReadReply(ring).AsSpan(5)));
        // Batches of 32 fills: their replies (128 KiB) wait in the one-page ring, the node writing as this side reads.
        for (int first = 0; first < 256; first += 32)
        {
            var batch = new List<byte>();
            for (int i = first; i < first + 32; i++) batch.AddRange(Frame(Op.Fill, (uint)(1000 + i), w => { w.I32(asid); w.U64(at + (ulong)i * 4096); w.U32(4096); }));
            ring.Send(batch.ToArray(), 20_000);
            for (int i = first; i < first + 32; i++)
            {
                var reply = ReadReply(ring);
                Assert.Equal((uint)(1000 + i), BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(1)));
                // i32 write-back status, u8 fill status, u8 protection, u32 length, the line
                Assert.True(data.AsSpan(i * 4096, 4096).SequenceEqual(reply.AsSpan(5 + 10, 4096)), $"line {i} differs");
            }
        }
    }
}
