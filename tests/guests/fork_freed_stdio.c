/* fork after stdout was redirected with dup2 (as a shell's command substitution does) and after it
 * was closed. The emulator must not let its own fork plumbing land on a host descriptor 0-2 freed
 * that way: such a descriptor was not passed to the child, which then hung reading its state. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    alarm(60); /* a hung child fails the test quickly instead of hitting the harness timeout */
    fflush(stdout);
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 1) != 1) return 2;
    close(null);
    /* Round 0 lets the emulator load whatever it needs for a fork; afterwards host descriptors 0-2
     * freed by the guest stay free until the next fork's own plumbing takes one. */
    for (int round = 0; round < 4; round++) {
        if (round == 1) dup2(1, 0);
        if (round == 2) close(1);
        if (round == 3) close(0);
        pid_t pid = fork();
        if (pid < 0) return 3;
        if (pid == 0) {
            /* A grandchild too: the child is a processor component of its own and forks in turn. */
            pid_t g = fork();
            if (g < 0) _exit(5);
            if (g == 0) _exit(7);
            int gs;
            if (waitpid(g, &gs, 0) != g || !WIFEXITED(gs) || WEXITSTATUS(gs) != 7) _exit(6);
            _exit(42);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid) return 4;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 42) return 10 + round;
    }
    /* stdout is gone: the verdict is the exit status alone. */
    return 0;
}
