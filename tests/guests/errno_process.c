/* Processes: exact wait status words (exit codes, death by signal, core bit), waitpid/waitid error
   paths, sessions and process groups, kill and rlimit checks, credentials. No pids are printed, only relations. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errno_check.h"

static int status_of(void (*body)(void))
{
    pid_t c = fork();
    if (c == 0)
    {
        body();
        _exit(0);
    }
    int st = 0;
    waitpid(c, &st, 0);
    return st;
}

static void exit_42(void) { _exit(42); }
static void exit_256(void) { _exit(256 + 3); }
static void die_term(void) { kill(getpid(), SIGTERM); pause(); }
static void die_kill(void) { raise(SIGKILL); }
static void die_segv(void)
{
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    *(volatile int *)16 = 1;
}
static void die_abort(void)
{
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    abort();
}

static void new_session(void)
{
    pid_t s = setsid();
    _exit(s == getpid() && getsid(0) == getpid() && getpgid(0) == getpid() ? 10 : 20);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    T(status_of(exit_42));
    T(status_of(exit_256));
    T(status_of(die_term));
    T(status_of(die_kill));
    T(status_of(die_segv));
    T(status_of(die_abort));
    T(WEXITSTATUS(status_of(new_session)));

    T(waitpid(-1, NULL, 0));
    T(waitpid(-1, NULL, WNOHANG));
    T(waitpid(getpid(), NULL, 0));
    T(waitpid(-1, NULL, 0x40000000));
    T(wait4(-1, BAD, 0, NULL));
    siginfo_t si;
    T(waitid(P_ALL, 0, &si, WEXITED | WNOHANG));
    T(waitid(P_ALL, 0, &si, 0));
    T(waitid(99, 0, &si, WEXITED));

    pid_t c = fork();
    if (c == 0) _exit(5);
    T(waitid(P_PID, c, &si, WEXITED | WNOWAIT) == 0 && si.si_pid == c);
    T(si.si_code == CLD_EXITED && si.si_status == 5 && si.si_signo == SIGCHLD);
    int st;
    T(waitpid(c, &st, 0) == c);
    T(st);
    c = fork();
    if (c == 0) _exit(6);
    T(waitpid(c, BAD, 0));
    T(waitpid(c, NULL, WNOHANG));

    T(getpgid(0) == getpgrp());
    T(getpgid(999999999));
    T(getsid(999999999));
    T(setpgid(-1, 0));
    T(setpgid(999999999, 0));
    T(setpgid(0, 0) == 0 || errno == EPERM);
    T(kill(999999999, 0));
    T(kill(getpid(), 99));
    T(kill(getpid(), 0));
    T(syscall(SYS_tgkill, getpid(), 999999999, 0));
    T(syscall(SYS_tgkill, -1, getpid(), 0));
    struct rlimit rl;
    T(getrlimit(99, &rl));
    T(getrlimit(RLIMIT_NOFILE, BAD));
    T(getrlimit(RLIMIT_NOFILE, &rl));
    struct rlimit bigger = {rl.rlim_max, rl.rlim_max == RLIM_INFINITY ? RLIM_INFINITY : rl.rlim_max + 1};
    T(setrlimit(RLIMIT_NOFILE, &bigger) == 0 || errno == EPERM);
    struct rlimit bad = {10, 5};
    T(setrlimit(RLIMIT_NOFILE, &bad));
    char name[32];
    T(prctl(PR_SET_NAME, "errno-proc", 0, 0, 0));
    T(prctl(PR_GET_NAME, name, 0, 0, 0));
    printf("name %s\n", name);
    T(prctl(PR_SET_NAME, BAD, 0, 0, 0));
    T(prctl(9999, 0, 0, 0, 0));
    struct rusage ru;
    T(getrusage(99, &ru));
    T(getrusage(RUSAGE_SELF, BAD));
    T(execve("/nonexistent/prog", (char *[]){"x", NULL}, NULL));
    T(execve("/etc/hostname", (char *[]){"x", NULL}, NULL));
    T(execve(BAD, (char *[]){"x", NULL}, NULL));
    T(execve("/tmp", (char *[]){"x", NULL}, NULL));

    /* Credentials: the getters, setters that change nothing, then a child that drops its ids for good. */
    uid_t r, e, s;
    T(getresuid(&r, &e, &s));
    printf("uids equal: %d\n", r == e && e == s);
    gid_t gr, ge, gs;
    T(getresgid(&gr, &ge, &gs));
    T(getresuid(BAD, &e, &s));
    fflush(stdout);
    pid_t dropper = fork();
    if (dropper == 0)
    {
        T(setresuid(-1, -1, -1));
        T(setresgid(-1, -1, -1));
        T(setreuid(-1, -1));
        T(setregid(-1, -1));
        T(setuid(getuid()));
        T(setgid(getgid()));
        gid_t g = getgid();
        T(setgroups(1, &g));
        T(getgroups(0, NULL));
        T(setgroups(-1, &g));
        T(setgroups(1, BAD));
        T(setfsuid(-1) == (int)getuid());
        T(setresgid(65534, 65534, 65534));
        T(setresuid(65534, 65534, 65534));
        T(getuid());
        T(getegid());
        T(setresuid(0, 0, 0));
        T(setuid(0));
        T(setgroups(1, &g));
        fflush(stdout);
        _exit(0);
    }
    waitpid(dropper, NULL, 0);
    T(getuid() == r);
    return 0;
}
