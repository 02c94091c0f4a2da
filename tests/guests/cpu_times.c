/* CPU time as a process sees it: a child that burns 0.3 s of CPU hands it to its parent when reaped (wait4's rusage,
   getrusage(RUSAGE_CHILDREN), times()), a grandchild's time reaches the parent through the child that reaped it, and
   a process starts with no CPU time of its own (getrusage(RUSAGE_SELF), clock()) even when it follows a busy one. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval u, struct timeval s) { return u.tv_sec + s.tv_sec + (u.tv_usec + s.tv_usec) / 1e6; }

static double children(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0) exit(3);
    return seconds(ru.ru_utime, ru.ru_stime);
}

static volatile unsigned long sink;

/* Burns CPU until clock() says 0.3 s went by; returns 0 when clock() started near zero. */
static int burn(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 2;
    int fresh = seconds(ru.ru_utime, ru.ru_stime) < 0.2 && clock() < CLOCKS_PER_SEC / 5;
    while (clock() < CLOCKS_PER_SEC * 3 / 10)
        for (int i = 0; i < 100000; i++) sink += i * sink + 1;
    return fresh ? 0 : 1;
}

static pid_t spawn(int grandchild)
{
    pid_t pid = fork();
    if (pid < 0) exit(4);
    if (pid > 0) return pid;
    if (!grandchild) _exit(burn());
    /* A child that reaps a busy child of its own and burns nothing itself. */
    pid_t g = fork();
    if (g < 0) _exit(5);
    if (g == 0) _exit(burn());
    int st;
    _exit(waitpid(g, &st, 0) == g && WIFEXITED(st) ? WEXITSTATUS(st) : 6);
}

int main(void)
{
    double before = children();
    for (int round = 0; round < 3; round++)
    {
        struct rusage ru;
        int st;
        pid_t c = spawn(0);
        if (wait4(c, &st, 0, &ru) != c || !WIFEXITED(st)) return 7;
        printf("round %d: child started with no CPU time: %s, its rusage holds 0.3 s: %s\n", round,
               WEXITSTATUS(st) == 0 ? "yes" : "no", seconds(ru.ru_utime, ru.ru_stime) >= 0.25 ? "yes" : "no");
    }
    double after = children();
    printf("RUSAGE_CHILDREN grew by 0.9 s: %s\n", after - before >= 0.8 ? "yes" : "no");
    struct tms t;
    times(&t);
    printf("times() children: %s\n", t.tms_cutime + t.tms_cstime >= 80 * sysconf(_SC_CLK_TCK) / 100 ? "yes" : "no");

    int st;
    pid_t c = spawn(1);
    struct rusage ru;
    if (wait4(c, &st, 0, &ru) != c || !WIFEXITED(st)) return 8;
    printf("grandchild started with no CPU time: %s, reached the parent through its child: %s %s\n",
           WEXITSTATUS(st) == 0 ? "yes" : "no", seconds(ru.ru_utime, ru.ru_stime) >= 0.25 ? "yes" : "no",
           children() - after >= 0.25 ? "yes" : "no");
    return 0;
}
