/* atomics: threads update shared counters with LOCK XADD, LOCK CMPXCHG loops (8, 32 and 64 bits), an XCHG spin
 * lock guarding plain increments, and LOCK ADD/OR; a lost update anywhere shows in the totals. Compiled code runs
 * these inline, so over several processor components this checks that a locked read-modify-write stays atomic. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define THREADS 4
#define ITERS 60000

static volatile uint64_t xadd_counter, add_counter, bits, cas64;
static volatile uint32_t cas32;
static volatile uint16_t add16;
static volatile uint8_t cas8;
static volatile int spin;
static uint64_t guarded;
static uint64_t xadd_sum[THREADS];

static void *work(void *arg)
{
    long id = (long)arg;
    uint64_t sum = 0;
    for (int i = 0; i < ITERS; i++) {
        sum += __atomic_fetch_add(&xadd_counter, 1, __ATOMIC_SEQ_CST);
        uint32_t o32 = cas32;
        while (!__atomic_compare_exchange_n(&cas32, &o32, o32 + 3, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
        uint64_t o64 = cas64;
        while (!__atomic_compare_exchange_n(&cas64, &o64, o64 * 3 + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
        uint8_t o8 = cas8;
        while (!__atomic_compare_exchange_n(&cas8, &o8, (uint8_t)(o8 + 7), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
        while (__atomic_exchange_n(&spin, 1, __ATOMIC_ACQUIRE)) {}
        guarded += (uint64_t)id + 1;
        __atomic_store_n(&spin, 0, __ATOMIC_RELEASE);
        __atomic_fetch_add(&add_counter, 2, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&add16, 1, __ATOMIC_SEQ_CST);
        __atomic_fetch_or(&bits, 1ULL << ((id * 16 + i) & 63), __ATOMIC_SEQ_CST);
    }
    xadd_sum[id] = sum;
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (long k = 0; k < THREADS; k++) pthread_create(&t[k], NULL, work, (void *)k);
    for (int k = 0; k < THREADS; k++) pthread_join(t[k], NULL);
    uint64_t all = 0;
    for (int k = 0; k < THREADS; k++) all += xadd_sum[k];
    /* Every value 0..N-1 was handed out exactly once by the fetch-adds. */
    uint64_t n = (uint64_t)THREADS * ITERS;
    printf("xadd %llu (handed out %s)\n", (unsigned long long)xadd_counter, all == n * (n - 1) / 2 ? "each once" : "WRONG");
    printf("cas32 %u cas8 %u guarded %llu add %llu add16 %u bits %llx\n", cas32, cas8, (unsigned long long)guarded,
        (unsigned long long)add_counter, add16, (unsigned long long)bits);
    /* cas64 applies x*3+1 N times from 0: the same whatever the order. */
    uint64_t expect = 0;
    for (uint64_t k = 0; k < n; k++) expect = expect * 3 + 1;
    printf("cas64 %s\n", cas64 == expect ? "as expected" : "WRONG");
    return 0;
}
