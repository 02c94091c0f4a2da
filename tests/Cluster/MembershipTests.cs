using LegoEmu.Cluster.Membership;
using LegoEmu.Tests.Differential;
using LegoEmu.Tests.Remote;
using Xunit;

namespace LegoEmu.Tests.Cluster;

/// <summary>
/// Memory nodes and processor components that join a cluster with <c>--cluster</c> register in a real etcd under
/// a lease, <c>cluster status</c> lists them, a killed one leaves when its lease expires, and bad input gets one line.
/// </summary>
public sealed class MembershipTests(EtcdServer etcd) : IClassFixture<EtcdServer>
{
    static string Unique(string what) => $"{what}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40];

    [Fact]
    public async Task StatusListsThreeMemoryNodesAndTwoProcessorComponentsOnDistinctAddresses()
    {
        string cluster = etcd.Cluster(Unique("status"));
        var nodes = new List<MemoryNodeProcess>();
        try
        {
            for (int i = 0; i < 3; i++)
                nodes.Add(new MemoryNodeProcess(LoopbackHosts.Listen(i), capacity: i == 0 ? "64M" : null, extra: ["--cluster", cluster]));
            for (int i = 3; i < 5; i++)
                nodes.Add(new MemoryNodeProcess(LoopbackHosts.Listen(i), verb: "procnode", extra: ["--cluster", cluster]));
            // A component registers before it says where it listens: no waiting here.
            var members = await ClusterCli.MembersAsync(cluster);
            Assert.Equal(nodes.Select(n => n.Endpoint).Order(), members.Keys.Order());
            foreach (var (n, i) in nodes.Select((n, i) => (n, i)))
            {
                var m = members[n.Endpoint];
                Assert.Equal(i < 3 ? "memory" : "processor", m.GetProperty("kind").GetString());
                Assert.Equal("up", m.GetProperty("state").GetString());
                Assert.Equal(n.Pid, m.GetProperty("pid").GetInt32());
                Assert.StartsWith($"tcp:{LoopbackHosts.Address(i)}:", n.Endpoint);
            }
            Assert.Equal(64L << 20, members[nodes[0].Endpoint].GetProperty("capacityBytes").GetInt64());
            var table = await EmulatorRunner.RunAsync("cluster", "status", "--cluster", cluster);
            Assert.Equal(0, table.ExitCode);
            Assert.Contains("3 memory nodes, 2 processor components", table.StdoutText);
            foreach (var n in nodes) Assert.Contains(n.Endpoint, table.StdoutText);
            Assert.Contains("unbounded", table.StdoutText);
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    [Fact]
    public async Task AKilledNodeLeavesWhenItsLeaseExpires()
    {
        string cluster = etcd.Cluster(Unique("lease"));
        using var stays = new MemoryNodeProcess(LoopbackHosts.Listen(0), extra: ["--cluster", cluster, "--lease-ttl", "2"]);
        using var dies = new MemoryNodeProcess(LoopbackHosts.Listen(1), extra: ["--cluster", cluster, "--lease-ttl", "2"]);
        var before = await ClusterCli.MembersAsync(cluster);
        Assert.Contains(dies.Endpoint, before.Keys);
        dies.Kill(); // SIGKILL: nothing of the node's own runs, only the lease can tell
        await ClusterCli.WaitForAsync(cluster, m => !m.ContainsKey(dies.Endpoint), $"{dies.Endpoint} gone");
        var after = await ClusterCli.MembersAsync(cluster);
        Assert.Contains(stays.Endpoint, after.Keys);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    static extern int Signal(int pid, int sig);

    [Fact]
    public async Task ATerminatedComponentLeavesAtOnce()
    {
        string cluster = etcd.Cluster(Unique("term"));
        // A lease of an hour: only the component's own revocation can take it out within the test.
        using var node = new MemoryNodeProcess(LoopbackHosts.Listen(0), extra: ["--cluster", cluster, "--lease-ttl", "3600"]);
        using var host = new MemoryNodeProcess(LoopbackHosts.Listen(1), verb: "procnode", extra: ["--cluster", cluster, "--lease-ttl", "3600"]);
        Assert.Equal(2, (await ClusterCli.MembersAsync(cluster)).Count);
        Assert.Equal(0, Signal(node.Pid, 15));
        Assert.Equal(0, Signal(host.Pid, 15));
        await ClusterCli.WaitForAsync(cluster, m => m.Count == 0, "both components gone");
    }

    [Fact]
    public async Task AnUnreachableEtcdIsOneLineAndANonzeroStatus()
    {
        string nowhere = $"etcd:127.0.0.1:{LoopbackHosts.ClosedPort()}";
        // "cannot connect (Connection refused)", or on a loaded machine "no answer within 5 s" while gRPC still retries.
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("cluster", "status", "--cluster", nowhere), 1, $"etcd at {nowhere}: ");
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("memnode", "--listen", "tcp:127.0.0.1:0", "--cluster", nowhere), 1, $"etcd at {nowhere}: ");
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("procnode", "--listen", "tcp:127.0.0.1:0", "--cluster", nowhere), 1, $"etcd at {nowhere}: ");
    }

    [Theory]
    [InlineData("127.0.0.1:2379")]
    [InlineData("etcd:")]
    [InlineData("etcd:127.0.0.1")]
    [InlineData("etcd:127.0.0.1:0")]
    [InlineData("etcd:127.0.0.1:99999")]
    [InlineData("etcd:127.0.0.1:2379,")]
    [InlineData("etcd:127.0.0.1:2379/")]
    [InlineData("etcd:127.0.0.1:2379/a/b")]
    [InlineData("etcd:host name:2379")]
    public async Task ABadClusterValueIsOneLineAndStatusTwo(string value)
    {
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("cluster", "status", "--cluster", value), 2, "bad --cluster");
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("memnode", "--listen", "tcp:127.0.0.1:0", "--cluster", value), 2, "bad --cluster");
    }

    [Fact]
    public async Task AMalformedRecordInEtcdIsOneLineNamingTheKey()
    {
        string name = Unique("malformed");
        using var store = new EtcdStore(new ClusterSpec([("127.0.0.1", etcd.Port)], name));
        string key = store.Keys.Member("memory", "x");
        foreach (var junk in new[] { "garbage", "{\"kind\":\"memory\"}", "[1,2]", "{\"kind\":\"disk\",\"endpoint\":\"tcp:1.2.3.4:5\",\"host\":\"h\",\"pid\":1,\"usedBytes\":0,\"load\":0}",
                     "{\"kind\":\"memory\",\"endpoint\":\"tcp:1.2.3.4:5\",\"host\":\"h\",\"pid\":-1,\"usedBytes\":0,\"load\":0}" })
        {
            store.Put(key, junk);
            ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("cluster", "status", "--cluster", etcd.Cluster(name)), 1, key);
        }
        store.Delete(key);
        Assert.Empty(await ClusterCli.MembersAsync(etcd.Cluster(name)));
    }
}
