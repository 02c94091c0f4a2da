using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>
/// Signals for threads that compute on another processor component without making system calls:
/// pthread_kill to a spinning thread, a process signal only that thread can take, and asynchronous
/// cancellation. Without being asked to check in, such a thread would never see them.
/// </summary>
public class SplitSignalTests
{
    const string Source = """
        #include <pthread.h>
        #include <signal.h>
        #include <stdio.h>
        #include <unistd.h>
        static volatile int stop[3];
        static void on_usr1(int s) { (void)s; stop[0] = 1; }
        static void on_usr2(int s) { (void)s; stop[1] = 1; }
        static void *spin_until(void *x) { long i = (long)x; while (!stop[i]) { } return (void *)(i + 40); }
        static void *spin_forever(void *x)
        {
            (void)x;
            pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, 0);
            for (;;) stop[2]++;
            return 0;
        }
        int main(void)
        {
            signal(SIGUSR1, on_usr1);
            signal(SIGUSR2, on_usr2);
            pthread_t a, b, c;
            void *r;
            pthread_create(&a, 0, spin_until, (void *)0);
            usleep(100000);
            pthread_kill(a, SIGUSR1);
            pthread_join(a, &r);
            printf("pthread_kill: thread returned %ld\n", (long)r);

            // Only the spinning thread leaves SIGUSR2 unblocked: a process-wide kill must reach it.
            sigset_t usr2;
            sigemptyset(&usr2);
            sigaddset(&usr2, SIGUSR2);
            pthread_sigmask(SIG_BLOCK, &usr2, 0);
            sigset_t none;
            sigemptyset(&none);
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setsigmask_np(&attr, &none);
            pthread_create(&b, &attr, spin_until, (void *)1);
            usleep(100000);
            kill(getpid(), SIGUSR2);
            pthread_join(b, &r);
            printf("kill: thread returned %ld\n", (long)r);

            pthread_create(&c, 0, spin_forever, 0);
            usleep(100000);
            pthread_cancel(c);
            pthread_join(c, &r);
            printf("cancel: %s\n", r == PTHREAD_CANCELED ? "canceled" : "not canceled");
            return 0;
        }
        """;

    [Theory]
    [InlineData("2")]
    [InlineData("1")]
    public async Task SignalsReachThreadsComputingElsewhere(string processors)
    {
        using var guest = await InlineGuest.BuildAsync("split-signals", Source);
        var native = await ProcessRunner.RunAsync(guest.Binary, [], TimeSpan.FromSeconds(30));
        Assert.Equal(0, native.ExitCode);
        var r = await EmulatorRunner.RunAsync("run", "--processors", processors, "--stats", guest.Binary);
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.StderrTail()}");
        Assert.Equal(native.StdoutText, r.StdoutText);
        if (processors == "2") Assert.Matches(@"thread \d+ +ran on component 1", r.StderrText);
    }
}
