using System.Net;
using System.Net.Sockets;
using LegoEmu.Mem.Remote;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>The local end of a <see cref="TlsBridge"/> behaves as a connected socket a coherent cache can poll.</summary>
public sealed class TlsBridgeTests
{
    [Fact]
    public void TheLocalEndIsAConnectedPollableSocket()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var far = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        far.Connect(listener.LocalEndPoint!);
        using var near = listener.Accept();
        using var bridge = new TlsBridge(new NetworkStream(near), "test");
        var local = bridge.Local;
        local.ReceiveTimeout = 30_000;
        // The callback watcher only polls sockets that say they are connected.
        Assert.True(local.Connected);

        far.Send("ping"u8);
        var readable = new List<Socket> { local };
        Socket.Select(readable, null, null, 30_000_000);
        Assert.Single(readable);
        var buf = new byte[16];
        int got = 0;
        while (got < 4) got += local.Receive(buf, got, 4 - got, SocketFlags.None);
        Assert.Equal("ping"u8.ToArray(), buf[..4]);

        local.Send("pong"u8);
        far.ReceiveTimeout = 30_000;
        got = 0;
        while (got < 4) got += far.Receive(buf, got, 4 - got, SocketFlags.None);
        Assert.Equal("pong"u8.ToArray(), buf[..4]);

        // The far end going away reads as the end of the connection.
        far.Shutdown(SocketShutdown.Both);
        far.Close();
        Assert.Equal(0, local.Receive(buf));
    }
}
