using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using LegoEmu.Mem.Remote;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// Hostile or broken frames close only the connection that sent them: the node logs a reason and
/// keeps serving its other clients.
/// </summary>
public sealed class ProtocolRobustnessTests : IDisposable
{
    readonly MemoryNodeProcess _node = new();
    readonly Socket _bystander;

    public ProtocolRobustnessTests()
    {
        _bystander = Connect();
        Hello(_bystander);
    }

    public void Dispose()
    {
        _bystander.Dispose();
        _node.Dispose();
    }

    Socket Connect()
    {
        int port = int.Parse(_node.Endpoint[(_node.Endpoint.LastIndexOf(':') + 1)..]);
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 20_000, NoDelay = true };
        s.Connect(new IPEndPoint(IPAddress.Loopback, port));
        return s;
    }

    static byte[] Frame(Op op, Action<FrameWriter>? body = null)
    {
        var w = new FrameWriter();
        w.Begin((byte)op, 1);
        body?.Invoke(w);
        return w.Finish().ToArray();
    }

    static byte[] ReadReply(Socket s)
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
            if (r == 0) throw new IOException("closed");
            got += r;
        }
    }

    static void Hello(Socket s)
    {
        s.Send(Frame(Op.Hello, w => { w.U64(Protocol.Magic); w.U16(Protocol.Version); w.Bytes(new byte[16]); }));
        var reply = ReadReply(s);
        Assert.Equal((byte)Op.Hello | Protocol.ReplyBit, reply[0]);
    }

    /// <summary>The node closed this connection: the next read sees end-of-stream (or a reset).</summary>
    static void AssertClosed(Socket s)
    {
        var buf = new byte[64];
        try
        {
            int n = s.Receive(buf);
            Assert.True(n == 0, $"expected the node to close the connection, got {n} bytes");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { }
    }

    void AssertBystanderStillServed()
    {
        _bystander.Send(Frame(Op.Stats));
        var reply = ReadReply(_bystander);
        Assert.Equal((byte)Op.Stats | Protocol.ReplyBit, reply[0]);
        Assert.False(_node.HasExited, "the node died");
    }

    void AssertLogged(string fragment)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && !_node.Log.Contains(fragment)) Thread.Sleep(20);
        Assert.Contains(fragment, _node.Log);
    }

    [Fact]
    public void CoherentFillWithoutAttaching()
    {
        using var s = Connect();
        Hello(s);
        s.Send(Frame(Op.CreateSpace, w => { w.I32(0); w.U64(7); }));
        int asid = BinaryPrimitives.ReadInt32LittleEndian(ReadReply(s).AsSpan(5));
        s.Send(Frame(Op.CoherentFill, w => { w.I32(asid); w.U64(0x10000); w.U32(4096); w.U8(1); }));
        AssertClosed(s);
        AssertLogged("not attached as a component's main channel");
        AssertBystanderStillServed();
    }

    [Fact]
    public void InvalidationAnswerOnAMainChannel()
    {
        using var s = Connect();
        Hello(s);
        s.Send(Frame(Op.Attach, w => { w.U64(42); w.U8(0); }));
        ReadReply(s);
        s.Send(Frame(Op.InvalidateAck, w => { w.I64(0); w.U8(0); w.U32(0); }));
        AssertClosed(s);
        AssertLogged("answered on a main connection");
        AssertBystanderStillServed();
    }

    [Fact]
    public void AttachingTwiceOrWithABadRole()
    {
        using var s = Connect();
        Hello(s);
        s.Send(Frame(Op.Attach, w => { w.U64(43); w.U8(0); }));
        ReadReply(s);
        s.Send(Frame(Op.Attach, w => { w.U64(43); w.U8(0); }));
        AssertClosed(s);
        AssertLogged("attached twice");
        using var t = Connect();
        Hello(t);
        t.Send(Frame(Op.Attach, w => { w.U64(44); w.U8(9); }));
        AssertClosed(t);
        AssertLogged("bad attach role 9");
        AssertBystanderStillServed();
    }

    [Fact]
    public void TruncatedFrameThenDisconnect()
    {
        using var s = Connect();
        Hello(s);
        var frame = Frame(Op.Stats);
        BinaryPrimitives.WriteUInt32LittleEndian(frame, 100); // claims 100 bytes, sends 5
        s.Send(frame);
        s.Shutdown(SocketShutdown.Send);
        AssertClosed(s);
        AssertLogged("in the middle of a frame");
        AssertBystanderStillServed();
    }

    [Fact]
    public void AbsurdLength()
    {
        using var s = Connect();
        Hello(s);
        var frame = Frame(Op.Stats);
        BinaryPrimitives.WriteUInt32LittleEndian(frame, 0xffff_fff0);
        s.Send(frame);
        AssertClosed(s);
        AssertLogged("out of range");
        AssertBystanderStillServed();
    }

    [Fact]
    public void UnknownOpcode()
    {
        using var s = Connect();
        Hello(s);
        s.Send(Frame((Op)99));
        AssertClosed(s);
        AssertLogged("unknown op 99");
        AssertBystanderStillServed();
    }

    [Fact]
    public void RequestBeforeHandshake()
    {
        using var s = Connect();
        s.Send(Frame(Op.Stats));
        AssertClosed(s);
        AssertLogged("before the handshake");
        AssertBystanderStillServed();
    }

    [Fact]
    public void WrongMagic()
    {
        using var s = Connect();
        s.Send(Frame(Op.Hello, w => { w.U64(0x1234); w.U16(Protocol.Version); }));
        AssertClosed(s);
        AssertLogged("bad handshake magic");
        AssertBystanderStillServed();
    }

    [Fact]
    public void TrailingBytes()
    {
        using var s = Connect();
        Hello(s);
        s.Send(Frame(Op.Stats, w => w.U8(7)));
        AssertClosed(s);
        AssertLogged("trailing");
        AssertBystanderStillServed();
    }

    [Fact]
    public void OutOfRangeAddress()
    {
        using var s = Connect();
        Hello(s);
        s.Send(Frame(Op.CreateSpace, w => { w.I32(0); w.U64(7); }));
        int asid = BinaryPrimitives.ReadInt32LittleEndian(ReadReply(s).AsSpan(5));
        Assert.True(asid > 0);
        s.Send(Frame(Op.Fill, w => { w.I32(asid); w.U64(0xffff_ffff_ffff_f000); w.U32(4096); }));
        AssertClosed(s);
        AssertLogged("outside the user address space");
        AssertBystanderStillServed();
    }

    [Fact]
    public void UnknownAddressSpace()
    {
        using var s = Connect();
        Hello(s);
        s.Send(Frame(Op.Fill, w => { w.I32(123456789); w.U64(0x10000); w.U32(4096); }));
        AssertClosed(s);
        AssertLogged("unknown address space");
        AssertBystanderStillServed();
    }

    [Fact]
    public void MisalignedLine()
    {
        using var s = Connect();
        Hello(s);
        s.Send(Frame(Op.CreateSpace, w => { w.I32(0); w.U64(7); }));
        int asid = BinaryPrimitives.ReadInt32LittleEndian(ReadReply(s).AsSpan(5));
        s.Send(Frame(Op.Fill, w => { w.I32(asid); w.U64(0x10010); w.U32(4096); }));
        AssertClosed(s);
        AssertLogged("not aligned");
        AssertBystanderStillServed();
    }

    /// <summary>
    /// A mapping named by 4 096 bytes that are not UTF-8, then a Snapshot: the name used to come back as
    /// 12 288 bytes of U+FFFD and the node died of the exception. Now the Map itself is refused.
    /// </summary>
    [Fact]
    public void NameThatIsNotUtf8ThenSnapshot()
    {
        using var s = Connect();
        Hello(s);
        s.Send(Frame(Op.CreateSpace, w => { w.I32(0); w.U64(7); }));
        int asid = BinaryPrimitives.ReadInt32LittleEndian(ReadReply(s).AsSpan(5));
        var frame = new List<byte>(Frame(Op.Map, w => { w.I32(asid); w.U64(0x10000); w.U64(0x1000); w.U8(3); w.I32(0x22); w.U16(4096); }));
        frame.AddRange(Enumerable.Repeat((byte)0xff, 4096));
        var bytes = frame.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)(bytes.Length - 4));
        s.Send(bytes);
        s.Send(Frame(Op.Snapshot, w => w.I32(asid)));
        AssertClosed(s);
        AssertLogged("not valid UTF-8");
        AssertBystanderStillServed();
    }

    [Fact]
    public void PipelinedRequestsAreAnsweredInOrder()
    {
        using var s = Connect();
        Hello(s);
        var w = new FrameWriter();
        var batch = new List<byte>();
        for (uint id = 10; id < 20; id++)
        {
            w.Begin((byte)Op.Stats, id);
            batch.AddRange(w.Finish().ToArray());
        }
        s.Send(batch.ToArray());
        for (uint id = 10; id < 20; id++)
        {
            var reply = ReadReply(s);
            Assert.Equal(id, BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(1)));
        }
    }
}
