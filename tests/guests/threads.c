/* pthreads: create/join, mutex contention, condition variables, barriers, rwlocks, semaphores,
   thread-local storage, pthread_once, atomics and a small map-reduce; only results are printed. */
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 8
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t barrier;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t sem;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static __thread long tls_counter;
static long shared, once_runs, rw_value;
static atomic_long atomic_total;
static int queue[64], head, tail, produced_done;
static long consumed_sum;

static void init_once(void) { once_runs++; }

static void *worker(void *arg)
{
    long id = (long)arg;
    pthread_once(&once, init_once);
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&lock);
        shared++;
        pthread_mutex_unlock(&lock);
        tls_counter += id;
        atomic_fetch_add(&atomic_total, 1);
    }
    pthread_barrier_wait(&barrier);
    pthread_rwlock_rdlock(&rw);
    long seen = rw_value;
    pthread_rwlock_unlock(&rw);
    pthread_rwlock_wrlock(&rw);
    rw_value += id;
    pthread_rwlock_unlock(&rw);
    sem_post(&sem);
    return (void *)(tls_counter + seen * 0);
}

static void *producer(void *arg)
{
    (void)arg;
    for (int i = 1; i <= 1000; i++) {
        pthread_mutex_lock(&lock);
        while ((tail + 1) % 64 == head) pthread_cond_wait(&cond, &lock);
        queue[tail] = i;
        tail = (tail + 1) % 64;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    produced_done = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    long sum = 0;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (head == tail && !produced_done) pthread_cond_wait(&cond, &lock);
        if (head == tail && produced_done) { pthread_mutex_unlock(&lock); break; }
        sum += queue[head];
        head = (head + 1) % 64;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    consumed_sum += sum;
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* A word-count map-reduce over generated text, split across threads. */
static char text[200000];
static long counts[N][26];
static void *map_letters(void *arg)
{
    long id = (long)arg, len = (long)sizeof text - 1, chunk = len / N;
    for (long i = id * chunk; i < (id == N - 1 ? len : (id + 1) * chunk); i++)
        if (text[i] >= 'a' && text[i] <= 'z') counts[id][text[i] - 'a']++;
    return NULL;
}

int main(void)
{
    pthread_t t[N];
    pthread_barrier_init(&barrier, NULL, N);
    sem_init(&sem, 0, 0);
    for (long i = 0; i < N; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    long rv_sum = 0;
    for (int i = 0; i < N; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        rv_sum += (long)rv;
    }
    for (int i = 0; i < N; i++) sem_wait(&sem);
    printf("shared=%ld atomic=%ld once=%ld rw=%ld tls-sum=%ld\n", shared, (long)atomic_total, once_runs, rw_value, rv_sum);

    pthread_t p, c[3];
    pthread_create(&p, NULL, producer, NULL);
    for (int i = 0; i < 3; i++) pthread_create(&c[i], NULL, consumer, NULL);
    pthread_join(p, NULL);
    for (int i = 0; i < 3; i++) pthread_join(c[i], NULL);
    printf("producer/consumer sum=%ld\n", consumed_sum);

    unsigned x = 12345;
    for (size_t i = 0; i < sizeof text - 1; i++) {
        x = x * 1103515245 + 12345;
        text[i] = (x >> 16) % 7 == 0 ? ' ' : 'a' + (x >> 16) % 26;
    }
    for (long i = 0; i < N; i++) pthread_create(&t[i], NULL, map_letters, (void *)i);
    for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
    for (int l = 0; l < 26; l++) {
        long total = 0;
        for (int i = 0; i < N; i++) total += counts[i][l];
        printf("%c=%ld%c", 'a' + l, total, l == 25 ? '\n' : ' ');
    }

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t d;
    pthread_create(&d, &attr, producer, NULL); /* detached: runs while main finishes */
    return 0;
}
