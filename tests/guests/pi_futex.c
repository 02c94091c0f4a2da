/* Priority-inheritance futexes: PI mutexes under contention, with a condition variable and a timeout, a
   robust PI mutex whose owner dies, and the raw FUTEX_LOCK_PI, TRYLOCK_PI and UNLOCK_PI with their errors. */
#define _GNU_SOURCE
#include "errno_check.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t pi, robust_pi;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static long counter, items;
static int done;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++)
    {
        pthread_mutex_lock(&pi);
        counter++;
        if (i % 100 == 0) sched_yield();
        pthread_mutex_unlock(&pi);
    }
    return NULL;
}

static void *producer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++)
    {
        pthread_mutex_lock(&pi);
        items++;
        pthread_cond_signal(&ready);
        pthread_mutex_unlock(&pi);
        if (i % 10 == 0) sched_yield();
    }
    pthread_mutex_lock(&pi);
    done = 1;
    pthread_cond_signal(&ready);
    pthread_mutex_unlock(&pi);
    return NULL;
}

static volatile int held, release;

static void nap(void)
{
    struct timespec t = { 0, 5 * 1000000 };
    nanosleep(&t, NULL);
}

static void *hold_until_released(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pi);
    held = 1;
    while (!release) nap();
    pthread_mutex_unlock(&pi);
    return NULL;
}

static void *die_holding(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&robust_pi);
    return NULL; /* ends with the robust PI mutex held */
}

static void *try_from_other(void *arg)
{
    (void)arg;
    return (void *)(long)pthread_mutex_trylock(&pi);
}

int main(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    T(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT));
    T(pthread_mutex_init(&pi, &a));

    /* Mutual exclusion under contention. */
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    printf("counter %ld\n", counter);

    /* A condition variable over the PI mutex. */
    long consumed = 0;
    pthread_create(&t[0], NULL, producer, NULL);
    pthread_mutex_lock(&pi);
    while (!done || items > 0)
    {
        if (items > 0) { items--; consumed++; continue; }
        pthread_cond_wait(&ready, &pi);
    }
    pthread_mutex_unlock(&pi);
    pthread_join(t[0], NULL);
    printf("consumed %ld\n", consumed);

    /* Owned elsewhere: trylock is EBUSY, a timed lock times out, an untimed one waits for the unlock. */
    T(pthread_mutex_lock(&pi));
    void *res;
    pthread_create(&t[0], NULL, try_from_other, NULL);
    pthread_join(t[0], &res);
    printf("trylock from another thread: %ld\n", (long)res);
    T(pthread_mutex_unlock(&pi));
    pthread_create(&t[0], NULL, hold_until_released, NULL);
    while (!held) nap();
    struct timespec soon;
    clock_gettime(CLOCK_REALTIME, &soon);
    soon.tv_nsec += 20 * 1000000;
    if (soon.tv_nsec >= 1000000000) { soon.tv_sec++; soon.tv_nsec -= 1000000000; }
    T(pthread_mutex_timedlock(&pi, &soon));
    release = 1;
    T(pthread_mutex_lock(&pi));
    T(pthread_mutex_unlock(&pi));
    pthread_join(t[0], NULL);
    T(pthread_mutex_trylock(&pi));
    T(pthread_mutex_trylock(&pi));
    T(pthread_mutex_unlock(&pi));
    T(pthread_mutex_unlock(&pi));

    /* A robust PI mutex whose owner died: the next lock gets EOWNERDEAD, then it can be made consistent. */
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    T(pthread_mutex_init(&robust_pi, &a));
    pthread_t d;
    pthread_create(&d, NULL, die_holding, NULL);
    pthread_join(d, NULL);
    T(pthread_mutex_lock(&robust_pi));
    T(pthread_mutex_consistent(&robust_pi));
    T(pthread_mutex_lock(&robust_pi));
    T(pthread_mutex_unlock(&robust_pi));

    /* The raw operations. */
    uint32_t w = 0;
    T(syscall(SYS_futex, &w, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
    printf("owner is me: %d\n", (w & FUTEX_TID_MASK) == (uint32_t)gettid());
    T(syscall(SYS_futex, &w, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
    T(syscall(SYS_futex, &w, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0));
    T(syscall(SYS_futex, &w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
    printf("word after unlock %u\n", w);
    T(syscall(SYS_futex, &w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
    w = FUTEX_OWNER_DIED;
    T(syscall(SYS_futex, &w, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0));
    printf("taken over a dead owner: %d\n", w == (FUTEX_OWNER_DIED | (uint32_t)gettid()));
    T(syscall(SYS_futex, &w, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0));
    uint32_t gone = 0x3ffffff0; /* an owner that does not exist */
    T(syscall(SYS_futex, &gone, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
    T(syscall(SYS_futex, &gone, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0));
    T(syscall(SYS_futex, (void *)16, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
    T(syscall(SYS_futex, (char *)&w + 1, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
    return 0;
}
