/* Signals sent to a child that has exited and is not reaped yet (a zombie) change nothing: its status stays the
   exit status it chose, and the children started after it run undisturbed. Python's Pool.terminate() does this
   when a worker exits on its own just before terminate() signals it; the next child of the parent (which may run
   where the worker ran) must not be the one that dies. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0) { }
}

static void describe(const char *what, int round, int st)
{
    if (WIFEXITED(st)) printf("round %d: %s exited %d\n", round, what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) printf("round %d: %s killed by signal %d\n", round, what, WTERMSIG(st));
    else printf("round %d: %s status %#x\n", round, what, st);
}

int main(void)
{
    const int signals[] = { SIGTERM, SIGUSR1, SIGINT };
    for (int round = 0; round < 3; round++)
    {
        pid_t zombie = fork();
        if (zombie < 0) return 1;
        if (zombie == 0) _exit(3);
        siginfo_t si;
        if (waitid(P_PID, zombie, &si, WEXITED | WNOWAIT) != 0) return 2;
        printf("round %d: kill of the zombie %d, probe %d\n", round, kill(zombie, signals[round]), kill(zombie, 0));
        int st;
        if (waitpid(zombie, &st, 0) != zombie) return 3;
        describe("zombie", round, st);
        pid_t next = fork();
        if (next < 0) return 4;
        if (next == 0)
        {
            pause_ms(300);
            _exit(4);
        }
        if (waitpid(next, &st, 0) != next) return 5;
        describe("next child", round, st);
        fflush(stdout);
    }
    return 0;
}
