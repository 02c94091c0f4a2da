using System.Text.Json;
using LegoEmu.Cluster.Bench;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// Signal frames in <c>run --profile</c>: the stores that push a frame are charged to the interrupted
/// instruction, and what a system call does after it blocked to its SYSCALL, so a guest whose handlers run
/// (raised, on the alternate stack, after a fault, from a timer, at a system call's return) and whose
/// sigtimedwait times out has profile totals equal to what <c>--stats-json</c> counts, in both tiers.
/// </summary>
public sealed class ProfileSignalFrameTests
{
    const string Source = """
        #include <signal.h>
        #include <setjmp.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/time.h>
        #include <time.h>
        #include <unistd.h>
        static volatile int count, zero;
        static sigjmp_buf back;
        static void handler(int sig) { count++; }
        static void escape(int sig) { count++; siglongjmp(back, 1); }
        int main(void)
        {
            signal(SIGUSR1, handler);
            for (int i = 0; i < 100; i++) raise(SIGUSR1);
            stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536 };
            sigaltstack(&ss, NULL);
            struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_ONSTACK };
            sigaction(SIGUSR2, &sa, NULL);
            raise(SIGUSR2);
            signal(SIGSEGV, escape);
            signal(SIGFPE, escape);
            if (!sigsetjmp(back, 1)) *(volatile int *)8 = 1;
            if (!sigsetjmp(back, 1)) count += 5 / zero;
            signal(SIGALRM, handler);
            struct itimerval it = { .it_value = { .tv_usec = 20000 } };
            int before = count;
            setitimer(ITIMER_REAL, &it, NULL);
            while (count == before) pause();
            signal(SIGPIPE, handler);
            int p[2];
            if (pipe(p) != 0) return 1;
            close(p[0]);
            if (write(p[1], "x", 1) != -1) return 1;
            sigset_t wait;
            sigemptyset(&wait);
            sigaddset(&wait, SIGUSR2);
            sigprocmask(SIG_BLOCK, &wait, NULL);
            siginfo_t info;
            struct timespec two_ms = { 0, 2000000 };
            if (sigtimedwait(&wait, &info, &two_ms) != -1) return 1;
            printf("%d handlers ran\n", count);
            return 0;
        }
        """;

    [Theory]
    [InlineData("interp")]
    [InlineData("auto")]
    public async Task SignalFramesAreChargedSoTheTotalsAddUp(string tier)
    {
        using var guest = await InlineGuest.BuildAsync("profile_signals", Source);
        string dir = Directory.CreateTempSubdirectory("legoemu-profile-signals-").FullName;
        try
        {
            string profile = Path.Combine(dir, "p"), stats = Path.Combine(dir, "stats.json");
            var r = await EmulatorRunner.RunAsync("run", "--tier", tier, "--translate-threshold", "0", "--profile", profile, "--stats-json", stats, "--excache", "64K", "--line", "64", guest.Binary);
            Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
            Assert.Equal("105 handlers ran\n", r.StdoutText);
            var j = JsonDocument.Parse(await File.ReadAllTextAsync(stats)).RootElement;
            var p = ProfileFunctions.Read(profile);
            Assert.Equal(j.GetProperty("instructions").GetInt64(), p.Total("Ir"));
            Assert.Equal(j.GetProperty("accesses").GetInt64(), p.Total("Dacc"));
            Assert.Equal(j.GetProperty("misses").GetInt64(), p.Total("Miss"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
