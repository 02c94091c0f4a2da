/* Relations between processes, as the kernel keeps them: parents and getppid, process groups and sessions,
   signals sent to a group, stops and continues seen by wait4 and waitid, and orphans reparented to the
   nearest subreaper, which then reaps them. Only relations and statuses are printed, never pid values. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* One byte through a pipe: the way the processes below wait for each other without sleeping. */
static void post(int fd, char c)
{
    if (write(fd, &c, 1) != 1) _exit(90);
}
static char take(int fd)
{
    char c = 0;
    while (read(fd, &c, 1) < 0 && errno == EINTR) { }
    return c;
}

static const char *status_text(int st, char *buf)
{
    if (WIFEXITED(st)) sprintf(buf, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) sprintf(buf, "signal %d", WTERMSIG(st));
    else if (WIFSTOPPED(st)) sprintf(buf, "stopped %d", WSTOPSIG(st));
    else if (WIFCONTINUED(st)) sprintf(buf, "continued");
    else sprintf(buf, "? %#x", st);
    return buf;
}

/* A call's result and errno's name, taken in that order (a call among printf's arguments may run after errno is read). */
static const char *outcome(long r, char *buf)
{
    sprintf(buf, "%ld %s", r, r < 0 ? strerrorname_np(errno) : "");
    return buf;
}
#define OUT(expr) (errno = 0, outcome((long)(expr), b2))

static volatile sig_atomic_t usr1;
static void on_usr1(int sig) { (void)sig; usr1++; }

