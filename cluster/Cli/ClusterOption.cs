using System.CommandLine;
using System.Globalization;
using LegoEmu.Cluster.Membership;

namespace LegoEmu.Cluster.Cli;

/// <summary><c>--cluster etcd:HOST:PORT[,…][/NAME]</c> and <c>--lease-ttl SECONDS</c>, taken by the verbs that join a cluster or read it.</summary>
public static class ClusterOption
{
    public const double DefaultLeaseSeconds = 10;

    public static Option<string?> Create(string description) => new("--cluster") { Description = description, HelpName = "etcd:HOST:PORT[,HOST:PORT...][/NAME]" };

    public static Option<string?> CreateLeaseTtl() => new("--lease-ttl")
    {
        Description = $"With --cluster: seconds this component's record outlives its last sign of life in etcd (default {DefaultLeaseSeconds:0})",
        HelpName = "SECONDS",
    };

    /// <summary>Opens the cluster named by <paramref name="text"/>; null after one line on stderr when the value is bad.</summary>
    public static EtcdStore? Open(string text, string verb)
    {
        if (!ClusterSpec.TryParse(text, out var spec, out string error))
        {
            Console.Error.WriteLine($"legoemu {verb}: {error}");
            return null;
        }
        try { return new EtcdStore(spec!); }
        catch (ClusterStoreException e)
        {
            Console.Error.WriteLine($"legoemu {verb}: {e.Message}");
            return null;
        }
    }

    public static bool TryLeaseTtl(string? text, string verb, out TimeSpan ttl)
    {
        ttl = TimeSpan.FromSeconds(DefaultLeaseSeconds);
        if (text == null) return true;
        // etcd grants whole seconds; under 2 a lease could lapse between two beats of a busy machine.
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !(s >= 2 && s <= 3600))
        {
            Console.Error.WriteLine($"legoemu {verb}: bad --lease-ttl '{LegoEmu.Mem.PrintableName.Escape(text)}': seconds from 2 to 3600");
            return false;
        }
        ttl = TimeSpan.FromSeconds(s);
        return true;
    }
}
