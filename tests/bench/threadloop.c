/* Creates N threads (default stack size) that return at once, then joins them all: the cost of thread
   creation as the number of live threads and stacks grows. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *work(void *a) { return a; }

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    pthread_t *t = malloc(sizeof *t * n);
    long sum = 0;
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, work, (void *)(long)i)) { printf("create %d failed\n", i); return 1; }
    for (int i = 0; i < n; i++) { void *r; pthread_join(t[i], &r); sum += (long)r; }
    printf("%d threads, sum %ld\n", n, sum);
    return 0;
}
