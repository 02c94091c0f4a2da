/* Two threads each bump their own counter. "shared": the counters sit in one cache line (false sharing);
   "padded": a page apart, so no line is written by both. Usage: falseshare shared|padded [ROUNDS] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long rounds = 2000000;
static volatile long *slot[2];
static char area[3 * 4096] __attribute__((aligned(4096)));

static void *work(void *arg)
{
    volatile long *c = slot[(long)arg];
    for (long i = 0; i < rounds; i++) *c += 1;
    return 0;
}

int main(int argc, char **argv)
{
    int padded = argc > 1 && strcmp(argv[1], "padded") == 0;
    if (argc > 2) rounds = atol(argv[2]);
    slot[0] = (volatile long *)area;
    slot[1] = (volatile long *)(area + (padded ? 4096 : 8));
    pthread_t t[2];
    for (long i = 0; i < 2; i++) pthread_create(&t[i], 0, work, (void *)i);
    for (int i = 0; i < 2; i++) pthread_join(t[i], 0);
    printf("%ld %ld\n", *slot[0], *slot[1]);
    return 0;
}
