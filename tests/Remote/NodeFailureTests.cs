using System.Diagnostics;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// A memory node that freezes (SIGSTOP) while a guest depends on it ends the guest after --node-timeout with one
/// line naming the node and status 135, as a dead node does, instead of hanging it forever.
/// </summary>
public sealed class NodeFailureTests : IDisposable
{
    const string TouchSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        /* Says it is ready, waits for a line, then writes 64 MiB: every line of it goes to the memory node. */
        int main(void) {
            printf("ready\n");
            fflush(stdout);
            char line[8];
            if (!fgets(line, sizeof line, stdin)) return 2;
            size_t n = 64 << 20;
            char *p = malloc(n);
            for (int round = 0; round < 4; round++) memset(p, round, n);
            printf("done %d\n", p[n - 1]);
            return 0;
        }
        """;

    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-frozen-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    static extern int Kill(int pid, int sig);

    [Fact]
    public async Task AFrozenNodeEndsTheGuestWithOneLineAndStatus135()
    {
        using var guest = await InlineGuest.BuildAsync("touch", TouchSource);
        using var node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "node.sock")}");
        var (file, prefix) = EmulatorRunner.Command;
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(["run", "--memory-nodes", node.Endpoint, "--node-timeout", "2", "--excache", "64K", guest.Binary])) psi.ArgumentList.Add(a);
        using var run = Process.Start(psi)!;
        var stderr = run.StandardError.ReadToEndAsync();
        try
        {
            var ready = await run.StandardOutput.ReadLineAsync().WaitAsync(EmulatorRunner.RunTimeout);
            Assert.Equal("ready", ready);
            Assert.Equal(0, Kill(node.Pid, 19)); // SIGSTOP
            run.StandardInput.WriteLine("go");
            run.StandardInput.Close();
            Assert.True(run.WaitForExit(EmulatorRunner.RunTimeout), "the guest hung on the frozen node");
            Assert.Equal(135, run.ExitCode);
            var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var line = Assert.Single(lines);
            Assert.Contains($"memory node {node.Endpoint}", line);
            Assert.Contains("did not answer within 2 s", line);
        }
        finally
        {
            Kill(node.Pid, 18); // SIGCONT, so the node can be stopped normally
            if (!run.HasExited) run.Kill();
        }
    }
}
