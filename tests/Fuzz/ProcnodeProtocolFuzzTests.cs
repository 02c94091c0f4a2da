using System.Diagnostics;
using System.Net.Sockets;
using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;
using LegoEmu.Syscalls.Split;
using LegoEmu.Tests.Differential;
using LegoEmu.Tests.Remote;
using Xunit;

namespace LegoEmu.Tests.Fuzz;

/// <summary>
/// Mutated link messages against thread hosts (procnode --listen). Before the setup, one host takes every
/// case: each bad setup costs only its connection. After a good setup the host is its home's, so each case
/// gets a host of its own, which must end by itself with one line and status 0 or 70 when the link ends.
/// Never a stack trace, an unexpected exception type or a hang; the memory node they use stays healthy.
/// No mutant runs guest code: the space a host is given maps nothing executable, so a started thread faults
/// at once, and its faults and system calls go to the home, which is this test.
/// </summary>
public sealed class ProcnodeProtocolFuzzTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-linkfuzz-").FullName;
    readonly MemoryNodeProcess _node;
    readonly Endpoint _endpoint;

    public ProcnodeProtocolFuzzTests()
    {
        _node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "node.sock")}");
        Endpoint.TryParse(_node.Endpoint, out _endpoint!, out _);
    }

    public void Dispose()
    {
        _node.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    static byte[] Bytes(FrameWriter w) => w.Finish().ToArray();

    static byte[] Setup(string nodes, int asid, ulong key)
    {
        var w = LinkSocket.Begin(LinkOp.Setup);
        w.Str(nodes);
        w.I32(asid); w.U64(key); w.I32(0); w.U64(0x600000);
        w.I64(1 << 20); w.I32(8); w.I32(4096); w.U8(0); w.I32(1);
        w.U32(1); w.U64(0); w.I32(0); // vRegion 0 on node 0
        w.U8(0);                      // not profiled
        w.U8(1);                      // one copy of each vRegion
        return Bytes(w);
    }

    static byte[] AfterSetup(Random rng, int asid)
    {
        var s = new List<byte>();
        int n = 1 + rng.Next(5);
        for (int i = 0; i < n; i++)
        {
            switch (rng.Next(7))
            {
                case 0 or 1:
                {
                    var w = LinkSocket.Begin(LinkOp.Start, 1024);
                    w.I32(1 + rng.Next(3));
                    for (int r = 0; r < 16; r++) w.U64((ulong)rng.NextInt64());
                    w.U64(0x20000UL + (ulong)rng.Next(4096)); w.U64(0x202); w.U64(0); w.U64(0);
                    var fx = new byte[512];
                    BitConverter.TryWriteBytes(fx.AsSpan(24), 0x1f80u); // a valid MXCSR
                    fx.CopyTo(w.Reserve(512));
                    w.U32(0);
                    s.AddRange(Bytes(w));
                    break;
                }
                case 2: { var w = LinkSocket.Begin(LinkOp.Interrupt); w.I32(1); s.AddRange(Bytes(w)); break; }
                case 3: { var w = LinkSocket.Begin(LinkOp.Stop); w.I32(1); s.AddRange(Bytes(w)); break; }
                case 4: { var w = LinkSocket.Begin(LinkOp.Flush); w.I32(asid); w.U64(0); w.U64(0x100000); w.U8(1); s.AddRange(Bytes(w)); break; }
                case 5: { var w = LinkSocket.Begin(LinkOp.RegionOwner); w.I32(0); s.AddRange(Bytes(w)); break; }
                default: s.AddRange(Bytes(LinkSocket.Begin(LinkOp.Shutdown))); break;
            }
        }
        return s.ToArray();
    }

    static void AssertCleanLog(string log, string what)
    {
        Assert.DoesNotContain("   at ", log);
        Assert.False(log.Contains("Exception", StringComparison.Ordinal), $"{what}: {log}");
        Assert.DoesNotContain("internal error", log);
    }

    static void Drain(Socket s)
    {
        var buf = new byte[65536];
        try { while (s.Receive(buf) > 0) { } }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { }
    }

    [Fact]
    public void BeforeTheSetup()
    {
        using var home = new MemoryCluster([_endpoint]);
        int asid = home.CreateAddressSpace();
        var key = home.Describe(asid).Key;
        using var host = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "host.sock")}", verb: "procnode");
        Endpoint.TryParse(host.Endpoint, out var ep, out _);
        int cases = FuzzSettings.Cases(400), served = 0;
        for (int i = 0; i < cases && !host.HasExited; i++)
        {
            var rng = FuzzSettings.For(10_000 + i);
            // A wrong key keeps a mutant from being a good setup, so one host takes every case.
            byte[] valid = Setup(_node.Endpoint, asid, key ^ (1UL + (ulong)rng.Next(1000)));
            byte[] mutant = Mutator.Mutate(valid, rng, [(0, 9), (9, valid.Length - 9)]);
            using var s = ep!.NewSocket();
            s.Connect(ep.Address);
            s.ReceiveTimeout = (int)EmulatorRunner.RunTimeout.TotalMilliseconds;
            try { s.Send(mutant); s.Shutdown(SocketShutdown.Send); } catch (SocketException) { }
            Drain(s);
            served++;
        }
        Assert.False(host.HasExited, $"the thread host exited: {host.Log}");
        Assert.Equal(cases, served);
        AssertCleanLog(host.Log, "before the setup");
        Assert.False(_node.HasExited);
    }

    [Fact]
    public async Task AfterTheSetup()
    {
        using var home = new MemoryCluster([_endpoint]);
        int asid = home.CreateAddressSpace();
        Assert.True(home.Map(asid, 0x20000, 0x1000, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "data") > 0);
        var key = home.Describe(asid).Key;
        int cases = FuzzSettings.Cases(12);
        for (int i = 0; i < cases; i++)
        {
            var rng = FuzzSettings.For(20_000 + i);
            string what = $"after-setup case {i} (LEGOEMU_FUZZ_SEED={FuzzSettings.Seed})";
            using var host = new MemoryNodeProcess($"unix:{Path.Combine(_dir, $"host{i}.sock")}", verb: "procnode");
            Endpoint.TryParse(host.Endpoint, out var ep, out _);
            using (var s = ep!.NewSocket())
            {
                s.Connect(ep.Address);
                s.Send(Setup(_node.Endpoint, asid, key));
                s.ReceiveTimeout = (int)EmulatorRunner.RunTimeout.TotalMilliseconds;
                var link = new LinkSocket(s); // not disposed: it would close the socket
                Assert.Equal(LinkOp.Challenge, LinkSocket.OpOf(link.Receive()!)); // no credentials: no proof wanted
                Assert.Equal(LinkOp.Ready, LinkSocket.OpOf(link.Receive()!));
                byte[] valid = AfterSetup(rng, asid);
                try { s.Send(Mutator.Mutate(valid, rng, [(0, 9), (0, valid.Length)])); s.Shutdown(SocketShutdown.Send); } catch (SocketException) { }
                Drain(s);
            }
            var clock = Stopwatch.StartNew();
            while (!host.HasExited && clock.Elapsed < EmulatorRunner.RunTimeout) await Task.Delay(20);
            Assert.True(host.HasExited, $"{what}: the host did not end with its link");
            AssertCleanLog(host.Log, what);
        }
        Assert.False(_node.HasExited);
    }
}
