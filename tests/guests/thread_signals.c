/* Signals aimed at threads: raise() in a second thread, pthread_kill, tkill and tgkill to a thread id.
 * LegoEmu makes up the ids of a process's second and later threads, so they can equal a host pid:
 * such a signal must reach this process, never a host process that happens to have that pid. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static volatile pid_t worker_tid;
static volatile int release_worker;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void wait_for(int n)
{
    while (handled < n) sched_yield();
}

static void *worker(void *arg)
{
    (void)arg;
    raise(SIGUSR1);
    worker_tid = (pid_t)syscall(SYS_gettid);
    while (!release_worker) sched_yield();
    return NULL;
}

int main(void)
{
    signal(SIGUSR1, on_usr1);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    while (!worker_tid) sched_yield();
    wait_for(1);
    printf("raise in a thread: %d\n", (int)handled);
    pthread_kill(t, SIGUSR1);
    wait_for(2);
    printf("pthread_kill: %d\n", (int)handled);
    syscall(SYS_tkill, worker_tid, SIGUSR1);
    wait_for(3);
    printf("tkill: %d\n", (int)handled);
    syscall(SYS_tgkill, getpid(), worker_tid, SIGUSR1);
    wait_for(4);
    printf("tgkill: %d\n", (int)handled);
    printf("tgkill to no such thread: %s\n", syscall(SYS_tgkill, getpid(), 999999, 0) == -1 ? "fails" : "succeeds");
    release_worker = 1;
    pthread_join(t, NULL);
    pthread_kill(pthread_self(), SIGUSR1);
    printf("pthread_kill to self: %d\n", (int)handled);
    return 0;
}
