using LegoEmu.Cluster.Membership;
using LegoEmu.Tests.Differential;
using LegoEmu.Tests.Remote;
using Xunit;

namespace LegoEmu.Tests.Cluster;

/// <summary>
/// <c>run --cluster</c> with no endpoint list: the guest's memory goes to the memory nodes registered in etcd, the
/// placement is visible in etcd while it runs, and the output is the native one; with <c>--replicas 2</c> a node
/// killed under the guest changes nothing the guest sees, and the cluster's state shows the failure and the new
/// placement.
/// </summary>
public sealed class ClusterRunTests(EtcdServer etcd) : IClassFixture<EtcdServer>
{
    /// <summary>Fills 8 MiB, then at each gate waits for a line: the test looks at (or breaks) the cluster in between.</summary>
    internal const string GatedSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        static int gate(const char *where) {
            char line[8];
            printf("%s\n", where);
            fflush(stdout);
            return fgets(line, sizeof line, stdin) != 0;
        }
        int main(void) {
            size_t n = 8 << 20;
            unsigned char *p = malloc(n);
            memset(p, 1, n);
            if (!gate("placed")) return 2;
            unsigned long sum = 0;
            for (int round = 0; round < 3; round++) {
                memset(p, round + 2, n);
                for (size_t i = 0; i < n; i += 4096) sum += p[i] * (i >> 12);
            }
            printf("sum %lu\n", sum);
            if (!gate("summed")) return 3;
            printf("done\n");
            return 7;
        }
        """;

    static string Unique(string what) => $"{what}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40];

    static List<MemoryNodeProcess> StartNodes(string cluster, int count, params string[] extra)
    {
        var nodes = new List<MemoryNodeProcess>();
        try
        {
            for (int i = 0; i < count; i++) nodes.Add(new MemoryNodeProcess(LoopbackHosts.Listen(i), extra: ["--cluster", cluster, "--lease-ttl", "2", .. extra]));
            return nodes;
        }
        catch
        {
            foreach (var n in nodes) n.Dispose();
            throw;
        }
    }

    /// <summary>Runs the gated guest through both gates with nothing done at them: the native oracle.</summary>
    internal static async Task<(string Stdout, int Status)> NativeAsync(string binary)
    {
        using var native = new GatedProcess(binary, []);
        await native.WaitForAsync("placed");
        native.Continue();
        await native.WaitForAsync("summed");
        native.Continue();
        return await native.FinishAsync();
    }

    EtcdStore Store(string name) => new(new ClusterSpec([("127.0.0.1", etcd.Port)], name));

    static List<PlacementRecord> Placements(EtcdStore store) =>
        store.Range(store.Keys.Placements).Select(kv => PlacementRecord.Parse(kv.Key, kv.Value)).ToList();

    /// <summary>
    /// The placement once the run has written some: it writes from a thread of its own so that the guest never waits
    /// for etcd, so the guest's "placed" may come first (seen on a busy machine).
    /// </summary>
    static async Task<List<PlacementRecord>> WrittenPlacements(EtcdStore store)
    {
        var deadline = DateTime.UtcNow + MachineLoad.Scale(TimeSpan.FromSeconds(10));
        while (true)
        {
            var placements = Placements(store);
            if (placements.Count > 0 || DateTime.UtcNow > deadline) return placements;
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task AGuestWithOnlyClusterMatchesNativeAndItsRegionsAreInEtcd()
    {
        string name = Unique("run");
        string cluster = etcd.Cluster(name);
        using var guest = await InlineGuest.BuildAsync("gated", GatedSource);
        var nodes = StartNodes(cluster, 3);
        try
        {
            var native = await NativeAsync(guest.Binary);
            using var run = GatedProcess.Emulator("run", "--cluster", cluster, "--excache", "64K", guest.Binary);
            await run.WaitForAsync("placed");
            using var store = Store(name);
            var placements = await WrittenPlacements(store);
            Assert.NotEmpty(placements);
            var endpoints = nodes.Select(n => n.Endpoint).ToHashSet();
            Assert.All(placements, p => { Assert.Contains(p.Primary, endpoints); Assert.Null(p.Backup); });
            Assert.Single(store.Range(store.Keys.Runs));
            var members = await ClusterCli.MembersAsync(cluster);
            Assert.Equal(placements.Count, members.Values.Sum(m => m.GetProperty("primaryRegions").GetInt32()));
            run.Continue();
            await run.WaitForAsync("summed");
            run.Continue();
            var emulated = await run.FinishAsync();
            Assert.True(native == emulated, $"native: {native}, under run --cluster: {emulated}; stderr: {run.Stderr}");
            // The run's lease went with it: so did its placement.
            Assert.Empty(Placements(store));
            Assert.Empty(store.Range(store.Keys.Runs));
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    [Fact]
    public async Task AKilledNodeUnderAReplicatedGuestChangesNothingItSeesAndStatusShowsTheFailure()
    {
        string name = Unique("failover");
        string cluster = etcd.Cluster(name);
        using var guest = await InlineGuest.BuildAsync("gated", GatedSource);
        var nodes = StartNodes(cluster, 3);
        try
        {
            var native = await NativeAsync(guest.Binary);
            using var run = GatedProcess.Emulator("run", "--cluster", cluster, "--replicas", "2", "--node-timeout", "5", "--excache", "64K", guest.Binary);
            await run.WaitForAsync("placed");
            using var store = Store(name);
            var placements = await WrittenPlacements(store);
            Assert.NotEmpty(placements);
            // Backups on another host than their primary: every node here has an address of its own.
            Assert.All(placements, p => Assert.True(p.Backup != null && Host(p.Backup) != Host(p.Primary), $"{p.Primary} backed up on {p.Backup}"));
            // The node that is primary for the most regions dies (SIGKILL) while the guest waits.
            string victim = placements.GroupBy(p => p.Primary).OrderByDescending(g => g.Count()).First().Key;
            nodes.Single(n => n.Endpoint == victim).Kill();
            run.Continue();
            await run.WaitForAsync("summed");
            // The guest has written all of its memory since: it found the node dead and failed it over.
            var members = await ClusterCli.WaitForAsync(cluster, m => m.TryGetValue(victim, out var v) && v.GetProperty("failures").GetInt32() >= 1, $"the failure of {victim}");
            var after = Placements(store);
            Assert.True(after.Count >= placements.Count, $"{after.Count} placements after the failover, {placements.Count} before");
            Assert.All(after, p => { Assert.NotEqual(victim, p.Primary); Assert.NotEqual(victim, p.Backup); });
            var table = await EmulatorRunner.RunAsync("cluster", "status", "--cluster", cluster);
            Assert.Contains($"failure of {victim}", table.StdoutText);
            run.Continue();
            var emulated = await run.FinishAsync();
            Assert.True(native == emulated, $"native: {native}, under run --cluster --replicas 2 with a node killed: {emulated}; stderr: {run.Stderr}");
            // Once its lease has run out, the dead node is no member any more, but its failure is still shown.
            members = await ClusterCli.WaitForAsync(cluster, m => m.TryGetValue(victim, out var v) && v.GetProperty("state").GetString() == "failed", $"{victim} as failed");
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    static extern int Signal(int pid, int sig);

    [Fact]
    public async Task ANodeWhoseLeaseExpiresIsFailedOverBeforeItsTimeout()
    {
        string name = Unique("lease-failover");
        string cluster = etcd.Cluster(name);
        using var guest = await InlineGuest.BuildAsync("gated", GatedSource);
        var nodes = StartNodes(cluster, 3);
        try
        {
            var native = await NativeAsync(guest.Binary);
            // A node timeout far beyond the lease: only the membership can tell the run in time.
            using var run = GatedProcess.Emulator("run", "--cluster", cluster, "--replicas", "2", "--node-timeout", "600", "--excache", "64K", guest.Binary);
            await run.WaitForAsync("placed");
            using var store = Store(name);
            var placed = await WrittenPlacements(store);
            Assert.NotEmpty(placed);
            string victim = placed.GroupBy(p => p.Primary).OrderByDescending(g => g.Count()).First().Key;
            var node = nodes.Single(n => n.Endpoint == victim);
            Assert.Equal(0, Signal(node.Pid, 19)); // SIGSTOP: the node is cut off, its lease runs out
            await ClusterCli.WaitForAsync(cluster, m => !m.TryGetValue(victim, out var v) || v.GetProperty("state").GetString() == "failed", $"{victim} gone",
                context: () => $"etcd's log ends:\n{etcd.LogTail()}");
            run.Continue();
            await run.WaitForAsync("summed");
            var members = await ClusterCli.WaitForAsync(cluster, m => m.TryGetValue(victim, out var v) && v.GetProperty("failures").GetInt32() >= 1, $"the failure of {victim}");
            Assert.Contains("lease in etcd expired", members[victim].GetProperty("lastFailure").GetString());
            Assert.All(Placements(store), p => { Assert.NotEqual(victim, p.Primary); Assert.NotEqual(victim, p.Backup); });
            node.Kill(); // the run's heartbeat to it still waits; a dead node answers at once
            run.Continue();
            var emulated = await run.FinishAsync();
            Assert.True(native == emulated, $"native: {native}, with a node cut off: {emulated}; stderr: {run.Stderr}");
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    /// <summary>
    /// Without <c>--replicas 2</c> a node that holds the guest's only copy and leaves the membership (stopped, its lease
    /// runs out) ends the run with one line naming it and status 135, as a dead node does: while the guest waits in a
    /// read that the node has nothing to do with, long before the node timeout.
    /// </summary>
    [Fact]
    public async Task ANodeWhoseLeaseExpiresEndsARunWithoutCopies()
    {
        string name = Unique("lease-end");
        string cluster = etcd.Cluster(name);
        using var guest = await InlineGuest.BuildAsync("gated", GatedSource);
        var nodes = StartNodes(cluster, 1);
        try
        {
            using var run = GatedProcess.Emulator("run", "--cluster", cluster, "--node-timeout", "600", "--excache", "64K", guest.Binary);
            await run.WaitForAsync("placed");
            var node = nodes[0];
            Assert.Equal(0, Signal(node.Pid, 19)); // SIGSTOP: the node is cut off, its lease (2 s) runs out
            // The lease, the run's look at the membership once a second, and a wide margin for a busy machine (the load
            // average that scales it lags behind a test suite's own start; 10 s in all once fell short there), still
            // far below the node timeout the run would otherwise wait for.
            var within = MachineLoad.Scale(TimeSpan.FromSeconds(2 + 1 + 37));
            int? status = await run.ExitedAsync(within);
            Assert.True(status != null, $"the run still ran {within.TotalSeconds:0} s after its node was stopped (node timeout 600 s); stderr: {run.Stderr}\netcd's log ends:\n{etcd.LogTail()}");
            Assert.Equal(135, status);
            var lines = run.Stderr.Trim().Split('\n');
            Assert.True(lines.Length == 1 && lines[0].Contains($"memory node {node.Endpoint} (node 0) left the cluster: its lease in etcd expired", StringComparison.Ordinal),
                $"expected one line naming the node; stderr: {run.Stderr}");
            node.Kill();
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    static string Host(string endpoint) => endpoint[..endpoint.LastIndexOf(':')];

    [Fact]
    public async Task ClusterRunsWithCredentials()
    {
        string name = Unique("creds");
        string cluster = etcd.Cluster(name);
        string dir = Directory.CreateTempSubdirectory("legoemu-cluster-creds-").FullName;
        try
        {
            Assert.Equal(0, (await EmulatorRunner.RunAsync("cluster", "init", Path.Combine(dir, "c"))).ExitCode);
            string creds = Path.Combine(dir, "c");
            using var guest = await InlineGuest.BuildAsync("gated", GatedSource);
            var nodes = StartNodes(cluster, 2, "--credentials", creds);
            try
            {
                var native = await NativeAsync(guest.Binary);
                using var run = GatedProcess.Emulator("run", "--credentials", creds, "--cluster", cluster, "--replicas", "2", "--excache", "64K", guest.Binary);
                await run.WaitForAsync("placed");
                run.Continue();
                await run.WaitForAsync("summed");
                run.Continue();
                var emulated = await run.FinishAsync();
                Assert.True(native == emulated, $"native: {native}, with credentials: {emulated}; stderr: {run.Stderr}");
            }
            finally
            {
                foreach (var n in nodes) n.Dispose();
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ARunWithoutUsableNodesIsOneLine()
    {
        string empty = etcd.Cluster(Unique("empty"));
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("run", "--cluster", empty, "/bin/true"), 2, "no memory node");
        string nowhere = $"etcd:127.0.0.1:{LoopbackHosts.ClosedPort()}";
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("run", "--cluster", nowhere, "/bin/true"), 2, $"etcd at {nowhere}: ");
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("run", "--cluster", empty, "--memory-nodes", "2", "/bin/true"), 2, "--memory-nodes");
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("run", "--cluster", "etcd:nowhere", "/bin/true"), 2, "bad --cluster");
    }
}

/// <summary>etcd going away under a running guest and its memory nodes costs one line each, not the guest.</summary>
public sealed class EtcdVanishingTests
{
    [Fact]
    public async Task AGuestGoesOnWhenEtcdGoesAway()
    {
        using var guest = await InlineGuest.BuildAsync("gated", ClusterRunTests.GatedSource);
        var native = await ClusterRunTests.NativeAsync(guest.Binary);
        var etcd = new EtcdServer();
        var nodes = new List<MemoryNodeProcess>();
        try
        {
            string cluster = etcd.Cluster("vanishing");
            for (int i = 0; i < 2; i++) nodes.Add(new MemoryNodeProcess(LoopbackHosts.Listen(i), extra: ["--cluster", cluster, "--lease-ttl", "2"]));
            using var run = GatedProcess.Emulator("run", "--cluster", cluster, "--replicas", "2", "--excache", "64K", guest.Binary);
            await run.WaitForAsync("placed");
            etcd.Dispose(); // SIGKILL: etcd is gone for good
            run.Continue();
            await run.WaitForAsync("summed");
            run.Continue();
            var emulated = await run.FinishAsync();
            Assert.True(native == emulated, $"native: {native}, with etcd gone: {emulated}; stderr: {run.Stderr}");
            Assert.DoesNotContain("   at ", run.Stderr);
            Assert.True(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 2, $"more than a line or two about etcd: {run.Stderr}");
            // The nodes say so once, and go on serving.
            foreach (var n in nodes)
            {
                Assert.True(n.LogContains("going on, and registering again when etcd answers"), $"node {n.Endpoint}: {n.Log}");
                Assert.False(n.HasExited);
                Assert.Single(n.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("etcd"));
            }
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
            etcd.Dispose();
        }
    }
}
