using System.Text.RegularExpressions;
using LegoEmu.Tests.Differential;
using LegoEmu.Tests.Remote;
using Xunit;

namespace LegoEmu.Tests.Cluster;

/// <summary>
/// <c>run --cluster --spread threads</c>: the pthread guests with their memory on two registered memory nodes and
/// their threads on two registered processor components (each on an address of its own), matching native.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class ClusterSpreadTests(GuestBuilds builds, EtcdServer etcd) : IClassFixture<EtcdServer>
{
    [Theory]
    [InlineData("threads")]
    [InlineData("threads_futex")]
    [InlineData("atomics")]
    public async Task ThreadsOnRegisteredProcessorComponentsMatchNative(string guest)
    {
        string cluster = etcd.Cluster($"spread-{guest}-{Guid.NewGuid():N}"[..40].TrimEnd('-'));
        var components = new List<MemoryNodeProcess>();
        try
        {
            for (int i = 0; i < 2; i++) components.Add(new MemoryNodeProcess(LoopbackHosts.Listen(i), extra: ["--cluster", cluster]));
            for (int i = 2; i < 4; i++) components.Add(new MemoryNodeProcess(LoopbackHosts.Listen(i), verb: "procnode", extra: ["--cluster", cluster]));
            var spec = Guests.Get(guest);
            var native = await builds.NativeRunAsync(spec);
            Assert.True(!native.TimedOut && native.ExitCode == spec.ExpectedExitCode, $"The native run is not a usable reference: {native}");
            var emulated = await EmulatorRunner.RunAsync(
                new[] { "run", "--stats", "--cluster", cluster, "--spread", "threads", "--excache", "64K" }.Concat(spec.RunOptions).Append(builds.Binary(guest)).Concat(spec.Arguments),
                Guests.Environment, Guests.EnvironmentPrefixToClear);
            StaticGuestTests.AssertSameOutput("emulated stdout", "native stdout", native.Stdout, emulated.Stdout, emulated,
                $"exit status: native {native.ExitCode}, emulated {emulated.ExitCode}");
            Assert.True(emulated.ExitCode == native.ExitCode, $"exit status: native {native.ExitCode}, emulated {emulated.ExitCode}\n{emulated.StderrTail()}");
            Assert.Matches(@"thread \d+ +ran on component [1-9]", emulated.StderrText);
            // A thread host serves one home: it is gone from the cluster once the run is over.
            await ClusterCli.WaitForAsync(cluster, m => !m.ContainsKey(components[2].Endpoint) && !m.ContainsKey(components[3].Endpoint), "the thread hosts gone");
        }
        finally
        {
            foreach (var c in components) c.Dispose();
        }
    }

    /// <summary>
    /// <c>--spread processes</c>: fork_workers forks three CPU-bound children that answer through pipes and exit with
    /// statuses of their own; with two registered processor components, two of the children compute on them (their
    /// system calls coming back to their components here) and the third, with none left, runs here. Each host's
    /// own report of the instructions it ran shows up in its process's --stats, next to the endpoint it registered.
    /// With "exec" each child runs the work in the program it execve's, which computes where the child was placed.
    /// </summary>
    [Theory]
    [InlineData("fork")]
    [InlineData("exec")]
    public async Task ForkedProcessesOnRegisteredProcessorComponentsMatchNative(string mode)
    {
        string cluster = etcd.Cluster($"spread-{mode}-{Guid.NewGuid():N}"[..40]);
        var components = new List<MemoryNodeProcess>();
        try
        {
            components.Add(new MemoryNodeProcess(LoopbackHosts.Listen(0), extra: ["--cluster", cluster]));
            for (int i = 1; i < 3; i++) components.Add(new MemoryNodeProcess(LoopbackHosts.Listen(i), verb: "procnode", extra: ["--cluster", cluster]));
            var spec = Guests.Get("fork_workers") with { Arguments = mode == "exec" ? ["200000", "3", "exec"] : ["200000", "3"] };
            var native = await builds.RunNativeAsync(spec);
            Assert.True(!native.TimedOut && native.ExitCode == 0, $"The native run is not a usable reference: {native}");
            var emulated = await EmulatorRunner.RunAsync(
                new[] { "run", "--stats", "--cluster", cluster, "--spread", "processes" }.Append(builds.Binary("fork_workers")).Concat(spec.Arguments),
                Guests.Environment, Guests.EnvironmentPrefixToClear);
            StaticGuestTests.AssertSameOutput("emulated stdout", "native stdout", native.Stdout, emulated.Stdout, emulated,
                $"exit status: native {native.ExitCode}, emulated {emulated.ExitCode}");
            Assert.True(emulated.ExitCode == 0, $"exit status {emulated.ExitCode}\n{emulated.StderrTail()}");
            string stderr = emulated.StderrText;
            // A forked process labels its stats with its pid: the component it ran on, and the instructions that component counted.
            var placed = Regex.Matches(stderr, @"legoemu\[(\d+)\]:   component 1 is (\S+)\n").ToDictionary(m => m.Groups[2].Value, m => m.Groups[1].Value);
            Assert.True(placed.Count == 2, $"expected two forked processes on the two hosts:\n{stderr}");
            // The child that ran here (no component was left for it) did the same work: the hosts ran the children's loops.
            var local = Regex.Matches(stderr, @"legoemu\[(\d+)\]: guest instructions +([0-9,]+)").Where(m => !placed.ContainsValue(m.Groups[1].Value)).ToList();
            Assert.True(local.Count == 1, $"expected exactly one child run here:\n{stderr}");
            long here = long.Parse(local[0].Groups[2].Value.Replace(",", ""));
            foreach (var host in components.Skip(1))
            {
                Assert.True(placed.TryGetValue(host.Endpoint, out string? pid), $"no forked process ran on {host.Endpoint}:\n{stderr}");
                var ran = Regex.Match(stderr, $@"legoemu\[{pid}\]:   thread {pid} +ran on component 1, ([0-9,]+) instructions");
                Assert.True(ran.Success, $"process {pid}'s thread did not run on {host.Endpoint}:\n{stderr}");
                long remote = long.Parse(ran.Groups[1].Value.Replace(",", ""));
                Assert.True(remote >= here * 9 / 10, $"{host.Endpoint} ran {remote:N0} instructions of process {pid}, the child run here {here:N0}:\n{stderr}");
            }
            await ClusterCli.WaitForAsync(cluster, m => !m.ContainsKey(components[1].Endpoint) && !m.ContainsKey(components[2].Endpoint), "the hosts gone");
        }
        finally
        {
            foreach (var c in components) c.Dispose();
        }
    }

    /// <summary>
    /// Process relations and shared memory across placed processes: process_tree's parents, groups, stops and orphans,
    /// and shared_exec's children that increment MAP_SHARED counters or execve right after an atomic increment, with
    /// their first forks placed on four registered processor components, match native.
    /// </summary>
    [Theory]
    [InlineData("process_tree")]
    [InlineData("shared_exec")]
    public async Task ProcessGuestsWithPlacedProcessesMatchNative(string guest)
    {
        string cluster = etcd.Cluster($"spread-{guest}-{Guid.NewGuid():N}"[..40].TrimEnd('-'));
        var components = new List<MemoryNodeProcess>();
        try
        {
            components.Add(new MemoryNodeProcess(LoopbackHosts.Listen(0), extra: ["--cluster", cluster]));
            for (int i = 1; i < 5; i++) components.Add(new MemoryNodeProcess(LoopbackHosts.Listen(i), verb: "procnode", extra: ["--cluster", cluster]));
            var spec = Guests.Get(guest);
            var native = await builds.NativeRunAsync(spec);
            Assert.True(!native.TimedOut && native.ExitCode == spec.ExpectedExitCode, $"The native run is not a usable reference: {native}");
            var emulated = await EmulatorRunner.RunAsync(
                new[] { "run", "--stats", "--cluster", cluster, "--spread", "processes" }.Concat(spec.RunOptions).Append(builds.Binary(guest)).Concat(spec.Arguments),
                Guests.Environment, Guests.EnvironmentPrefixToClear);
            StaticGuestTests.AssertSameOutput("emulated stdout", "native stdout", native.Stdout, emulated.Stdout, emulated,
                $"exit status: native {native.ExitCode}, emulated {emulated.ExitCode}");
            Assert.True(emulated.ExitCode == native.ExitCode, $"exit status: native {native.ExitCode}, emulated {emulated.ExitCode}\n{emulated.StderrTail()}");
            Assert.True(Regex.Matches(emulated.StderrText, @"legoemu\[\d+\]:   component 1 is ").Count > 0, $"no forked process was placed:\n{emulated.StderrTail()}");
        }
        finally
        {
            foreach (var c in components) c.Dispose();
        }
    }

    [Fact]
    public async Task SpreadWithoutIdleProcessorComponentsIsOneLine()
    {
        string cluster = etcd.Cluster($"spread-none-{Guid.NewGuid():N}"[..40]);
        using var node = new MemoryNodeProcess(LoopbackHosts.Listen(0), extra: ["--cluster", cluster]);
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("run", "--cluster", cluster, "--spread", "threads", "/bin/true"), 2, "no idle processor component");
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("run", "--cluster", cluster, "--spread", "processes", "/bin/true"), 2, "no idle processor component");
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("run", "--spread", "threads", "/bin/true"), 2, "needs --cluster");
    }
}
