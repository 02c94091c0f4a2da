/* Signal delivery on real rt_sigframes: handlers with siginfo and ucontext, faults caught and left
   with siglongjmp, masks and pending signals, SA_RESETHAND, the alternate stack, timers, SIGPIPE. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

static volatile sig_atomic_t count, last_sig, last_code, on_alt;
static volatile uintptr_t last_addr;
static sigjmp_buf jump;
static char altstack[65536];

static void info_handler(int sig, siginfo_t *si, void *uc)
{
    count++;
    last_sig = sig;
    last_code = si->si_code;
    last_addr = (uintptr_t)si->si_addr;
    ucontext_t *u = uc;
    char here;
    on_alt = (uintptr_t)&here >= (uintptr_t)altstack && (uintptr_t)&here < (uintptr_t)altstack + sizeof altstack;
    if (u == NULL) count += 1000;
}

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    last_sig = sig;
    last_code = si->si_code;
    last_addr = (uintptr_t)si->si_addr;
    siglongjmp(jump, sig);
}

static void install(int sig, void (*h)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

int main(void)
{
    install(SIGUSR1, info_handler, 0);
    raise(SIGUSR1);
    printf("raise: count=%d sig=%d code=%d\n", count, last_sig, last_code);

    kill(getpid(), SIGUSR1);
    printf("kill: count=%d code=%d\n", count, last_code);

    sigset_t block, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    install(SIGUSR2, info_handler, 0);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR2);
    sigpending(&pending);
    printf("blocked: count=%d pending=%d\n", count, sigismember(&pending, SIGUSR2));
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    printf("unblocked: count=%d sig=%d\n", count, last_sig);

    install(SIGUSR1, info_handler, SA_RESETHAND);
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    printf("resethand: count=%d reset=%d\n", count, now.sa_handler == SIG_DFL);

    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    install(SIGUSR2, info_handler, SA_ONSTACK);
    raise(SIGUSR2);
    printf("altstack: on_alt=%d\n", on_alt);

    install(SIGSEGV, fault_handler, 0);
    volatile int *bad = (volatile int *)(uintptr_t)0x1234;
    int v = sigsetjmp(jump, 1);
    if (v == 0) *bad = 7;
    printf("segv: v=%d code=%d addr=%#lx\n", v, last_code, (unsigned long)last_addr);
    v = sigsetjmp(jump, 1);
    if (v == 0) { static const int ro = 1; *(volatile int *)&ro = 2; }
    printf("segv on read-only: v=%d code=%d\n", v, last_code);

    install(SIGFPE, fault_handler, 0);
    volatile int zero = 0;
    v = sigsetjmp(jump, 1);
    if (v == 0) printf("%d\n", 10 / zero);
    printf("fpe: v=%d code=%d\n", v, last_code);

    install(SIGALRM, info_handler, 0);
    struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = 50000}};
    int before = count;
    setitimer(ITIMER_REAL, &it, NULL);
    while (count == before) pause();
    printf("itimer: sig=%d\n", last_sig);

    signal(SIGPIPE, SIG_IGN);
    int fds[2];
    if (pipe(fds) != 0) return 1;
    close(fds[0]);
    ssize_t w = write(fds[1], "x", 1);
    printf("sigpipe ignored: write=%zd errno=%d\n", w, errno);
    install(SIGPIPE, info_handler, 0);
    w = write(fds[1], "x", 1);
    printf("sigpipe handled: write=%zd sig=%d\n", w, last_sig);

    sigset_t waitset;
    sigemptyset(&waitset);
    sigaddset(&waitset, SIGUSR2);
    sigprocmask(SIG_BLOCK, &waitset, NULL);
    raise(SIGUSR2);
    siginfo_t wi;
    struct timespec wts = {1, 0};
    int got = sigtimedwait(&waitset, &wi, &wts);
    printf("sigtimedwait: %d signo=%d\n", got, wi.si_signo);
    wts.tv_sec = 0;
    wts.tv_nsec = 20000000;
    got = sigtimedwait(&waitset, &wi, &wts);
    printf("sigtimedwait timeout: %d errno=%d\n", got, errno);
    sigprocmask(SIG_UNBLOCK, &waitset, NULL);

    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    printf("ignored: ok\n");
    signal(SIGTERM, SIG_DFL);
    fflush(stdout);
    raise(SIGTERM);
    printf("not reached\n");
    return 0;
}
