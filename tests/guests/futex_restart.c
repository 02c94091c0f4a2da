/* An untimed FUTEX_WAIT interrupted by a signal whose handler has SA_RESTART resumes waiting, as the
   kernel restarts it; it ends only when another thread wakes it (or finds the word changed: EAGAIN). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static int word;
static volatile int handled;

static void on_alarm(int s) { (void)s; handled++; }

static void *waker(void *x)
{
    (void)x;
    while (!handled) usleep(1000);
    usleep(20000);
    __atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    return 0;
}

int main(void)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, 0);
    // Only the waiting thread may take the alarm: the waker blocks it.
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, 0);
    pthread_t t;
    pthread_create(&t, 0, waker, 0);
    pthread_sigmask(SIG_UNBLOCK, &alrm, 0);
    struct itimerval it = { { 0, 0 }, { 0, 50000 } };
    setitimer(ITIMER_REAL, &it, 0);
    long r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
    int e = errno;
    pthread_join(t, 0);
    printf("handler ran %d time(s); the wait %s\n", handled,
           r == 0 || (r == -1 && e == EAGAIN) ? "ended by the wake-up" : "failed");
    if (r != 0 && e != EAGAIN) printf("errno %d\n", e);
    return 0;
}
