/* POSIX timers: signal notification on the realtime and monotonic clocks with the timer's si_value and
   si_timerid, a periodic timer counted by its handler, SIGEV_NONE read with timer_gettime, SIGEV_THREAD
   (glibc's helper thread), an absolute expiry, and the errors. */
#define _GNU_SOURCE
#include "errno_check.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile int fired, last_value, last_code, last_timer_ok;
static timer_t watched;
static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)uc;
    fired++;
    last_value = si->si_value.sival_int;
    last_code = si->si_code;
    last_timer_ok = si->si_timerid == *(int *)&watched;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int thread_calls;
static void on_thread(union sigval v)
{
    pthread_mutex_lock(&lock);
    thread_calls += v.sival_int;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

/* The signals are blocked outside sigsuspend, so none can slip in between the test and the wait. */
static void wait_fired(int n)
{
    sigset_t empty;
    sigemptyset(&empty);
    while (fired < n) sigsuspend(&empty);
}

int main(void)
{
    struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
    sigaction(SIGRTMIN, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGRTMIN);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);

    /* One-shot on CLOCK_REALTIME, 20 ms. */
    struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN, .sigev_value.sival_int = 77 };
    T(timer_create(CLOCK_REALTIME, &ev, &watched));
    struct itimerspec its = { .it_value = { 0, 20 * 1000 * 1000 } };
    T(timer_settime(watched, 0, &its, NULL));
    wait_fired(1);
    printf("realtime: fired %d value %d code %d (SI_TIMER %d) timerid ok %d\n", fired, last_value, last_code, SI_TIMER, last_timer_ok);
    struct itimerspec cur;
    T(timer_gettime(watched, &cur));
    printf("disarmed: %ld %ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
    T(timer_delete(watched));
    T(timer_delete(watched));

    /* Periodic on CLOCK_MONOTONIC: five ticks of 10 ms, then disarmed. */
    fired = 0;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 5;
    T(timer_create(CLOCK_MONOTONIC, &ev, &watched));
    its = (struct itimerspec){ .it_value = { 0, 10 * 1000 * 1000 }, .it_interval = { 0, 10 * 1000 * 1000 } };
    T(timer_settime(watched, 0, &its, NULL));
    wait_fired(5);
    its = (struct itimerspec){ 0 };
    struct itimerspec old;
    T(timer_settime(watched, 0, &its, &old));
    printf("monotonic: at least 5 ticks %d, old interval %ld ns, value %d\n", fired >= 5, old.it_interval.tv_nsec, last_value);
    T(timer_getoverrun(watched) >= 0);
    timer_delete(watched);

    /* An absolute expiry on CLOCK_MONOTONIC. */
    fired = 0;
    T(timer_create(CLOCK_MONOTONIC, &ev, &watched));
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_nsec += 15 * 1000 * 1000;
    if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
    its = (struct itimerspec){ .it_value = now };
    T(timer_settime(watched, TIMER_ABSTIME, &its, NULL));
    wait_fired(1);
    printf("absolute: fired %d\n", fired);
    timer_delete(watched);

    /* SIGEV_NONE: no signal, but the time left counts down. */
    struct sigevent none = { .sigev_notify = SIGEV_NONE };
    timer_t quiet;
    T(timer_create(CLOCK_MONOTONIC, &none, &quiet));
    its = (struct itimerspec){ .it_value = { 5, 0 } };
    T(timer_settime(quiet, 0, &its, NULL));
    T(timer_gettime(quiet, &cur));
    printf("none: between 4 and 5 s left: %d\n", cur.it_value.tv_sec == 4 || (cur.it_value.tv_sec == 5 && cur.it_value.tv_nsec == 0));
    timer_delete(quiet);

    /* SIGEV_THREAD: glibc runs the function on a thread of its own. */
    struct sigevent th = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_thread, .sigev_value.sival_int = 3 };
    timer_t threaded;
    T(timer_create(CLOCK_REALTIME, &th, &threaded));
    its = (struct itimerspec){ .it_value = { 0, 10 * 1000 * 1000 } };
    T(timer_settime(threaded, 0, &its, NULL));
    pthread_mutex_lock(&lock);
    while (thread_calls == 0) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    printf("thread: %d\n", thread_calls);
    timer_delete(threaded);

    /* Errors. */
    struct sigevent bad = { .sigev_notify = 99 };
    T(timer_create(CLOCK_REALTIME, &bad, &quiet));
    bad = (struct sigevent){ .sigev_notify = SIGEV_SIGNAL, .sigev_signo = 200 };
    T(timer_create(CLOCK_REALTIME, &bad, &quiet));
    T(timer_create(12345, NULL, &quiet));
    T(timer_settime((timer_t)(long)4242, 0, &its, NULL));
    T(timer_create(CLOCK_MONOTONIC, NULL, &quiet));
    its.it_value.tv_nsec = 2000000000;
    T(timer_settime(quiet, 0, &its, NULL));
    return 0;
}
