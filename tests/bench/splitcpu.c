/* CPU-bound integer work on private data in THREADS threads (default 2): the speedup of two processor
   components over one. Usage: splitcpu [ROUNDS [THREADS]] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static long rounds = 30000000;

static void *work(void *arg)
{
    uint64_t x = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1, acc = 0;
    for (long i = 0; i < rounds; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        acc += x & 0xff;
    }
    return (void *)(uintptr_t)acc;
}

int main(int argc, char **argv)
{
    if (argc > 1) rounds = atol(argv[1]);
    int n = argc > 2 ? atoi(argv[2]) : 2;
    if (n < 1 || n > 16) n = 2;
    pthread_t t[16];
    for (long i = 0; i < n; i++) pthread_create(&t[i], 0, work, (void *)(i + 1));
    uint64_t sum = 0;
    for (int i = 0; i < n; i++) { void *r; pthread_join(t[i], &r); sum += (uint64_t)(uintptr_t)r; }
    printf("%llu\n", (unsigned long long)sum);
    return 0;
}
