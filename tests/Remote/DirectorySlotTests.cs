using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// A component's slot in a node's line directory once the component has left (its callback channel closed) while its
/// main connection goes on, as a process's does after its execve: what that connection sends concerns no component.
/// Driven frame by frame, so the order of events the test needs is the order they happen in.
/// </summary>
public sealed class DirectorySlotTests : IDisposable
{
    const ulong Base = 0x10000000, Line = Base + 0x3000;
    readonly MemoryNodeProcess _node = new();
    readonly List<IDisposable> _owned = new();

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _node.Dispose();
    }

    T Own<T>(T d) where T : IDisposable
    {
        _owned.Add(d);
        return d;
    }

    /// <summary>
    /// The answer to an invalidation names the write-backs its component had sent, and the node grants the line only
    /// once it has read that many on the component's main connection. A write-back the slot's previous component sent
    /// after it left was counted for the next one, so the node took the answer for complete while the write-back it
    /// named was still on its way, and granted the line without it: a store lost between two processes.
    /// </summary>
    [Fact]
    public void WriteBacksAfterALeaveDoNotCountForTheSlotsNextComponent()
    {
        Endpoint.TryParse(_node.Endpoint, out var ep, out _);
        var home = Own(new MemoryCluster([ep!]));
        int asid = home.CreateAddressSpace();
        Assert.Equal((long)Base, home.Map(asid, Base, 1 << 20, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "lines"));
        ulong key = home.Describe(asid).Key;
        MemoryNodeClient Client()
        {
            var c = Own(new MemoryNodeClient(ep!, 0));
            Assert.Equal(0, c.ClaimSpace(asid, key));
            return c;
        }

        var leaver = Client();
        int slot = leaver.AttachComponent(1);
        leaver.Callback!.Dispose(); // the component leaves the directory; its main connection stays

        // The node reads that close on the channel's own thread: the next component gets the slot once it has.
        var deadline = Stopwatch.GetTimestamp() + (long)(MachineLoad.Scale(TimeSpan.FromSeconds(30)).TotalSeconds * Stopwatch.Frequency);
        MemoryNodeClient? holder = null;
        for (ulong id = 2; holder == null; id++)
        {
            var c = Client();
            if (c.AttachComponent(id) == slot) holder = c;
            else
            {
                c.Callback!.Dispose();
                Assert.True(Stopwatch.GetTimestamp() < deadline, "the node never gave the left component's slot to another one");
                Thread.Sleep(20);
            }
        }

        // The slot's new component takes the line to write it; then the old one's process writes back a line of its own.
        Fill(holder, asid, Line, exclusive: true);
        holder.Send();
        Assert.Equal(FillStatus.Zero, ReadFill(holder.Receive(), out _));
        WriteBack(leaver, asid, Base, 0x11);

        // Another component asks for the line. The holder answers that it has written the line back (its first
        // write-back since it attached), and only then does that write-back leave.
        var asker = Client();
        asker.AttachComponent(1000);
        Fill(asker, asid, Line, exclusive: true);
        asker.Send();
        var invalidation = ReadFrame(holder.Callback!);
        Assert.Equal((byte)Op.Invalidate, invalidation[0]);
        var ack = new FrameWriter(64);
        ack.Begin((byte)Op.InvalidateAck, BinaryPrimitives.ReadUInt32LittleEndian(invalidation.AsSpan(1)));
        ack.I64(1);
        ack.U8(0);
        ack.Bytes([]);
        holder.Callback!.Send(ack.Finish());
        WriteBack(holder, asid, Line, 0xab);

        var status = ReadFill(asker.Receive(), out var data);
        Assert.True(status == FillStatus.Data && data.All(b => b == 0xab),
            $"the line was granted without the holder's write-back: {status}, first byte 0x{(data.Length > 0 ? data[0] : 0):x2}");
    }

    /// <summary>
    /// A process that left the directory at its execve and maps shared memory right after joins again on the same main
    /// connection, and that attach can reach the node before the close of its old callback channel does. The node took
    /// it for a second attach and closed the connection (the guest ended with SIGBUS). Answers still in the old channel
    /// must count: one carrying a dirty line is the only copy of that line.
    /// </summary>
    [Fact]
    public void AMainConnectionJoinsAgainBeforeItsOldCallbackChannelIsClosed()
    {
        Endpoint.TryParse(_node.Endpoint, out var ep, out _);
        var home = Own(new MemoryCluster([ep!]));
        int asid = home.CreateAddressSpace();
        Assert.Equal((long)Base, home.Map(asid, Base, 1 << 20, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "lines"));
        ulong key = home.Describe(asid).Key;
        MemoryNodeClient Client()
        {
            var c = Own(new MemoryNodeClient(ep!, 0));
            Assert.Equal(0, c.ClaimSpace(asid, key));
            return c;
        }

        var process = Client();
        int first = process.AttachComponent(1);
        var oldChannel = Own(process.Callback!);
        Fill(process, asid, Line, exclusive: true);
        process.Send();
        ReadFill(process.Receive(), out _);

        var asker = Client();
        asker.AttachComponent(1000);
        Fill(asker, asid, Line, exclusive: true);
        asker.Send();
        var invalidation = ReadFrame(oldChannel);
        Assert.Equal((byte)Op.Invalidate, invalidation[0]);

        int second = process.AttachComponent(2);
        Assert.NotEqual(first, second);
        var ack = new FrameWriter((int)PageMath.PageSize + 64);
        ack.Begin((byte)Op.InvalidateAck, BinaryPrimitives.ReadUInt32LittleEndian(invalidation.AsSpan(1)));
        ack.I64(0);
        ack.U8(0);
        ack.Bytes(Enumerable.Repeat((byte)0xcd, (int)PageMath.PageSize).ToArray());
        oldChannel.Send(ack.Finish());
        oldChannel.Dispose();

        var status = ReadFill(asker.Receive(), out var data);
        Assert.True(status == FillStatus.Data && data.All(b => b == 0xcd),
            $"the line was granted without the dirty copy its holder answered with: {status}, first byte 0x{(data.Length > 0 ? data[0] : 0):x2}");
        // The component that joined again is served like any other.
        Fill(process, asid, Line + 0x1000, exclusive: true);
        process.Send();
        Assert.Equal(FillStatus.Zero, ReadFill(process.Receive(), out _));
    }

    static FrameWriter Fill(MemoryNodeClient c, int asid, ulong addr, bool exclusive)
    {
        var w = c.Begin(Op.CoherentFill);
        w.I32(asid);
        w.U64(addr);
        w.U32((uint)PageMath.PageSize);
        w.U8(exclusive ? (byte)1 : (byte)0);
        return w;
    }

    static FillStatus ReadFill(FrameReader r, out byte[] data)
    {
        Assert.Equal(0, r.I32());
        var status = (FillStatus)r.U8();
        r.U8();
        data = r.Bytes((int)PageMath.PageSize).ToArray();
        return status;
    }

    static void WriteBack(MemoryNodeClient c, int asid, ulong addr, byte fill)
    {
        var w = c.Begin(Op.WriteBack);
        w.I32(asid);
        w.U64(addr);
        w.Bytes(Enumerable.Repeat(fill, (int)PageMath.PageSize).ToArray());
        Assert.Equal(0, c.Call().I32());
    }

    static byte[] ReadFrame(Socket s)
    {
        var header = new byte[4];
        ReadExact(s, header);
        var body = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header)];
        ReadExact(s, body);
        return body;
    }

    static void ReadExact(Socket s, byte[] buf)
    {
        int got = 0;
        while (got < buf.Length)
        {
            int r = s.Receive(buf, got, buf.Length - got, SocketFlags.None);
            if (r == 0) throw new IOException("the node closed the callback channel");
            got += r;
        }
    }
}
