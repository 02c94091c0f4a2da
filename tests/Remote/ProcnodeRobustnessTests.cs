using System.Net.Sockets;
using LegoEmu.Mem.Remote;
using LegoEmu.Syscalls.Split;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// A thread host (procnode --listen) given a broken setup by whoever connects ends with one line on
/// stderr and a non-zero status, never a stack trace.
/// </summary>
public sealed class ProcnodeRobustnessTests
{
    static async Task<string> Feed(Action<Socket> send)
    {
        string dir = Directory.CreateTempSubdirectory("legoemu-procnode-").FullName;
        try
        {
            using var host = new MemoryNodeProcess($"unix:{Path.Combine(dir, "p.sock")}", verb: "procnode");
            Endpoint.TryParse(host.Endpoint, out var ep, out _);
            using (var s = ep!.NewSocket())
            {
                s.Connect(ep.Address);
                send(s);
                s.Shutdown(SocketShutdown.Send);
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (!host.HasExited && DateTime.UtcNow < deadline) await Task.Delay(50);
            }
            Assert.True(host.HasExited, "the procnode did not exit");
            return host.Log;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static void Send(Socket s, FrameWriter w) => s.Send(w.Finish());

    [Fact]
    public async Task GarbageInsteadOfASetup()
    {
        string log = await Feed(s => s.Send(new byte[] { 9, 0, 0, 0, 99, 1, 2, 3, 4, 5, 6, 7, 8 }));
        Assert.Contains("legoemu procnode: bad message from the home component", log);
        Assert.DoesNotContain("   at ", log);
    }

    /// <summary>A well-formed setup for address space 1 and a 1 MiB cache over the given memory nodes.</summary>
    static void SendSetup(Socket s, string memoryNodes)
    {
        var w = LinkSocket.Begin(LinkOp.Setup);
        w.Str(memoryNodes);
        w.I32(1); w.I32(0); w.U64(0);                                   // asid, home node, break
        w.I64(1 << 20); w.I32(8); w.I32(4096); w.U8(0); w.I32(1);      // cache geometry, policy, component number
        w.U32(0);                                                       // no vRegions yet
        Send(s, w);
    }

    [Fact]
    public async Task ASetupWithoutMemoryNodes()
    {
        string log = await Feed(s => SendSetup(s, ""));
        Assert.Contains("legoemu procnode: bad message from the home component: the setup names no memory node", log);
        Assert.DoesNotContain("   at ", log);
    }

    [Fact]
    public async Task ASetupNamingANodeThatIsNotThere()
    {
        string log = await Feed(s => SendSetup(s, "unix:/nonexistent/legoemu-node.sock"));
        Assert.Contains("cannot connect to memory node", log);
        Assert.DoesNotContain("   at ", log);
    }
}
