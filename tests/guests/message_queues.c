/* POSIX message queues: attributes, priorities, non-blocking and timed sends and receives, a receive that
   waits for another thread's send, notification by signal, and the errors of each. */
#define _GNU_SOURCE
#include "errno_check.h"
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char name[64];
static volatile int notified;
static void on_usr1(int sig) { (void)sig; notified = 1; }

static struct timespec in_ms(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) { t.tv_sec++; t.tv_nsec -= 1000000000; }
    return t;
}

static void *sender(void *arg)
{
    mqd_t q = *(mqd_t *)arg;
    struct timespec pause = { 0, 50 * 1000000 };
    nanosleep(&pause, NULL);
    mq_send(q, "late", 4, 7);
    return NULL;
}

int main(void)
{
    snprintf(name, sizeof name, "/legoemu-mq-%d", getpid());
    struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
    T(mq_open(name, O_RDWR) == (mqd_t)-1 ? -1 : 0);
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    T(q >= 0);
    T(mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr));
    struct mq_attr got;
    T(mq_getattr(q, &got));
    printf("flags %ld maxmsg %ld msgsize %ld curmsgs %ld\n", got.mq_flags, got.mq_maxmsg, got.mq_msgsize, got.mq_curmsgs);

    /* Priorities: the highest first, equal ones in order. */
    T(mq_send(q, "low", 3, 1));
    T(mq_send(q, "high", 4, 9));
    T(mq_send(q, "low2", 4, 1));
    char buf[128];
    unsigned prio;
    for (int i = 0; i < 3; i++)
    {
        long n = mq_receive(q, buf, sizeof buf, &prio);
        printf("received %.*s at priority %u\n", (int)n, buf, prio);
    }

    /* Errors: a message too large, a buffer too small, a bad descriptor, a bad timeout. */
    char big[100] = {0};
    T(mq_send(q, big, sizeof big, 0));
    T(mq_receive(q, buf, 10, &prio));
    T(mq_send(-1, "x", 1, 0));
    T(mq_send(q, "x", 1, 40000));
    struct timespec bad = { 0, 2000000000 };
    T(mq_timedreceive(q, buf, sizeof buf, &prio, &bad));

    /* Empty: non-blocking receive, then a timed one. */
    struct mq_attr nb = { .mq_flags = O_NONBLOCK }, old;
    T(mq_setattr(q, &nb, &old));
    printf("old flags %ld\n", old.mq_flags);
    T(mq_receive(q, buf, sizeof buf, &prio));
    nb.mq_flags = 0;
    T(mq_setattr(q, &nb, NULL));
    struct timespec soon = in_ms(30);
    T(mq_timedreceive(q, buf, sizeof buf, &prio, &soon));
    struct timespec gone = { 1, 0 };
    T(mq_timedreceive(q, buf, sizeof buf, &prio, &gone));

    /* Full: a timed send gives up. */
    for (int i = 0; i < 4; i++) mq_send(q, "fill", 4, 0);
    soon = in_ms(30);
    T(mq_timedsend(q, "more", 4, 0, &soon));
    T(mq_getattr(q, &got));
    printf("curmsgs %ld\n", got.mq_curmsgs);
    for (int i = 0; i < 4; i++) mq_receive(q, buf, sizeof buf, &prio);

    /* A receive waits for another thread's send. */
    pthread_t t;
    pthread_create(&t, NULL, sender, &q);
    long n = mq_receive(q, buf, sizeof buf, &prio);
    printf("waited for: %.*s at priority %u\n", (int)n, buf, prio);
    pthread_join(t, NULL);

    /* Notification by signal when a message reaches the empty queue. */
    signal(SIGUSR1, on_usr1);
    struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
    T(mq_notify(q, &ev));
    T(mq_send(q, "ping", 4, 0));
    for (int i = 0; i < 200 && !notified; i++)
    {
        struct timespec tick = { 0, 10 * 1000000 };
        nanosleep(&tick, NULL);
    }
    printf("notified: %d\n", notified);
    T(mq_notify(q, NULL));

    T(mq_close(q));
    T(mq_unlink(name));
    T(mq_unlink(name));
    T(mq_unlink("/legoemu-no-such-queue"));
    return 0;
}
