/* Processes that share memory while some of them execve: a child that inherited MAP_SHARED memory leaves it at its
   execve, and the program it runs maps shared memory of its own at once and writes private memory for a while.
   Meanwhile other children increment counters in the memory they inherited, under a process-shared mutex and with
   atomics; no increment may be lost. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared { pthread_mutex_t mutex; long locked; long atomic; long execs; };

static int exec_side(void)
{
    long *own = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (own == MAP_FAILED) return 7;
    size_t size = 256 << 10;
    unsigned char *p = malloc(size);
    unsigned long sum = 0;
    for (int k = 0; k < 8; k++)
        for (size_t i = 0; i < size; i += 64) { p[i] += (unsigned char)k; sum += p[i]; }
    own[0] = (long)sum;
    return own[0] == (long)sum ? 0 : 8;
}

static void check(int ok, const char *what) { if (!ok) { printf("FAILED: %s\n", what); exit(1); } }

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exec-side") == 0) return exec_side();
    const int rounds = 6, counters = 3, execers = 2, n = 1500;
    for (int r = 0; r < rounds; r++)
    {
        struct shared *s = mmap(0, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        check(s != MAP_FAILED, "mmap");
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
        pthread_mutex_init(&s->mutex, &ma);
        pid_t pids[counters + execers];
        for (int c = 0; c < counters + execers; c++)
        {
            pids[c] = fork();
            check(pids[c] >= 0, "fork");
            if (pids[c] > 0) continue;
            if (c < execers)
            {
                __atomic_fetch_add(&s->execs, 1, __ATOMIC_SEQ_CST);
                char *args[] = {argv[0], "exec-side", 0};
                execv("/proc/self/exe", args);
                _exit(9);
            }
            for (int i = 0; i < n; i++)
            {
                pthread_mutex_lock(&s->mutex);
                s->locked++;
                pthread_mutex_unlock(&s->mutex);
                __atomic_fetch_add(&s->atomic, 1, __ATOMIC_SEQ_CST);
            }
            _exit(0);
        }
        for (int c = 0; c < counters + execers; c++)
        {
            int st;
            check(waitpid(pids[c], &st, 0) == pids[c] && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child exit status");
        }
        printf("round %d: locked %ld, atomic %ld, execs %ld\n", r, s->locked, s->atomic, s->execs);
        munmap(s, sizeof *s);
    }
    return 0;
}
