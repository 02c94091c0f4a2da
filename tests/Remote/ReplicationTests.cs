using System.Diagnostics;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// Three memory nodes with <c>run --replicas 2</c>: a guest that writes and checksums a large array goes on with
/// output identical to native when any one node is killed (kill -9) or frozen (SIGSTOP) mid-run, and stops with
/// one line and status 135 when two are killed. The array is 48 MiB in the normal run;
/// LEGOEMU_REPLICATION_MIB sets another size (the full check uses a few hundred).
/// </summary>
public sealed class ReplicationTests : IDisposable
{
    /// <summary>Pass 0, then waits for a line on stdin (the test kills a node meanwhile), then three more passes.</summary>
    const string HeavySource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <stdint.h>
        int main(int argc, char **argv) {
            size_t n = (size_t)atoi(argv[1]) << 17; /* 8-byte words */
            uint64_t *a = calloc(n, sizeof *a);
            if (!a) { printf("calloc failed\n"); return 1; }
            for (int pass = 0; pass < 4; pass++) {
                for (size_t i = 0; i < n; i++) a[i] = (a[i] + i * 0x9E3779B97F4A7C15ULL) ^ (i >> 3) ^ (uint64_t)pass;
                uint64_t sum = 14695981039346656037ULL;
                for (size_t i = 0; i < n; i++) sum = (sum ^ a[i]) * 1099511628211ULL;
                printf("pass %d checksum %016llx\n", pass, (unsigned long long)sum);
                fflush(stdout);
                if (pass == 0) {
                    char line[8];
                    if (!fgets(line, sizeof line, stdin)) return 2;
                }
            }
            char line[8];
            if (fgets(line, sizeof line, stdin)) printf("released\n"); /* end of input releases it too */
            return 0;
        }
        """;

    /// <summary>Pass 0, a line on stdin, then a forked child checksums the array and the parent writes it again.</summary>
    const string ForkingSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <stdint.h>
        #include <unistd.h>
        #include <sys/wait.h>
        static uint64_t checksum(const uint64_t *a, size_t n) {
            uint64_t sum = 14695981039346656037ULL;
            for (size_t i = 0; i < n; i++) sum = (sum ^ a[i]) * 1099511628211ULL;
            return sum;
        }
        int main(int argc, char **argv) {
            size_t n = (size_t)atoi(argv[1]) << 17;
            uint64_t *a = calloc(n, sizeof *a);
            if (!a) return 1;
            for (size_t i = 0; i < n; i++) a[i] = i * 0x9E3779B97F4A7C15ULL;
            printf("pass 0 checksum %016llx\n", (unsigned long long)checksum(a, n));
            fflush(stdout);
            char line[8];
            if (!fgets(line, sizeof line, stdin)) return 2;
            pid_t pid = fork();
            if (pid == 0) {
                for (size_t i = 0; i < n; i += 3) a[i] ^= 0x5555;
                printf("child checksum %016llx\n", (unsigned long long)checksum(a, n));
                return 0;
            }
            int status;
            waitpid(pid, &status, 0);
            for (size_t i = 0; i < n; i++) a[i] += i;
            printf("parent checksum %016llx, child status %d\n", (unsigned long long)checksum(a, n), WEXITSTATUS(status));
            return 0;
        }
        """;

    /// <summary>
    /// Two threads (with --processors 2: on two processor components, whose caches the line directories keep coherent)
    /// rewrite halves of an array that change hands every pass, and words of one shared page, and count on one atomic
    /// word; then main checksums everything. At the pause after pass 0 both caches hold modified lines, the only copies.
    /// </summary>
    const string ThreadsSource = """
        #include <pthread.h>
        #include <stdatomic.h>
        #include <stdint.h>
        #include <stdio.h>
        #include <stdlib.h>
        #define T 2
        #define PASSES 4
        static uint64_t *a, b[1024];
        static size_t n;
        static pthread_barrier_t bar;
        static atomic_long counter;
        static void *worker(void *arg) {
            long id = (long)arg;
            for (int pass = 0; pass < PASSES; pass++) {
                pthread_barrier_wait(&bar);
                size_t half = n / T, start = ((size_t)(id + pass) % T) * half;
                for (size_t i = start; i < start + half; i++) a[i] = (a[i] + i * 0x9E3779B97F4A7C15ULL) ^ (i >> 3) ^ (uint64_t)pass;
                for (int k = 0; k < 8; k++)
                    for (size_t i = (size_t)id; i < 1024; i += T) b[i] = b[i] * 31 + (uint64_t)(k + id + 1);
                for (int k = 0; k < 2000; k++) atomic_fetch_add(&counter, id + 1);
                pthread_barrier_wait(&bar);
            }
            return 0;
        }
        int main(int argc, char **argv) {
            n = (size_t)atoi(argv[1]) << 17;
            a = calloc(n, sizeof *a);
            if (!a) return 1;
            pthread_barrier_init(&bar, 0, T + 1);
            pthread_t t[T];
            for (long i = 0; i < T; i++) pthread_create(&t[i], 0, worker, (void *)i);
            for (int pass = 0; pass < PASSES; pass++) {
                pthread_barrier_wait(&bar);
                pthread_barrier_wait(&bar);
                uint64_t sum = 14695981039346656037ULL;
                for (size_t i = 0; i < n; i++) sum = (sum ^ a[i]) * 1099511628211ULL;
                for (size_t i = 0; i < 1024; i++) sum = (sum ^ b[i]) * 1099511628211ULL;
                printf("pass %d checksum %016llx counter %ld\n", pass, (unsigned long long)sum, (long)atomic_load(&counter));
                fflush(stdout);
                if (pass == 0) {
                    char line[8];
                    if (!fgets(line, sizeof line, stdin)) return 2;
                }
            }
            for (int i = 0; i < T; i++) pthread_join(t[i], 0);
            return 0;
        }
        """;

