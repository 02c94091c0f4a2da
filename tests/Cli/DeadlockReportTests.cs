using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>A guest whose threads deadlock ends at once, naming every stuck thread, the futex it waits on and where.</summary>
public class DeadlockReportTests
{
    internal const string Source = """
        #include <pthread.h>
        #include <stdio.h>
        static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER, second = PTHREAD_MUTEX_INITIALIZER;
        static pthread_barrier_t both;
        static void *other(void *x) { (void)x; pthread_mutex_lock(&second); pthread_barrier_wait(&both); pthread_mutex_lock(&first); return 0; }
        int main(void)
        {
            pthread_t t;
            pthread_barrier_init(&both, 0, 2);
            pthread_mutex_lock(&first);
            pthread_create(&t, 0, other, 0);
            pthread_barrier_wait(&both);
            pthread_mutex_lock(&second);
            puts("unreachable");
            return 0;
        }
        """;

    [Fact]
    public async Task DeadlockNamesTheStuckThreadsAndTheirFutexes()
    {
        using var guest = await InlineGuest.BuildAsync("deadlock", Source);
        var r = await EmulatorRunner.RunAsync("run", guest.Binary);
        Assert.Equal(128 + 9, r.ExitCode);
        Assert.Contains("deadlock", r.StderrText);
        Assert.Contains("(first)", r.StderrText);
        Assert.Contains("(second)", r.StderrText);
        Assert.Equal(2, r.StderrText.Split('\n').Count(l => l.Contains("waits on the futex at 0x")));
        Assert.DoesNotContain("unreachable", r.StdoutText);
    }
}

/// <summary>Threads over processor components fail as loudly as local ones: deadlocks are named, a vanished component ends the guest.</summary>
public class SplitFailureTests
{
    const string Spinner = """
        #include <pthread.h>
        #include <stdio.h>
        static volatile long spins[2];
        static void *spin(void *x) { for (;;) spins[(long)x]++; return 0; }
        int main(void)
        {
            pthread_t t[2];
            for (long i = 0; i < 2; i++) pthread_create(&t[i], 0, spin, (void *)i);
            puts("started");
            fflush(stdout);
            pthread_join(t[0], 0);
            return 0;
        }
        """;

    const string Faulter = """
        #include <pthread.h>
        #include <stdio.h>
        static void *fault(void *x) { (void)x; volatile int *p = (int *)16; return (void *)(long)*p; }
        int main(void)
        {
            pthread_t t;
            pthread_create(&t, 0, fault, 0);
            pthread_join(t, 0);
            puts("unreachable");
            return 0;
        }
        """;

    [Fact]
    public async Task AFaultOnAnotherComponentKillsTheGuestLikeALocalOne()
    {
        using var guest = await InlineGuest.BuildAsync("remote-fault", Faulter);
        var local = await EmulatorRunner.RunAsync("run", guest.Binary);
        var split = await EmulatorRunner.RunAsync("run", "--processors", "2", guest.Binary);
        Assert.Equal(128 + 11, local.ExitCode);
        Assert.Equal(128 + 11, split.ExitCode);
        Assert.Contains("read from 0x10", split.StderrText);
        Assert.Contains("guest terminated by SIGSEGV", split.StderrText);
        Assert.DoesNotContain("unreachable", split.StdoutText);
    }

    [Fact]
    public async Task DeadlockAcrossComponentsNamesTheStuckThreads()
    {
        using var guest = await InlineGuest.BuildAsync("deadlock-split", DeadlockReportTests.Source);
        var r = await EmulatorRunner.RunAsync("run", "--processors", "2", "--stats", guest.Binary);
        Assert.Equal(128 + 9, r.ExitCode);
        Assert.Contains("deadlock", r.StderrText);
        Assert.Equal(2, r.StderrText.Split('\n').Count(l => l.Contains("waits on the futex at 0x")));
        Assert.Matches(@"thread \d+ +ran on component 1", r.StderrText);
    }

    [Fact]
    public async Task AVanishedProcessorComponentEndsTheGuestWithAMessage()
    {
        using var guest = await InlineGuest.BuildAsync("spinner", Spinner);
        string dir = Directory.CreateTempSubdirectory("legoemu-split-").FullName;
        try
        {
            using var host = new LegoEmu.Tests.Remote.MemoryNodeProcess($"unix:{Path.Combine(dir, "p1.sock")}", verb: "procnode");
            var run = EmulatorRunner.RunAsync("run", "--processors", host.Endpoint, guest.Binary);
            // Let the threads get going on both components, then kill the host by its PID.
            await Task.Delay(TimeSpan.FromSeconds(3));
            host.Kill();
            var r = await run;
            Assert.Equal(128 + 9, r.ExitCode);
            Assert.Contains("processor component 1", r.StderrText);
            Assert.Contains("went away", r.StderrText);
            Assert.DoesNotContain("   at ", r.StderrText);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
