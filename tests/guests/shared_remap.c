/* A process unmaps shared memory it had only read, maps private memory at the same address and writes it; then
   another process writes the shared memory (still mapped there). The private bytes must stay the writer's: the
   line directory still took the first process for a holder of the shared line, and its invalidation took away the
   private line at that address (and its bytes, which a fresh private line then refilled as zeros). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int go[2], done[2];
    if (pipe(go) || pipe(done)) return 2;
    int bad = 0;
    for (int round = 0; round < 4; round++)
    {
        volatile long *s = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (s == MAP_FAILED) return 3;
        s[0] = 1;
        pid_t pid = fork();
        if (pid == 0)
        {
            char c;
            if (read(go[0], &c, 1) != 1) _exit(4);
            for (int i = 0; i < 64; i++) s[i] += 2; /* takes the line to write it */
            if (write(done[1], "d", 1) != 1) _exit(5);
            _exit(0);
        }
        long seen = s[0];                      /* the parent holds the shared line, clean */
        munmap((void *)s, 4096);
        char *p = mmap((void *)s, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p != (char *)s) return 6;
        memset(p, 0x5a, 4096);                 /* private bytes at the same address */
        if (write(go[1], "g", 1) != 1) return 7;
        char c;
        if (read(done[0], &c, 1) != 1) return 8;
        usleep(20000);                         /* whatever the child's store sends this process arrives meanwhile */
        int intact = 1;
        for (int i = 0; i < 4096; i++) intact &= p[i] == 0x5a;
        int st;
        waitpid(pid, &st, 0);
        printf("round %d: saw %ld, private bytes %s, child %d\n", round, seen, intact ? "intact" : "LOST", WEXITSTATUS(st));
        bad += !intact;
        munmap(p, 4096);
    }
    return bad;
}
