using System.Net.Sockets;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// A TLS stream seen as a plain local socket: two threads copy decrypted bytes from the stream into one end of a
/// Unix socket pair and bytes written at that end back into the stream. A coherent component waits for its reply and
/// for the node's invalidations together by polling sockets (<see cref="CoherenceChannels"/>), and a poll cannot see
/// what a TLS stream has already read ahead and decrypted; the local end it can. Each byte crosses one more socket,
/// so links that do not poll use the stream directly.
/// </summary>
public sealed class TlsBridge : IDisposable
{
    readonly Stream _tls;
    readonly Socket _remote;
    readonly Thread _in, _out;

    /// <summary>The end the component reads, writes and polls, as it would a plain connection.</summary>
    public Socket Local { get; }

    public TlsBridge(Stream tls, string name)
    {
        _tls = tls;
        var (local, remote) = Pair();
        Local = local;
        _remote = remote;
        _in = new Thread(FromNode) { IsBackground = true, Name = $"tls-in-{name}" };
        _out = new Thread(ToNode) { IsBackground = true, Name = $"tls-out-{name}" };
        _in.Start();
        _out.Start();
    }

    static (Socket, Socket) Pair()
    {
        // An abstract-namespace listener would do too; a socket pair needs no name at all.
        var fds = new int[2];
        if (SocketPair(1 /* AF_UNIX */, 1 | 0x80000 /* SOCK_STREAM | SOCK_CLOEXEC */, 0, fds) != 0)
            throw new MemoryNodeFailure($"cannot make a socket pair for a TLS link: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        return (new Socket(new SafeSocketHandle(fds[0], true)), new Socket(new SafeSocketHandle(fds[1], true)));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    static extern int SocketPair(int domain, int type, int protocol, int[] fds);

    void FromNode()
    {
        var buf = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = _tls.Read(buf, 0, buf.Length);
                if (n == 0) break;
                int sent = 0;
                while (sent < n) sent += _remote.Send(buf, sent, n - sent, SocketFlags.None);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
        // The node went away (or the link was closed here): the component reads the end of its connection.
        try { _remote.Shutdown(SocketShutdown.Send); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    void ToNode()
    {
        var buf = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = _remote.Receive(buf, 0, buf.Length, SocketFlags.None);
                if (n == 0) break;
                _tls.Write(buf, 0, n);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
        try { _tls.Dispose(); } catch (Exception e) when (e is IOException or ObjectDisposedException) { }
    }

    public void Dispose()
    {
        Local.Dispose();
        _remote.Dispose();
        _tls.Dispose();
    }
}
