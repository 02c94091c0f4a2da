/* The process-creation benchmark: N times posix_spawn + waitpid of a program (default /bin/true);
   prints the mean microseconds per spawn+wait. Exits 1 if a spawn fails or a child does not exit 0. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    char *prog = argc > 2 ? argv[2] : "/bin/true";
    char *args[] = { prog, NULL };
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        pid_t pid;
        int e = posix_spawn(&pid, prog, NULL, NULL, args, environ);
        if (e != 0) {
            fprintf(stderr, "posix_spawn %s: error %d\n", prog, e);
            return 1;
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child %d of %s did not exit 0 (status 0x%x)\n", i, prog, status);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / (n > 0 ? n : 1);
    printf("%.1f us per spawn+wait\n", us);
    return 0;
}