    /// <summary>
    /// A parent and its forked child take turns rewriting a MAP_SHARED array (every other word each), so its lines go
    /// back and forth through the line directory; at the pause after pass 0 the child holds modified lines.
    /// </summary>
    const string SharedForkSource = """
        #include <stdint.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/mman.h>
        #include <sys/wait.h>
        #include <unistd.h>
        #define PASSES 4
        static uint64_t checksum(const uint64_t *a, size_t n) {
            uint64_t sum = 14695981039346656037ULL;
            for (size_t i = 0; i < n; i++) sum = (sum ^ a[i]) * 1099511628211ULL;
            return sum;
        }
        static void step(int fd) { char c = 1; if (write(fd, &c, 1) != 1) _exit(3); }
        static void wait_for(int fd) { char c; if (read(fd, &c, 1) != 1) _exit(4); }
        int main(int argc, char **argv) {
            size_t n = (size_t)atoi(argv[1]) << 17;
            uint64_t *a = mmap(0, n * 8, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
            if (a == MAP_FAILED) return 1;
            int down[2], up[2];
            if (pipe(down) || pipe(up)) return 1;
            pid_t pid = fork();
            if (pid == 0) {
                for (int pass = 0; pass < PASSES; pass++) {
                    wait_for(down[0]);
                    for (size_t i = 1; i < n; i += 2) a[i] = (a[i] ^ (i * 0x9E3779B97F4A7C15ULL)) + (uint64_t)pass;
                    step(up[1]);
                    wait_for(down[0]);
                    for (size_t i = 0; i < 8192 && i < n; i++) a[i] ^= (uint64_t)(pass + 1) * 0x0101010101010101ULL;
                    step(up[1]);
                }
                _exit(7);
            }
            for (int pass = 0; pass < PASSES; pass++) {
                for (size_t i = 0; i < n; i += 2) a[i] = a[i] * 3 + i + (uint64_t)pass;
                step(down[1]);
                wait_for(up[0]);
                printf("pass %d checksum %016llx\n", pass, (unsigned long long)checksum(a, n));
                fflush(stdout);
                step(down[1]);
                wait_for(up[0]);
                if (pass == 0) {
                    char line[8];
                    if (!fgets(line, sizeof line, stdin)) return 2;
                }
            }
            int status;
            waitpid(pid, &status, 0);
            printf("final checksum %016llx, child status %d\n", (unsigned long long)checksum(a, n), WEXITSTATUS(status));
            return 0;
        }
        """;

    /// <summary>MiB of the coherent guests' arrays: every line of them crosses the directory several times.</summary>
    const string CoherentMib = "8";

    static readonly string Mib = Environment.GetEnvironmentVariable("LEGOEMU_REPLICATION_MIB") is { } m && int.TryParse(m, out int v) && v > 0 ? v.ToString() : "48";

    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-replicas-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    static extern int Kill(int pid, int sig);

    const int SIGKILL = 9, SIGSTOP = 19, SIGCONT = 18;

    sealed record Outcome(int Status, string Stdout, string Stderr, TimeSpan AfterSignal);

    /// <summary>Runs the guest over three fresh nodes, signals <paramref name="victims"/> after pass 0, and lets it go on.</summary>
    Task<Outcome> RunAndSignal(string binary, int signal, int[] victims, params string[] options) => Run(binary, Mib, signal, victims, null, options);

    Task<Outcome> RunAndSignal(string binary, string size, int signal, int[] victims, params string[] options) => Run(binary, size, signal, victims, null, options);

