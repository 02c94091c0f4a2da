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

    [Fact]
    public async Task SpreadWithoutIdleProcessorComponentsIsOneLine()
    {
        string cluster = etcd.Cluster($"spread-none-{Guid.NewGuid():N}"[..40]);
        using var node = new MemoryNodeProcess(LoopbackHosts.Listen(0), extra: ["--cluster", cluster]);
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("run", "--cluster", cluster, "--spread", "threads", "/bin/true"), 2, "no idle processor component");
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("run", "--cluster", cluster, "--spread", "processes", "/bin/true"), 2, "not supported yet");
        ClusterCli.AssertOneLineError(await EmulatorRunner.RunAsync("run", "--spread", "threads", "/bin/true"), 2, "needs --cluster");
    }
}
