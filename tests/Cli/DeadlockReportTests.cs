using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>A guest whose threads deadlock ends at once, naming every stuck thread, the futex it waits on and where.</summary>
public class DeadlockReportTests
{
    const string Source = """
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