    /// <summary>
    /// As <see cref="RunAndSignal(string, int, int[], string[])"/>, but the guest's input stays open after "go" until the
    /// emulator prints a line on stderr containing <paramref name="holdUntil"/> (the run fails if it never does).
    /// </summary>
    Task<Outcome> RunSignalAndHold(string binary, int signal, int[] victims, string holdUntil, params string[] options) => Run(binary, Mib, signal, victims, holdUntil, options);

    async Task<Outcome> Run(string binary, string size, int signal, int[] victims, string? holdUntil, string[] options)
    {
        var nodes = new List<MemoryNodeProcess>();
        try
        {
            for (int i = 0; i < 3; i++) nodes.Add(new MemoryNodeProcess($"unix:{Path.Combine(_dir, $"n{i}.sock")}"));
            var (file, prefix) = EmulatorRunner.Command;
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (var a in prefix.Concat(["run", "--memory-nodes", string.Join(",", nodes.Select(n => n.Endpoint)), "--replicas", "2",
                         "--excache", "256K", .. options, binary, size]))
                psi.ArgumentList.Add(a);
            using var run = Process.Start(psi)!;
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var stderr = Task.Run(async () =>
            {
                var text = new System.Text.StringBuilder();
                while (await run.StandardError.ReadLineAsync() is { } line)
                {
                    text.Append(line).Append('\n');
                    if (holdUntil != null && line.Contains(holdUntil, StringComparison.Ordinal)) seen.TrySetResult();
                }
                seen.TrySetResult();
                return text.ToString();
            });
            try
            {
                var first = await run.StandardOutput.ReadLineAsync().WaitAsync(EmulatorRunner.RunTimeout);
                Assert.StartsWith("pass 0 ", first);
                foreach (int v in victims) Assert.Equal(0, Kill(nodes[v].Pid, signal));
                var signalled = Stopwatch.StartNew();
                run.StandardInput.WriteLine("go");
                if (holdUntil != null)
                {
                    await seen.Task.WaitAsync(EmulatorRunner.RunTimeout);
                    run.StandardInput.WriteLine("end");
                }
                run.StandardInput.Close();
                var rest = await run.StandardOutput.ReadToEndAsync().WaitAsync(EmulatorRunner.RunTimeout);
                Assert.True(run.WaitForExit(EmulatorRunner.RunTimeout), "the guest hung after a node failed");
                return new Outcome(run.ExitCode, first + "\n" + rest, await stderr, signalled.Elapsed);
            }
            finally
            {
                if (!run.HasExited) run.Kill();
            }
        }
        finally
        {
            foreach (var n in nodes)
            {
                // A frozen node must be able to die normally; a killed one's PID may belong to another test's process by now.
                if (signal == SIGSTOP && !n.HasExited) Kill(n.Pid, SIGCONT);
                n.Dispose();
            }
        }
    }

