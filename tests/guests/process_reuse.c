/* Children in quick succession, as shells, make and compilers start them: exit statuses, the parent a child
   sees, a pipe's end at a child's exit, SIGCHLD's siginfo, waitid with WNOWAIT before the wait, a wait for the
   group a child made, posix_spawn and vfork children that exec, a child killed by a signal between normal ones,
   and a child whose own child outlives it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t chld_count, chld_status, chld_pid_ok;
static volatile pid_t chld_expect;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    chld_count++;
    chld_status = si->si_status;
    chld_pid_ok = si->si_pid == chld_expect && si->si_code == CLD_EXITED;
}

/* Descriptors open in this process (0..255). */
static int open_descriptors(void)
{
    int n = 0;
    for (int fd = 0; fd < 256; fd++)
        if (fcntl(fd, F_GETFD) >= 0) n++;
    return n;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child") == 0) return atoi(argv[2]);
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t me = getpid();

    /* 1. Forty children one after the other, each checking its parent. */
    int sum = 0, ppid_ok = 0;
    for (int i = 0; i < 40; i++)
    {
        pid_t c = fork();
        if (c == 0) _exit(getppid() == me ? i % 7 : 100);
        int st;
        if (waitpid(c, &st, 0) != c || !WIFEXITED(st)) { printf("wait %d failed\n", i); return 1; }
        sum += WEXITSTATUS(st);
        ppid_ok += WEXITSTATUS(st) < 100;
    }
    printf("sequential: sum %d, parent right %d of 40\n", sum, ppid_ok);

    /* 2. A child's descriptors end with it: the parent reads to EOF, then waits; a child sees only what it inherited. */
    int base = open_descriptors();
    for (int i = 0; i < 5; i++)
    {
        int p[2];
        if (pipe(p) != 0) return 1;
        pid_t c = fork();
        if (c == 0)
        {
            close(p[0]);
            char line[32];
            int n = snprintf(line, sizeof line, "fds %d", open_descriptors() - base);
            write(p[1], line, n);
            _exit(0);
        }
        close(p[1]);
        char buf[64];
        int got = 0;
        ssize_t n;
        while ((n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0) got += n;
        buf[got] = 0;
        close(p[0]);
        int st;
        waitpid(c, &st, 0);
        printf("pipe %d: '%s' then EOF, status %d\n", i, buf, WEXITSTATUS(st));
    }
    printf("parent descriptors unchanged: %d\n", open_descriptors() == base);

    /* 3. SIGCHLD with siginfo for each of ten children, taken in sigsuspend. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    int infos_ok = 0;
    for (int i = 0; i < 10; i++)
    {
        sigprocmask(SIG_BLOCK, &block, &old);
        chld_count = 0;
        pid_t c = fork();
        if (c == 0) _exit(20 + i);
        chld_expect = c;
        while (chld_count == 0) sigsuspend(&old);
        sigprocmask(SIG_SETMASK, &old, NULL);
        int st;
        if (waitpid(c, &st, 0) == c && WEXITSTATUS(st) == 20 + i && chld_pid_ok && chld_status == 20 + i) infos_ok++;
    }
    printf("SIGCHLD siginfo right for %d of 10\n", infos_ok);
    signal(SIGCHLD, SIG_DFL);

    /* 4. waitid with WNOWAIT leaves the child to wait for; the wait takes it; a second wait finds none. */
    pid_t c = fork();
    if (c == 0) _exit(9);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, c, &si, WEXITED | WNOWAIT);
    printf("waitid WNOWAIT: %d, code %s, status %d, pid right %d\n", r, si.si_code == CLD_EXITED ? "CLD_EXITED" : "other",
           si.si_status, si.si_pid == c);
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, c, &si, WEXITED);
    printf("waitid: %d, status %d\n", r, si.si_status);
    errno = 0;
    r = waitpid(c, NULL, WNOHANG);
    printf("again: %d %s\n", r, errno == ECHILD ? "ECHILD" : "?");

    /* 5. A child makes its own group and exits: a wait for that group finds it; wait4 fills the usage. */
    c = fork();
    if (c == 0)
    {
        setpgid(0, 0);
        _exit(3);
    }
    setpgid(c, c); /* as shells do, from both sides; it may come too late, which changes nothing below */
    struct timespec pause = { 0, 20 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    int st = 0;
    struct rusage ru;
    pid_t w = wait4(-c, &st, 0, &ru);
    printf("group wait: found %d, status %d, usage sane %d\n", w == c, WEXITSTATUS(st), ru.ru_utime.tv_sec >= 0 && ru.ru_utime.tv_usec < 1000000);

    /* 6. posix_spawn and vfork+exec of this program, ten times each. */
    sum = 0;
    for (int i = 0; i < 10; i++)
    {
        char n[8];
        snprintf(n, sizeof n, "%d", i);
        char *args[] = { argv[0], "child", n, NULL };
        pid_t p;
        if (posix_spawn(&p, "/proc/self/exe", NULL, NULL, args, environ) != 0) return 1;
        waitpid(p, &st, 0);
        sum += WEXITSTATUS(st);
        p = vfork();
        if (p == 0)
        {
            execve("/proc/self/exe", args, environ);
            _exit(127);
        }
        waitpid(p, &st, 0);
        sum += WEXITSTATUS(st);
    }
    printf("spawned: sum %d\n", sum);

    /* 7. A child killed by a signal between children that exit. */
    for (int i = 0; i < 3; i++)
    {
        c = fork();
        if (c == 0)
        {
            if (i == 1) raise(SIGTERM);
            _exit(i);
        }
        waitpid(c, &st, 0);
        printf("child %d: %s %d\n", i, WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    }

    /* 8. A child whose own child outlives it: the grandchild still writes, and later children run as before. */
    int p[2];
    pipe(p);
    c = fork();
    if (c == 0)
    {
        pid_t mid = getpid();
        if (fork() == 0)
        {
            close(p[0]);
            nanosleep(&pause, NULL);
            const char *msg = getppid() != mid ? "reparented" : "not reparented";
            write(p[1], msg, strlen(msg));
            _exit(0);
        }
        _exit(4);
    }
    close(p[1]);
    waitpid(c, &st, 0);
    char buf[32] = { 0 };
    int got = 0;
    ssize_t n;
    while ((n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0) got += n;
    printf("middle child status %d, grandchild: %s\n", WEXITSTATUS(st), buf);
    for (int i = 0; i < 3; i++)
    {
        c = fork();
        if (c == 0) _exit(40 + i);
        waitpid(c, &st, 0);
        printf("after: %d\n", WEXITSTATUS(st));
    }

    /* 9. With SIGCHLD ignored children leave no zombies: once they are gone a wait finds none. */
    signal(SIGCHLD, SIG_IGN);
    for (int i = 0; i < 8; i++)
    {
        c = fork();
        if (c == 0) _exit(i);
    }
    errno = 0;
    r = wait(&st); /* blocks until every child is gone, then fails */
    printf("ignored SIGCHLD: wait %d %s\n", r, errno == ECHILD ? "ECHILD" : "?");
    signal(SIGCHLD, SIG_DFL);
    c = fork();
    if (c == 0) _exit(50);
    waitpid(c, &st, 0);
    printf("then: %d\n", WEXITSTATUS(st));
    return 0;
}
