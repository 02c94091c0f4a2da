using System.Net;
using System.Net.Sockets;

namespace LegoEmu.Mem.Remote;

/// <summary>Where a memory node listens: <c>unix:PATH</c> or <c>tcp:HOST:PORT</c>.</summary>
public sealed record Endpoint(string Text, EndPoint Address)
{
    public bool IsUnix => Address is UnixDomainSocketEndPoint;

    public static bool TryParse(string text, out Endpoint? endpoint, out string error)
    {
        endpoint = null;
        error = "";
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = text[5..];
            if (path.Length == 0) { error = "empty Unix socket path"; return false; }
            endpoint = new Endpoint(text, new UnixDomainSocketEndPoint(path));
            return true;
        }
        if (text.StartsWith("tcp:", StringComparison.Ordinal))
        {
            string rest = text[4..];
            int colon = rest.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], out int port) || port < 0 || port > 65535)
            {
                error = $"expected tcp:HOST:PORT, got '{text}'";
                return false;
            }
            string host = rest[..colon].Trim('[', ']');
            if (!IPAddress.TryParse(host == "localhost" ? "127.0.0.1" : host, out var ip))
            {
                error = $"'{host}' is not an IP address (name lookup is not done)";
                return false;
            }
            endpoint = new Endpoint(text, new IPEndPoint(ip, port));
            return true;
        }
        error = $"expected unix:PATH or tcp:HOST:PORT, got '{text}'";
        return false;
    }

    public Socket NewSocket() => IsUnix
        ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        : new Socket(Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };

    public override string ToString() => Text;
}