    static async Task<string> Native(string binary, string? size = null)
    {
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(size ?? Mib);
        using var p = Process.Start(psi)!;
        p.StandardInput.WriteLine("go");
        p.StandardInput.Close();
        string output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.Equal(0, p.ExitCode);
        return output;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task KillingAnyOneNodeLeavesTheOutputAsNative(int victim)
    {
        using var guest = await InlineGuest.BuildAsync("heavy", HeavySource);
        string native = await Native(guest.Binary);
        string json = Path.Combine(_dir, "stats.json");
        // The guest stays until the emulator says every vRegion has two copies again: without that, a guest that ends
        // first would stop the copies, and the stats could not show them complete.
        var o = await RunSignalAndHold(guest.Binary, SIGKILL, [victim], "copies again", "--stats", "--stats-json", json);
        Assert.True(o.Status == 0, $"status {o.Status}: {o.Stderr}");
        Assert.Equal(native.Replace("released\n", ""), o.Stdout.Replace("released\n", ""));
        Assert.EndsWith("released\n", o.Stdout);
        using (var stats = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)))
        {
            Assert.Equal(2, stats.RootElement.GetProperty("replicas").GetInt32());
            Assert.Equal(1, stats.RootElement.GetProperty("memoryNodesFailed").GetInt32());
        }
        // The node really was lost, its regions went on elsewhere, and every region got a complete new backup.
        Assert.Contains("memory nodes failed 1, failovers 1", o.Stderr);
        Assert.Matches(@"vRegions copied to a new backup (\d+) of \1 ", o.Stderr);
        Assert.Matches(@"every vRegion has 2 copies again: (\d+) copied to a new backup", o.Stderr);
        Assert.Contains("the guest goes on with the other copies", o.Stderr.Split('\n').Single(l => l.Contains($"n{victim}.sock") && !l.Contains("requests")));
        Assert.Contains("FAILED", o.Stderr.Split('\n').Single(l => l.Contains($"n{victim}.sock") && l.Contains("requests")));
    }

    [Fact]
    public async Task AProcessForkedAfterAFailoverRunsOnTheSurvivors()
    {
        using var guest = await InlineGuest.BuildAsync("forking", ForkingSource);
        string native = await Native(guest.Binary);
        var o = await RunAndSignal(guest.Binary, SIGKILL, [1], "--stats");
        Assert.True(o.Status == 0, $"status {o.Status}: {o.Stderr}");
        Assert.Equal(native, o.Stdout);
    }

    [Fact]
    public async Task AFrozenNodeIsFailedOverWithinTheTimeout()
    {
        using var guest = await InlineGuest.BuildAsync("heavy", HeavySource);
        string native = await Native(guest.Binary);
        var o = await RunAndSignal(guest.Binary, SIGSTOP, [0], "--node-timeout", "2", "--stats");
        Assert.True(o.Status == 0, $"status {o.Status}: {o.Stderr}");
        Assert.Equal(native, o.Stdout);
        Assert.Contains("memory nodes failed 1, failovers 1", o.Stderr);
    }

    // Coherent caches: the line directory of each region lives at its primary and dies with it. The new primary (the
    // backup) rebuilds it from what the caches hand back, and the modified lines they held are not lost.

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task KillingAnyOneNodeUnderThreadsOverProcessorComponentsLeavesTheOutputAsNative(int victim)
    {
        using var guest = await InlineGuest.BuildAsync("threads-coherent", ThreadsSource);
        string native = await Native(guest.Binary, CoherentMib);
        var o = await RunAndSignal(guest.Binary, CoherentMib, SIGKILL, [victim], "--processors", "2", "--stats");
        Assert.True(o.Status == 0, $"status {o.Status}: {o.Stderr}");
        Assert.Equal(native, o.Stdout);
        Assert.Contains("memory nodes failed 1, failovers 1", o.Stderr);
        Assert.Contains("line directories rebuilt", o.Stderr);
        Assert.Matches(@"thread \d+ +ran on component 1", o.Stderr);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task KillingAnyOneNodeUnderProcessesSharingMemoryLeavesTheOutputAsNative(int victim)
    {
        using var guest = await InlineGuest.BuildAsync("shared-fork", SharedForkSource);
        string native = await Native(guest.Binary, CoherentMib);
        var o = await RunAndSignal(guest.Binary, CoherentMib, SIGKILL, [victim], "--stats");
        Assert.True(o.Status == 0, $"status {o.Status}: {o.Stderr}");
        Assert.Equal(native, o.Stdout);
        Assert.Contains("memory nodes failed 1, failovers 1", o.Stderr);
    }

    [Theory]
    [InlineData("threads")]
    [InlineData("processes")]
    public async Task AFrozenNodeUnderCoherentCachesIsFailedOverWithinTheTimeout(string kind)
    {
        using var guest = await InlineGuest.BuildAsync(kind == "threads" ? "threads-coherent" : "shared-fork", kind == "threads" ? ThreadsSource : SharedForkSource);
        string native = await Native(guest.Binary, CoherentMib);
        string[] options = kind == "threads" ? ["--processors", "2", "--node-timeout", "2", "--stats"] : ["--node-timeout", "2", "--stats"];
        var o = await RunAndSignal(guest.Binary, CoherentMib, SIGSTOP, [0], options);
        Assert.True(o.Status == 0, $"status {o.Status}: {o.Stderr}");
        Assert.Equal(native, o.Stdout);
        Assert.Contains("memory nodes failed 1, failovers 1", o.Stderr);
    }

    [Fact]
    public async Task KillingTwoNodesEndsTheRunWithOneLineAndStatus135()
    {
        using var guest = await InlineGuest.BuildAsync("heavy", HeavySource);
        var o = await RunAndSignal(guest.Binary, SIGKILL, [0, 2]);
        Assert.Equal(135, o.Status);
        var line = Assert.Single(o.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("1 of 3 memory nodes left, fewer than the 2 copies --replicas asks for", line);
    }

    [Fact]
    public async Task ReplicasNeedAsManyNodes()
    {
        var r = await EmulatorRunner.RunAsync("run", "--memory-nodes", "1", "--replicas", "2", "/bin/true");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("legoemu: --replicas 2 needs at least 2 memory nodes (--memory-nodes)", r.StderrText.Trim());
        r = await EmulatorRunner.RunAsync("run", "--memory-nodes", "2", "--replicas", "3", "/bin/true");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("legoemu: --replicas must be 1 or 2", r.StderrText.Trim());
    }
}
