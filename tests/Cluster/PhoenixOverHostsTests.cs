using LegoEmu.Tests.Differential;
using LegoEmu.Tests.Regress;
using Xunit;

namespace LegoEmu.Tests.Cluster;

/// <summary>
/// Phoenix-style apps (small inputs, 4 worker threads) over components on several hosts (see <see cref="HostedCluster"/>):
/// memory on three hosts with an ExCache of 256 KiB, the threads on two more; stdout and exit status as native.
/// </summary>
[Collection(PhoenixCollection.Name)]
public sealed class PhoenixOverHostsTests(PhoenixFixture phoenix) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-phoenix-hosts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AppsMatchNativeWithMemoryOnThreeHostsAndThreadsOnTwo()
    {
        var cases = phoenix.Manifest.Cases.Where(c => c.Name is "word_count" or "histogram" or "kmeans").ToList();
        Assert.Equal(3, cases.Count);
        using var cluster = await HostedCluster.StartAsync(_dir);
        foreach (var c in cases)
        {
            var env = c.Environment.ToDictionary(e => e.Key, e => (string?)e.Value);
            var native = await ProcessRunner.RunAsync(c.Command[0], c.Command.Skip(1), EmulatorRunner.RunTimeout, env, scaleTimeout: false);
            using var threadHosts = cluster.ThreadHosts();
            var run = await cluster.RunAsync(["--memory-nodes", cluster.MemoryNodes, "--excache", "256K", "--processors", threadHosts.Endpoints], c.Command, env);
            StaticGuestTests.AssertSameOutput($"stdout of {c.Name} over {cluster.Hosts.Description}", "native stdout", native.Stdout, run.Stdout, run);
            Assert.True(native.ExitCode == run.ExitCode, $"{c.Name}: exit {run.ExitCode}, native {native.ExitCode}\n{run.StderrTail()}");
        }
    }
}
