/* CPU-bound work in forked processes: each child runs integer rounds on its own seed, sends its result to the
   parent through a pipe of its own and exits with a status of its own; the parent reads the results in order, reaps
   each child and prints what it got. With "exec", each child runs the work in a program it execve's (this one again,
   its pipe as stdout). Usage: fork_workers [ROUNDS [CHILDREN [exec]]] (default 200000 rounds, 3 children). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t work(uint64_t seed, long rounds)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1, acc = 0;
    for (long i = 0; i < rounds; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        acc += x & 0xff;
    }
    return acc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "work") == 0) {
        /* The program a child execve's: the work, its result on stdout (the pipe), its status. */
        int i = atoi(argv[3]);
        uint64_t r = work((uint64_t)i + 1, atol(argv[2]));
        if (write(1, &r, sizeof r) != sizeof r) return 91;
        return 10 + i;
    }
    long rounds = argc > 1 ? atol(argv[1]) : 200000;
    int n = argc > 2 ? atoi(argv[2]) : 3;
    int exec = argc > 3 && strcmp(argv[3], "exec") == 0;
    if (n < 1 || n > 16) n = 3;
    pid_t pids[16];
    int fds[16];
    pid_t parent = getpid();
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe(p) < 0) { perror("pipe"); return 1; }
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            close(p[0]);
            if (exec) {
                char r[24], k[8];
                snprintf(r, sizeof r, "%ld", rounds);
                snprintf(k, sizeof k, "%d", i);
                if (dup2(p[1], 1) < 0) _exit(92);
                execl("/proc/self/exe", "fork_workers", "work", r, k, (char *)0);
                _exit(93);
            }
            uint64_t r = work((uint64_t)i + 1, rounds);
            /* Relations and identity stay the origin's: the parent is still the parent. */
            if (getppid() != parent) _exit(90);
            if (write(p[1], &r, sizeof r) != sizeof r) _exit(91);
            _exit(10 + i);
        }
        close(p[1]);
        pids[i] = pid;
        fds[i] = p[0];
    }
    uint64_t sum = 0;
    for (int i = 0; i < n; i++) {
        uint64_t r = 0;
        ssize_t got;
        while ((got = read(fds[i], &r, sizeof r)) < 0 && errno == EINTR) { }
        int st = 0;
        if (waitpid(pids[i], &st, 0) != pids[i]) { perror("waitpid"); return 1; }
        printf("child %d: %llu (%zd bytes), exit %d\n", i, (unsigned long long)r, got, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
        sum += r;
        close(fds[i]);
    }
    printf("sum %llu\n", (unsigned long long)sum);
    return 0;
}
