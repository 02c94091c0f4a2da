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
            int bytes = System.Text.Encoding.UTF8.GetByteCount(path);
            if (bytes > UnixSocketFile.MaxPathBytes)
            {
                error = $"Unix socket path of {bytes} bytes is longer than the limit of {UnixSocketFile.MaxPathBytes}";
                return false;
            }
            // The endpoint travels in one-line messages ("listening on ..."): no control characters.
            foreach (char c in path)
                if (c < 0x20 || c == 0x7f)
                {
                    error = $"Unix socket path '{PrintableName.Escape(path)}' contains a control character";
                    return false;
                }
            endpoint = new Endpoint(text, new UnixDomainSocketEndPoint(path));
            return true;
        }
        if (text.StartsWith("tcp:", StringComparison.Ordinal))
        {
            string rest = text[4..];
            int colon = rest.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], out int port) || port < 0 || port > 65535)
            {
                error = $"expected tcp:HOST:PORT, got '{PrintableName.Escape(text)}'";
                return false;
            }
            string host = rest[..colon].Trim('[', ']');
            if (!IPAddress.TryParse(host == "localhost" ? "127.0.0.1" : host, out var ip))
            {
                error = $"'{PrintableName.Escape(host)}' is not an IP address (name lookup is not done)";
                return false;
            }
            endpoint = new Endpoint(text, new IPEndPoint(ip, port));
            return true;
        }
        error = $"expected unix:PATH or tcp:HOST:PORT, got '{PrintableName.Escape(text)}'";
        return false;
    }

    public Socket NewSocket() => IsUnix
        ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        : new Socket(Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };

    public override string ToString() => Text;
}
