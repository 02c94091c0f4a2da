using System.Globalization;
using LegoEmu.Mem;

namespace LegoEmu.Cluster.Membership;

/// <summary>
/// The value of <c>--cluster</c>: <c>etcd:HOST:PORT[,HOST:PORT…][/NAME]</c>, the etcd members that keep the cluster's
/// state and the name of the cluster inside them (several clusters can share one etcd; default <c>default</c>).
/// </summary>
public sealed record ClusterSpec(IReadOnlyList<(string Host, int Port)> Servers, string Name)
{
    public const string DefaultName = "default";

    /// <summary>The form a user types, for messages and for the components a run starts.</summary>
    public string Text => "etcd:" + string.Join(",", Servers.Select(s => $"{(s.Host.Contains(':') ? $"[{s.Host}]" : s.Host)}:{s.Port}")) +
        (Name == DefaultName ? "" : "/" + Name);

    /// <summary>What the gRPC client connects to (plain HTTP/2: etcd's client port without TLS).</summary>
    public string ConnectionString => string.Join(",", Servers.Select(s => $"http://{(s.Host.Contains(':') ? $"[{s.Host}]" : s.Host)}:{s.Port}"));

    public static bool TryParse(string text, out ClusterSpec? spec, out string error)
    {
        spec = null;
        error = "";
        const string usage = "expected etcd:HOST:PORT[,HOST:PORT...][/NAME]";
        if (!text.StartsWith("etcd:", StringComparison.Ordinal))
        {
            error = $"bad --cluster '{PrintableName.Escape(text)}': {usage}";
            return false;
        }
        string rest = text[5..], name = DefaultName;
        int slash = rest.IndexOf('/');
        if (slash >= 0)
        {
            name = rest[(slash + 1)..];
            rest = rest[..slash];
            if (!ValidName(name))
            {
                error = $"bad --cluster '{PrintableName.Escape(text)}': a cluster name is 1 to 64 letters, digits, '.', '_' or '-'";
                return false;
            }
        }
        var servers = new List<(string, int)>();
        foreach (var item in rest.Split(','))
        {
            if (!TryServer(item.Trim(), out var host, out int port))
            {
                error = $"bad --cluster '{PrintableName.Escape(text)}': '{PrintableName.Escape(item)}' is not HOST:PORT ({usage})";
                return false;
            }
            servers.Add((host, port));
        }
        spec = new ClusterSpec(servers, name);
        return true;
    }

    static bool TryServer(string item, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon;
        if (item.StartsWith('['))
        {
            int close = item.IndexOf(']');
            if (close < 0 || close + 1 >= item.Length || item[close + 1] != ':') return false;
            host = item[1..close];
            colon = close + 1;
        }
        else
        {
            colon = item.LastIndexOf(':');
            if (colon <= 0) return false;
            host = item[..colon];
            if (host.Contains(':')) return false;
        }
        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or '@' or '?' or '#')) return false;
        return int.TryParse(item[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
    }

    static bool ValidName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