int main(void)
{
    /* A group of its own first, so that signals to "my group" reach no process outside this test. */
    setpgid(0, 0);
    pid_t me = getpid(), mygroup = getpgrp(), mysession = getsid(0);
    char b1[32], b2[48];
    int st;

    /* 1. A child starts in its parent's group and session; it makes a group of its own, then a session. */
    int up[2], down[2];
    pipe(up);
    pipe(down);
    pid_t c = fork();
    if (c == 0)
    {
        int ok = getppid() == me && getpgrp() == mygroup && getsid(0) == mysession;
        errno = 0;
        int r = setsid(); /* not a group leader yet: allowed only if its group is not its own pid */
        int ok2 = r == getpid() && getsid(0) == getpid() && getpgrp() == getpid();
        errno = 0;
        int again = setsid(); /* now a group leader: EPERM */
        post(up[1], (char)('0' + ok + 2 * ok2 + 4 * (again == -1 && errno == EPERM)));
        take(down[0]);
        _exit(0);
    }
    say("child relations and setsid: %c\n", take(up[0]));
    say("parent sees child's session: %d, group: %d\n", getsid(c) == c, getpgid(c) == c);
    say("setpgid into another session: %s\n", OUT(setpgid(c, mygroup)));
    post(down[1], 'x');
    waitpid(c, &st, 0);
    say("reaped: %s\n", status_text(st, b1));

    /* 2. Three children in a group of their own: kill(-pgid) reaches each, and a wait for the group reaps them. */
    pid_t g[3];
    for (int i = 0; i < 3; i++)
    {
        g[i] = fork();
        if (g[i] == 0)
        {
            setpgid(0, i == 0 ? 0 : g[0]);
            post(up[1], 'r');
            for (;;) pause();
        }
        setpgid(g[i], g[0]);
    }
    for (int i = 0; i < 3; i++) take(up[0]);
    say("all in one group: %d\n", getpgid(g[0]) == g[0] && getpgid(g[1]) == g[0] && getpgid(g[2]) == g[0]);
    say("kill(-pgid, 0): %d\n", kill(-g[0], 0));
    say("kill(-pgid, SIGTERM): %d\n", kill(-g[0], SIGTERM));
    int reaped = 0, killed = 0;
    pid_t w;
    while ((w = waitpid(-g[0], &st, 0)) > 0)
    {
        reaped++;
        killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM;
    }
    int werr = errno;
    say("group wait: reaped %d, killed by SIGTERM %d, then %s\n", reaped, killed, strerrorname_np(werr));
    say("kill(-pgid) of an empty group: %s\n", OUT(kill(-g[0], SIGTERM)));
    say("kill of a reaped child: %s\n", OUT(kill(g[1], 0)));

    /* 3. kill(0, sig) reaches the whole group, this process included (and no process of the emulator's own: a
       SIGTERM would end a memory node). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    c = fork();
    if (c == 0)
    {
        usr1 = 0;
        post(up[1], 'r');
        /* Not pause(): a signal taken between the test and the call would leave it waiting for good. Natively that
           window is a few instructions; emulated, it holds a block boundary, where signals are delivered. */
        while (!usr1) usleep(1000);
        _exit(33);
    }
    take(up[0]);
    sigset_t blockusr, oldmask;
    sigemptyset(&blockusr);
    sigaddset(&blockusr, SIGTERM);
    sigprocmask(SIG_BLOCK, &blockusr, &oldmask);
    kill(0, SIGTERM);
    while (!usr1) sigsuspend(&oldmask);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    waitpid(c, &st, 0);
    say("kill(0, SIGTERM): parent got %d, child %s\n", (int)usr1, status_text(st, b1));
    signal(SIGTERM, SIG_DFL);

    /* 4. Stops and continues: wait4 with WUNTRACED and WCONTINUED, then waitid with WSTOPPED and WCONTINUED. */
    c = fork();
    if (c == 0)
    {
        for (;;) pause();
    }
    kill(c, SIGSTOP);
    w = waitpid(c, &st, WUNTRACED);
    say("WUNTRACED: found %d, %s\n", w == c, status_text(st, b1));
    w = waitpid(c, &st, WUNTRACED | WNOHANG);
    say("stop reported once: %d\n", w);
    kill(c, SIGCONT);
    w = waitpid(c, &st, WCONTINUED);
    say("WCONTINUED: found %d, %s\n", w == c, status_text(st, b1));
    kill(c, SIGSTOP);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, c, &si, WSTOPPED | WNOWAIT);
    say("waitid WSTOPPED|WNOWAIT: %d code %d status %d pid %d\n", r, si.si_code, si.si_status, si.si_pid == c);
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, c, &si, WSTOPPED);
    say("waitid WSTOPPED: %d code %d status %d\n", r, si.si_code, si.si_status);
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, c, &si, WSTOPPED | WNOHANG);
    say("again: %d pid %d\n", r, si.si_pid);
    kill(c, SIGCONT);
    memset(&si, 0, sizeof si);
    r = waitid(P_ALL, 0, &si, WCONTINUED);
    say("waitid WCONTINUED: %d code %d status %d pid %d\n", r, si.si_code, si.si_status, si.si_pid == c);
    kill(c, SIGKILL);
    memset(&si, 0, sizeof si);
    r = waitid(P_PGID, 0, &si, WEXITED);
    say("waitid P_PGID 0 after SIGKILL: %d code %d status %d pid %d\n", r, si.si_code, si.si_status, si.si_pid == c);

    /* A child that stops itself, by raise and by a signal to its own group: the parent sees each stop and its continue. */
    c = fork();
    if (c == 0)
    {
        setpgid(0, 0);
        raise(SIGSTOP);
        raise(SIGTSTP);
        kill(0, SIGTTOU);
        _exit(5);
    }
    for (int i = 0; i < 3; i++)
    {
        w = waitpid(c, &st, WUNTRACED);
        say("self-stop %d: found %d, %s\n", i, w == c, status_text(st, b1));
        kill(c, SIGCONT);
    }
    waitpid(c, &st, 0);
    say("after the stops: %s\n", status_text(st, b1));

    /* 5. A wait for one child ignores the others; WNOHANG answers 0 while a child runs. */
    pid_t a = fork();
    if (a == 0) { take(down[0]); _exit(1); }
    pid_t bb = fork();
    if (bb == 0) _exit(2);
    waitpid(bb, &st, 0);
    say("second child first: %s\n", status_text(st, b1));
    say("WNOHANG while running: %d\n", waitpid(a, &st, WNOHANG));
    say("wait for a pid that is no child: %s\n", OUT(waitpid(getppid(), &st, WNOHANG)));
    post(down[1], 'x');
    waitpid(-1, &st, 0);
    say("any child: %s\n", status_text(st, b1));
    say("no children left: %s\n", OUT(wait(&st)));

    /* 6. An orphan goes to the nearest subreaper: this process. It sees its new parent, and this process reaps it. */
    say("become subreaper: %d\n", prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
    int is = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &is, 0, 0, 0);
    say("is subreaper: %d\n", is);
    int gpid[2];
    pipe(gpid);
    pid_t mid = fork();
    if (mid == 0)
    {
        pid_t midpid = getpid();
        pid_t gc = fork();
        if (gc == 0)
        {
            take(down[0]); /* the middle process has exited by now */
            while (getppid() == midpid) usleep(1000); /* reparenting follows the exit closely */
            post(up[1], getppid() == me ? 'y' : 'n');
            take(down[0]);
            _exit(12);
        }
        write(gpid[1], &gc, sizeof gc);
        _exit(11);
    }
    pid_t gc;
    read(gpid[0], &gc, sizeof gc);
    waitpid(mid, &st, 0);
    say("middle: %s\n", status_text(st, b1));
    post(down[1], 'x');
    say("grandchild's parent is now this process: %c\n", take(up[0]));
    say("grandchild in this process's group: %d\n", getpgid(gc) == getpgrp());
    post(down[1], 'x');
    w = waitpid(-1, &st, 0);
    say("reaped the orphan: %d, %s\n", w == gc, status_text(st, b1));
    say("then: %s\n", OUT(wait(&st)));

    /* 7. An orphan's SIGCHLD reaches the subreaper with the orphan's pid. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    mid = fork();
    if (mid == 0)
    {
        pid_t g2 = fork();
        if (g2 == 0)
        {
            take(down[0]);
            _exit(13);
        }
        write(gpid[1], &g2, sizeof g2);
        _exit(0);
    }
    read(gpid[0], &gc, sizeof gc);
    waitpid(mid, &st, 0);
    /* Drain the middle child's SIGCHLD, then let the orphan go. */
    struct timespec zero = { 0, 0 };
    sigtimedwait(&chld, &si, &zero);
    post(down[1], 'x');
    memset(&si, 0, sizeof si);
    r = sigwaitinfo(&chld, &si);
    say("orphan's SIGCHLD: %d code %d status %d pid %d\n", r, si.si_code, si.si_status, si.si_pid == gc);
    w = waitpid(gc, &st, 0);
    say("reaped: %d, %s\n", w == gc, status_text(st, b1));
    sigprocmask(SIG_UNBLOCK, &chld, NULL);

    /* 8. The parent-death signal: a grandchild asks for SIGTERM when its parent ends, another for SIGUSR1, which it
       handles; both are this subreaper's to reap. */
    mid = fork();
    if (mid == 0)
    {
        for (int i = 0; i < 2; i++)
        {
            pid_t g3 = fork();
            if (g3 == 0)
            {
                usr1 = 0;
                prctl(PR_SET_PDEATHSIG, i == 0 ? SIGTERM : SIGUSR1, 0, 0, 0);
                int got = 0;
                prctl(PR_GET_PDEATHSIG, &got, 0, 0, 0);
                post(up[1], got == (i == 0 ? SIGTERM : SIGUSR1) ? 'r' : '?');
                while (!usr1) usleep(1000);
                _exit(getppid() == me ? 14 : 15);
            }
            write(gpid[1], &g3, sizeof g3);
        }
        take(down[0]);
        _exit(0);
    }
    pid_t g3[2];
    read(gpid[0], &g3[0], sizeof g3[0]);
    read(gpid[0], &g3[1], sizeof g3[1]);
    say("death signals asked for: %c%c\n", take(up[0]), take(up[0]));
    post(down[1], 'x');
    waitpid(mid, &st, 0);
    for (int i = 0; i < 2; i++)
    {
        w = waitpid(g3[i], &st, 0);
        say("after the parent's end, grandchild %d: %d, %s\n", i, w == g3[i], status_text(st, b1));
    }
    return 0;
}
