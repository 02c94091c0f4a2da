/* Threads beyond the basics: 8 x 100 000 mutex increments, detached threads, a lock-free stack
   built on CMPXCHG16B, cancellation (deferred, at a cancellation point, with cleanup handlers),
   raw futex operations (WAKE_OP, REQUEUE, CMP_REQUEUE, WAIT_BITSET with absolute timeouts on both
   clocks, relative timeouts), tgkill to one thread, sched_getaffinity and exit of one thread while
   the others go on. Only deterministic results are printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long futex(atomic_int *uaddr, int op, int val, const void *timeout_or_val2, atomic_int *uaddr2, int val3)
{
    return syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
}

/* ---- 8 x 100 000 mutex-protected increments ---- */
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *increment(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

/* ---- lock-free stack: pointer + generation swapped with CMPXCHG16B ---- */
struct node { struct node *next; long value; };
struct head { struct node *top; uintptr_t gen; } __attribute__((aligned(16)));
static struct head stack_head;
static struct node nodes[4][2000];

static int cas16(struct head *h, struct head *expected, struct head desired)
{
    unsigned char ok;
    __asm__ volatile("lock cmpxchg16b %1; sete %0"
                     : "=q"(ok), "+m"(*h), "+a"(expected->top), "+d"(expected->gen)
                     : "b"(desired.top), "c"(desired.gen)
                     : "memory", "cc");
    return ok;
}

static void push(struct node *n)
{
    struct head old = stack_head, next;
    do {
        n->next = old.top;
        next.top = n;
        next.gen = old.gen + 1;
    } while (!cas16(&stack_head, &old, next));
}

static struct node *pop(void)
{
    struct head old = stack_head, next;
    do {
        if (!old.top) return NULL;
        next.top = old.top->next;
        next.gen = old.gen + 1;
    } while (!cas16(&stack_head, &old, next));
    return old.top;
}

static atomic_long popped_sum;

static void *stack_worker(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < 2000; i++) {
        nodes[id][i].value = id * 100000 + i;
        push(&nodes[id][i]);
        if (i % 3 == 2) {
            struct node *n = pop();
            if (n) atomic_fetch_add(&popped_sum, n->value);
        }
        if (i % 64 == 0) sched_yield();
    }
    return NULL;
}

/* ---- detached threads signal completion through a semaphore-like futex word ---- */
static atomic_int detached_done;

