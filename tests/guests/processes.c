/* fork, execve, wait: children are new processor components over a copy-on-write copy of the
   parent's memory; their exit statuses and signals come back through waitpid. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int big[1 << 16];

int main(void)
{
    for (int i = 0; i < (1 << 16); i++) big[i] = i * 3;
    printf("parent pid-positive=%d\n", getpid() > 0);
    fflush(stdout);

    int fds[2];
    if (pipe(fds) != 0) return 1;
    pid_t p = fork();
    if (p == 0) {
        /* The child sees the parent's memory as of the fork, and its writes stay private. */
        long sum = 0;
        for (int i = 0; i < (1 << 16); i++) { sum += big[i]; big[i] = -1; }
        char msg[64];
        int n = snprintf(msg, sizeof msg, "child sum=%ld ppid-ok=%d", sum, getppid() > 1);
        write(fds[1], msg, n);
        _exit(7);
    }
    close(fds[1]);
    char buf[128] = {0};
    read(fds[0], buf, sizeof buf - 1);
    int st;
    waitpid(p, &st, 0);
    printf("%s\nparent big[5]=%d exited=%d status=%d\n", buf, big[5], WIFEXITED(st), WEXITSTATUS(st));

    p = fork();
    if (p == 0) {
        char *argv[] = {"/bin/echo", "exec", "from", "child", NULL};
        execv(argv[0], argv);
        _exit(99);
    }
    waitpid(p, &st, 0);
    printf("exec child status=%d\n", WEXITSTATUS(st));

    p = fork();
    if (p == 0) {
        execl("/nonexistent/program", "x", (char *)NULL);
        _exit(errno == ENOENT ? 42 : 1);
    }
    waitpid(p, &st, 0);
    printf("failed exec status=%d\n", WEXITSTATUS(st));

    p = fork();
    if (p == 0) abort();
    waitpid(p, &st, 0);
    printf("abort: signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));

    p = fork();
    if (p == 0) { pause(); _exit(0); }
    kill(p, SIGTERM);
    waitpid(p, &st, 0);
    printf("killed: signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));

    int status = system("echo from system; exit 3");
    printf("system status=%d\n", WEXITSTATUS(status));
    return 0;
}
