using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cluster;

/// <summary>
/// Components on several hosts: each memory node, thread host and the guest's own component in a network namespace of
/// its own, reached over a bridge with TLS and the cluster key (loopback addresses where namespaces cannot be made).
/// Guests match native with their memory on three hosts, with copies on two of them, and with their threads on two.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class NetworkNamespaceTests(GuestBuilds builds) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-netns-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    async Task AssertMatchesNative(HostedCluster cluster, string guest, params string[] options)
    {
        var spec = Guests.Get(guest);
        var native = await builds.NativeRunAsync(spec);
        var run = await cluster.RunAsync(options, [builds.Binary(guest), .. spec.Arguments]);
        string where = cluster.Hosts.Description;
        StaticGuestTests.AssertSameOutput($"stdout of {guest} over {where}", "native stdout", native.Stdout, run.Stdout, run);
        Assert.True(native.ExitCode == run.ExitCode, $"{guest} over {where}: exit {run.ExitCode}, native {native.ExitCode}\n{run.StderrTail()}");
    }

    [Fact]
    public async Task GuestsMatchNativeWithMemoryOnThreeHostsAndThreadsOnTwo()
    {
        using var cluster = await HostedCluster.StartAsync(_dir);
        for (int k = 1; k <= 3; k++) Assert.StartsWith($"tcp:{cluster.Hosts.Address(k)}:", cluster.Node(k).Endpoint);
        await AssertMatchesNative(cluster, "bigmem", "--memory-nodes", cluster.MemoryNodes, "--excache", "64K");
        await AssertMatchesNative(cluster, "sieve", "--memory-nodes", cluster.MemoryNodes, "--excache", "64K", "--replicas", "2");
        foreach (var guest in new[] { "threads", "threads_futex" })
        {
            using var threadHosts = cluster.ThreadHosts();
            await AssertMatchesNative(cluster, guest, "--memory-nodes", cluster.MemoryNodes, "--processors", threadHosts.Endpoints);
        }
    }
}