static void *detached(void *arg)
{
    atomic_fetch_add(&detached_done, (int)(long)arg);
    futex(&detached_done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    return NULL;
}

/* ---- cancellation ---- */
static int cleanup_ran;
static void cleanup(void *arg) { cleanup_ran += (int)(long)arg; }

static void *cancellable(void *arg)
{
    (void)arg;
    pthread_cleanup_push(cleanup, (void *)7);
    for (;;) {
        usleep(1000); /* a cancellation point */
    }
    pthread_cleanup_pop(0);
    return NULL;
}

/* ---- raw futex operations ---- */
static atomic_int word_a, word_b, woken, started_a;

static void *waiter_on_a(void *arg)
{
    (void)arg;
    atomic_fetch_add(&started_a, 1);
    while (atomic_load(&word_a) == 0) futex(&word_a, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    atomic_fetch_add(&woken, 1);
    return NULL;
}

static atomic_int bitset_ready;

static void *bitset_waiter(void *arg)
{
    int bits = (int)(long)arg;
    atomic_fetch_add(&bitset_ready, 1);
    while (atomic_load(&word_b) == 0) futex(&word_b, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, bits);
    atomic_fetch_add(&woken, 10);
    return NULL;
}

/* ---- tgkill to one thread ---- */
static volatile sig_atomic_t got_usr1_tid;
static atomic_int target_tid, target_go;

static void on_usr1(int sig) { (void)sig; got_usr1_tid = (sig_atomic_t)syscall(SYS_gettid); }

static void *signal_target(void *arg)
{
    (void)arg;
    atomic_store(&target_tid, (int)syscall(SYS_gettid));
    while (!got_usr1_tid) sched_yield();
    atomic_store(&target_go, 1);
    return NULL;
}

/* ---- one thread exits with pthread_exit while the process goes on ---- */
static void *exits_early(void *arg)
{
    (void)arg;
    pthread_exit((void *)42);
    return NULL;
}

int main(void)
{
    pthread_t t[8];
    for (long i = 0; i < 8; i++) pthread_create(&t[i], NULL, increment, NULL);
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    printf("mutex counter: %ld\n", counter);

    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, stack_worker, (void *)i);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    long rest = 0, count = 0;
    for (struct node *n; (n = pop()) != NULL; count++) rest += n->value;
    long expected = 0;
    for (long id = 0; id < 4; id++)
        for (long i = 0; i < 2000; i++) expected += id * 100000 + i;
    printf("lock-free stack: %ld left, sums match: %s\n", count + 0 * rest,
           atomic_load(&popped_sum) + rest == expected ? "yes" : "no");

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (long i = 1; i <= 5; i++) pthread_create(&t[0], &attr, detached, (void *)i);
    int seen;
    while ((seen = atomic_load(&detached_done)) != 15) futex(&detached_done, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
    printf("detached threads: %d\n", atomic_load(&detached_done));

    pthread_create(&t[0], NULL, cancellable, NULL);
    usleep(5000);
    pthread_cancel(t[0]);
    void *ret;
    pthread_join(t[0], &ret);
    printf("cancelled: %s, cleanup %d\n", ret == PTHREAD_CANCELED ? "yes" : "no", cleanup_ran);

    /* WAKE_OP: set word_b = 1 (op SET) and wake one waiter on word_a, plus one on word_b if the old value was 0. */
    for (long i = 0; i < 3; i++) pthread_create(&t[i], NULL, waiter_on_a, NULL);
    /* Thread start can take long (on another processor component, on a busy machine): count them in first, then give
     * the last one time to get from its count into FUTEX_WAIT. */
    while (atomic_load(&started_a) < 3) usleep(1000);
    usleep(100000);
    atomic_store(&word_a, 1);
    long r1 = futex(&word_a, FUTEX_REQUEUE_PRIVATE, 1, (void *)(uintptr_t)INT32_MAX, &word_b, 0);
    long r2 = futex(&word_b, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)(uintptr_t)INT32_MAX, &word_a, 99);
    long r3 = futex(&word_b, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    printf("requeue: woke %ld, cmp_requeue with a stale value: %s, woken %d\n", r1,
           r2 == -1 && errno == EAGAIN ? "EAGAIN" : "?", atomic_load(&woken));
    (void)r3;

    atomic_store(&woken, 0);
    pthread_create(&t[0], NULL, bitset_waiter, (void *)1L);
    pthread_create(&t[1], NULL, bitset_waiter, (void *)2L);
    /* Both threads running (a thread on another processor component may take a while to start on a busy machine),
       then time for them to reach FUTEX_WAIT. */
    while (atomic_load(&bitset_ready) < 2) usleep(1000);
    usleep(100000);
    atomic_store(&word_b, 1);
    long w1 = futex(&word_b, FUTEX_WAKE_BITSET_PRIVATE, INT32_MAX, NULL, NULL, 2);
    long w2 = futex(&word_b, FUTEX_WAKE_BITSET_PRIVATE, INT32_MAX, NULL, NULL, 1);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    printf("wake_bitset: %ld then %ld, woken %d\n", w1, w2, atomic_load(&woken));

    atomic_int op_word = 5, other = 0;
    /* FUTEX_OP(SET, 9, CMP_EQ, 5): store 9 into `other`, wake waiters of op_word, and of `other` if it held 5. */
    long wo = futex(&op_word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(uintptr_t)1, &other, FUTEX_OP(FUTEX_OP_SET, 9, FUTEX_OP_CMP_EQ, 0));
    printf("wake_op: %ld, other now %d\n", wo, atomic_load(&other));

    /* Timeouts: relative, absolute on CLOCK_MONOTONIC (BITSET default), absolute on CLOCK_REALTIME. */
    atomic_int never = 0;
    struct timespec rel = {0, 20 * 1000 * 1000}, now, abs_mono, abs_real;
    long e1 = futex(&never, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0) == -1 ? errno : 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    abs_mono = now;
    abs_mono.tv_nsec += 20 * 1000 * 1000;
    if (abs_mono.tv_nsec >= 1000000000) { abs_mono.tv_sec++; abs_mono.tv_nsec -= 1000000000; }
    long e2 = futex(&never, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs_mono, NULL, FUTEX_BITSET_MATCH_ANY) == -1 ? errno : 0;
    clock_gettime(CLOCK_REALTIME, &now);
    abs_real = now;
    abs_real.tv_nsec += 20 * 1000 * 1000;
    if (abs_real.tv_nsec >= 1000000000) { abs_real.tv_sec++; abs_real.tv_nsec -= 1000000000; }
    long e3 = futex(&never, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &abs_real, NULL, FUTEX_BITSET_MATCH_ANY) == -1 ? errno : 0;
    long e4 = futex(&never, FUTEX_WAIT_PRIVATE, 1, &rel, NULL, 0) == -1 ? errno : 0;
    printf("timeouts: %s %s %s, wrong value: %s\n", e1 == ETIMEDOUT ? "ETIMEDOUT" : "?", e2 == ETIMEDOUT ? "ETIMEDOUT" : "?",
           e3 == ETIMEDOUT ? "ETIMEDOUT" : "?", e4 == EAGAIN ? "EAGAIN" : "?");

    signal(SIGUSR1, on_usr1);
    pthread_create(&t[0], NULL, signal_target, NULL);
    while (!atomic_load(&target_tid)) sched_yield();
    syscall(SYS_tgkill, getpid(), atomic_load(&target_tid), SIGUSR1);
    pthread_join(t[0], NULL);
    printf("tgkill reached the target thread: %s\n", got_usr1_tid == atomic_load(&target_tid) ? "yes" : "no");

    pthread_create(&t[0], NULL, exits_early, NULL);
    pthread_join(t[0], &ret);
    printf("pthread_exit value: %ld\n", (long)ret);

    cpu_set_t set;
    CPU_ZERO(&set);
    int rc = sched_getaffinity(0, sizeof set, &set);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    printf("affinity: %s\n", rc == 0 && CPU_COUNT(&set) >= 1 && CPU_COUNT(&set) <= online ? "consistent" : "inconsistent");
    return 0;
}
