using System.Net.Sockets;
using LegoEmu.Mem.Remote;
using LegoEmu.Syscalls.Split;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// A thread host (procnode --listen) given a broken setup by whoever connects drops that connection with one
/// line on stderr, never a stack trace, and keeps listening for its real home.
/// </summary>
public sealed class ProcnodeRobustnessTests
{
    static async Task<string> Feed(Action<Socket> send, string expected)
    {
        string dir = Directory.CreateTempSubdirectory("legoemu-procnode-").FullName;
        try
        {
            using var host = new MemoryNodeProcess($"unix:{Path.Combine(dir, "p.sock")}", verb: "procnode");
            Endpoint.TryParse(host.Endpoint, out var ep, out _);
            for (int attempt = 1; attempt <= 2; attempt++)
            {
                using var s = ep!.NewSocket();
                s.Connect(ep.Address);
                send(s);
                s.Shutdown(SocketShutdown.Send);
                // The host answers a bad setup by closing this connection.
                var buf = new byte[64];
                s.ReceiveTimeout = (int)EmulatorRunner.RunTimeout.TotalMilliseconds;
                try { while (s.Receive(buf) > 0) { } }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { }
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (CountOf(host.Log, expected) < attempt && DateTime.UtcNow < deadline) await Task.Delay(50);
                Assert.Equal(attempt, CountOf(host.Log, expected));
                Assert.False(host.HasExited, "the procnode exited instead of listening on");
            }
            return host.Log;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static int CountOf(string text, string fragment)
    {
        int n = 0;
        for (int i = text.IndexOf(fragment, StringComparison.Ordinal); i >= 0; i = text.IndexOf(fragment, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }

    static void Send(Socket s, FrameWriter w) => s.Send(w.Finish());

    [Fact]
    public async Task GarbageInsteadOfASetup()
    {
        string log = await Feed(s => s.Send(new byte[] { 9, 0, 0, 0, 99, 1, 2, 3, 4, 5, 6, 7, 8 }), "legoemu procnode: bad message from the home component");
        Assert.DoesNotContain("   at ", log);
    }

    /// <summary>A well-formed setup for address space 1 and a 1 MiB cache over the given memory nodes.</summary>
    static void SendSetup(Socket s, string memoryNodes)
    {
        var w = LinkSocket.Begin(LinkOp.Setup);
        w.Str(memoryNodes);
        w.I32(1); w.U64(0); w.I32(0); w.U64(0);                         // asid, key, home node, break
        w.I64(1 << 20); w.I32(8); w.I32(4096); w.U8(0); w.I32(1);      // cache geometry, policy, component number
        w.U32(0);                                                       // no vRegions yet
        w.U8(0);                                                        // not profiled
        w.U8(1);                                                        // one copy of each vRegion
        Send(s, w);
    }

    [Fact]
    public async Task ASetupWithoutMemoryNodes()
    {
        string log = await Feed(s => SendSetup(s, ""), "legoemu procnode: bad message from the home component: the setup names no memory node");
        Assert.DoesNotContain("   at ", log);
    }

    [Fact]
    public async Task ASetupNamingANodeThatIsNotThere()
    {
        string log = await Feed(s => SendSetup(s, "unix:/nonexistent/legoemu-node.sock"), "cannot connect to memory node");
        Assert.DoesNotContain("   at ", log);
    }
}
