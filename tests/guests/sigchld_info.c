/* SIGCHLD's siginfo names the child and what happened to it: an exit with its status, a kill with its
   signal, a stop and a continue; with SA_NOCLDSTOP a stop raises nothing. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got, code, status, pid_ok;
static volatile pid_t expect;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    got++;
    code = si->si_code;
    status = si->si_status;
    pid_ok = si->si_pid == expect;
}

static void wait_for_signal(void)
{
    sigset_t none;
    sigemptyset(&none);
    while (!got) sigsuspend(&none);
}

static void report(const char *what)
{
    printf("%s: signals=%d code=%d status=%d pid-ok=%d\n", what, (int)got, (int)code, (int)status, (int)pid_ok);
    fflush(stdout);
}

static void handle(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | flags;
    sigaction(SIGCHLD, &sa, NULL);
}

int main(void)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    handle(0);

    got = 0;
    pid_t p = fork();
    if (p == 0) _exit(5);
    expect = p;
    wait_for_signal();
    report("exited");
    waitpid(p, NULL, 0);

    got = 0;
    p = fork();
    if (p == 0) {
        for (;;) pause();
    }
    expect = p;
    kill(p, SIGTERM);
    wait_for_signal();
    report("killed");
    waitpid(p, NULL, 0);

    got = 0;
    p = fork();
    if (p == 0) {
        for (;;) pause();
    }
    expect = p;
    kill(p, SIGSTOP);
    wait_for_signal();
    report("stopped");
    got = 0;
    kill(p, SIGCONT);
    wait_for_signal();
    report("continued");

    /* With SA_NOCLDSTOP a stop raises no SIGCHLD; the kill that follows does. */
    handle(SA_NOCLDSTOP);
    got = 0;
    kill(p, SIGSTOP);
    int st;
    waitpid(p, &st, WUNTRACED);
    sigset_t pending;
    sigpending(&pending);
    printf("stop with SA_NOCLDSTOP: stopped=%d pending=%d\n", WIFSTOPPED(st), sigismember(&pending, SIGCHLD));
    kill(p, SIGKILL);
    wait_for_signal();
    report("killed while stopped");
    waitpid(p, &st, 0);
    printf("reaped: signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
    return 0;
}
