using LegoEmu.Tests.Differential;
using LegoEmu.Tests.Remote;
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

    async Task<string> Credentials()
    {
        string dir = Path.Combine(_dir, "cluster");
        var r = await EmulatorRunner.RunAsync("cluster", "init", dir);
        Assert.True(r.ExitCode == 0, r.StderrText);
        return dir;
    }

    async Task AssertMatchesNative(NetworkHosts hosts, string guest, params string[] options)
    {
        var spec = Guests.Get(guest);
        var native = await builds.NativeRunAsync(spec);
        var run = await hosts.RunAsync(0, ["run", .. options, builds.Binary(guest), .. spec.Arguments]);
        StaticGuestTests.AssertSameOutput($"stdout of {guest} over {hosts.Description}", "native stdout", native.Stdout, run.Stdout, run);
        Assert.True(native.ExitCode == run.ExitCode, $"{guest} over {hosts.Description}: exit {run.ExitCode}, native {native.ExitCode}\n{run.StderrTail()}");
    }

    [Fact]
    public async Task GuestsMatchNativeWithMemoryOnThreeHostsAndThreadsOnTwo()
    {
        string key = await Credentials();
        // Host 0 runs the guest's component, 1 to 3 a memory node each, 4 and 5 a thread host each.
        using var hosts = new NetworkHosts(6);
        var nodes = new List<MemoryNodeProcess>();
        try
        {
            for (int k = 1; k <= 3; k++)
            {
                nodes.Add(new MemoryNodeProcess(hosts.Listen(k), extra: ["--credentials", key], launcher: hosts.Launcher(k)));
                Assert.StartsWith($"tcp:{hosts.Address(k)}:", nodes[^1].Endpoint);
            }
            string memory = string.Join(",", nodes.Select(c => c.Endpoint));
            await AssertMatchesNative(hosts, "bigmem", "--credentials", key, "--memory-nodes", memory, "--excache", "64K");
            await AssertMatchesNative(hosts, "sieve", "--credentials", key, "--memory-nodes", memory, "--excache", "64K", "--replicas", "2");
            foreach (var guest in new[] { "threads", "threads_futex" })
            {
                // A thread host serves one home, then ends: each run gets two of its own.
                var threadHosts = new List<MemoryNodeProcess>();
                try
                {
                    for (int k = 4; k <= 5; k++) threadHosts.Add(new MemoryNodeProcess(hosts.Listen(k), verb: "procnode", extra: ["--credentials", key], launcher: hosts.Launcher(k)));
                    await AssertMatchesNative(hosts, guest, "--credentials", key, "--memory-nodes", memory, "--processors", string.Join(",", threadHosts.Select(h => h.Endpoint)));
                }
                finally
                {
                    foreach (var h in threadHosts) h.Dispose();
                }
            }
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }
}
