using System.Diagnostics;
using LegoEmu.Mem.Remote;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// A long-running shared memory node gives back every frame of a guest when the guest's process ends: by exit,
/// by forking children that exit, and by being killed (its connection ends).
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class SpaceLifetimeTests(GuestBuilds builds) : IDisposable
{
    const string ForkAndSpinSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/wait.h>
        #include <unistd.h>
        /* Dirties 8 MiB, forks a child that dirties its own copy, then either exits or (with an argument) waits forever. */
        int main(int argc, char **argv) {
            size_t n = 8 << 20;
            char *p = malloc(n);
            memset(p, 1, n);
            pid_t c = fork();
            if (c == 0) { memset(p, 2, n / 2); return 0; }
            int st;
            waitpid(c, &st, 0);
            printf("ready\n");
            fflush(stdout);
            if (argc > 1) for (;;) pause();
            return p[n - 1] == 1 ? 0 : 1;
        }
        """;

    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-lifetime-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static long Frames(string endpoint)
    {
        Endpoint.TryParse(endpoint, out var ep, out _);
        using var client = new MemoryNodeClient(ep!, 0);
        client.RefreshStats();
        return client.UsedFrames;
    }

    /// <summary>Waits (bounded by the run timeout) for the node to come back to <paramref name="baseline"/>.</summary>
    static async Task AssertReturnsTo(string endpoint, long baseline, string after)
    {
        var clock = Stopwatch.StartNew();
        long frames = Frames(endpoint);
        while (frames != baseline && clock.Elapsed < EmulatorRunner.RunTimeout)
        {
            await Task.Delay(100);
            frames = Frames(endpoint);
        }
        Assert.True(frames == baseline, $"after {after}: {frames} frames held, baseline {baseline}");
    }

    [Fact]
    public async Task ASharedNodeReturnsToItsBaselineAfterEveryRun()
    {
        using var node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "shared.sock")}");
        using var guest = await InlineGuest.BuildAsync("forkspin", ForkAndSpinSource);
        long baseline = Frames(node.Endpoint);
        Assert.Equal(0, baseline);

        for (int run = 0; run < 2; run++)
        {
            var r = await EmulatorRunner.RunAsync("run", "--memory-nodes", node.Endpoint, guest.Binary);
            Assert.Equal(0, r.ExitCode);
            Assert.Equal("ready\n", r.StdoutText);
            await AssertReturnsTo(node.Endpoint, baseline, $"run {run + 1}");
        }
        var stress = await EmulatorRunner.RunAsync("run", "--memory-nodes", node.Endpoint, builds.Binary("malloc_stress"));
        Assert.Equal(0, stress.ExitCode);
        await AssertReturnsTo(node.Endpoint, baseline, "malloc_stress");

        // A run killed while it holds memory: its connection ends, and so does its address space.
        var (file, prefix) = EmulatorRunner.Command;
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(["run", "--memory-nodes", node.Endpoint, guest.Binary, "spin"])) psi.ArgumentList.Add(a);
        using var killed = Process.Start(psi)!;
        var line = await killed.StandardOutput.ReadLineAsync().WaitAsync(EmulatorRunner.RunTimeout);
        Assert.Equal("ready", line);
        Assert.True(Frames(node.Endpoint) > baseline, "the running guest holds no frames");
        killed.Kill(); // SIGKILL to exactly this process
        killed.WaitForExit();
        await AssertReturnsTo(node.Endpoint, baseline, "a killed run");
        Assert.False(node.HasExited);
    }
}
