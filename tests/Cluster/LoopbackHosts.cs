using System.Net;
using System.Net.Sockets;

namespace LegoEmu.Tests.Cluster;

/// <summary>
/// Stand-ins for other hosts: the loopback addresses 127.0.0.2, 127.0.0.3 … (Linux routes all of 127.0.0.0/8 to
/// lo), so every component of a test has an address of its own. Where an address cannot be bound, 127.0.0.1.
/// </summary>
public static class LoopbackHosts
{
    static readonly Lazy<bool> Distinct = new(() =>
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            return true;
        }
        catch (SocketException) { return false; }
    });

    /// <summary>The address of "host" <paramref name="index"/> (0: 127.0.0.2).</summary>
    public static string Address(int index) => Distinct.Value ? $"127.0.0.{2 + index}" : "127.0.0.1";

    /// <summary>A TCP endpoint on host <paramref name="index"/> with a port the OS picks.</summary>
    public static string Listen(int index) => $"tcp:{Address(index)}:0";

    /// <summary>A port nothing listens on now: bound, then closed.</summary>
    public static int ClosedPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }
}
