/* Resource limits that hold: descriptors (RLIMIT_NOFILE), file size (RLIMIT_FSIZE with SIGXFSZ),
   the address space (RLIMIT_AS), the data segment (RLIMIT_DATA) and the overcommit rule for a single
   huge allocation, and the stack (RLIMIT_STACK). Each limit is tried in a child of its own. */
#define _GNU_SOURCE
#include "errno_check.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int xfsz;
static void on_xfsz(int sig) { (void)sig; xfsz++; }

static void run(const char *name, void (*body)(void))
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) { body(); fflush(stdout); _exit(0); }
    int st;
    waitpid(c, &st, 0);
    if (WIFSIGNALED(st)) printf("%s: killed by signal %d\n", name, WTERMSIG(st));
}

static void nofile(void)
{
    struct rlimit r = { 16, 16 };
    T(setrlimit(RLIMIT_NOFILE, &r));
    int n = 0;
    while (open("/dev/null", O_RDONLY) >= 0) n++;
    printf("opened until %s (last fd below 16: %d)\n", strerrorname_np(errno), n + 3 <= 16);
    T(dup2(0, 20));
    T(fcntl(0, F_DUPFD, 30));
    close(5);
    T(fcntl(0, F_DUPFD, 3));
    struct rlimit back;
    T(getrlimit(RLIMIT_NOFILE, &back));
    printf("soft %lu hard %lu\n", (unsigned long)back.rlim_cur, (unsigned long)back.rlim_max);
}

static void fsize_handled(void)
{
    char path[] = "/tmp/legoemu-fsize-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    signal(SIGXFSZ, on_xfsz);
    struct rlimit r = { 1000, RLIM_INFINITY };
    T(setrlimit(RLIMIT_FSIZE, &r));
    static char buf[3000];
    T(write(fd, buf, 3000));
    T(write(fd, buf, 10));
    T(pwrite(fd, buf, 10, 5000));
    T(ftruncate(fd, 4000));
    printf("SIGXFSZ caught %d times\n", xfsz);
}

static void fsize_default(void)
{
    struct rlimit core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &core);
    signal(SIGXFSZ, SIG_DFL); /* whatever the parent ignored */
    char path[] = "/tmp/legoemu-fsize-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    struct rlimit r = { 100, RLIM_INFINITY };
    setrlimit(RLIMIT_FSIZE, &r);
    static char buf[300];
    write(fd, buf, 300);
    write(fd, buf, 1);
    printf("still running after the write past the limit\n");
}

static void as_limit(void)
{
    struct rlimit r;
    T(getrlimit(RLIMIT_AS, &r));
    r.rlim_cur = 512UL << 20;
    T(setrlimit(RLIMIT_AS, &r));
    T(getrlimit(RLIMIT_AS, &r));
    printf("soft %lu MiB\n", (unsigned long)(r.rlim_cur >> 20));
    T(mmap(NULL, 1UL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
    T(malloc(1UL << 30) == NULL ? -1 : 0);
    void *small = malloc(1 << 20);
    T(small != NULL);
    struct rlimit inverted = { 2 << 20, 1 << 20 };
    T(setrlimit(RLIMIT_AS, &inverted));
}

static void data_limit(void)
{
    struct rlimit r = { 64UL << 20, RLIM_INFINITY };
    T(setrlimit(RLIMIT_DATA, &r));
    T(sbrk(128UL << 20) == (void *)-1 ? -1 : 0);
    T(sbrk(1 << 20) == (void *)-1 ? -1 : 0);
    T(mmap(NULL, 128UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
    T(mmap(NULL, 128UL << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
}

static void overcommit(void)
{
    T(sbrk(64UL << 40) == (void *)-1 ? -1 : 0);
    T(mmap(NULL, 64UL << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
    T(mmap(NULL, 64UL << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) == MAP_FAILED ? -1 : 0);
    T(mmap(NULL, 64UL << 40, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
}

/* RLIMIT_STACK bounds the stack of the images started under it: deeper than the limit faults, a raised limit
   lets a recursion go past the usual 8 MiB. */
static long recurse(long n)
{
    volatile char frame[4096];
    frame[0] = (char)n;
    return n == 0 ? 0 : recurse(n - 1) + frame[0];
}

static void stack_run(long limit_kib, long depth_kib)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0)
    {
        struct rlimit r = { limit_kib << 10, RLIM_INFINITY };
        setrlimit(RLIMIT_STACK, &r);
        char arg[32];
        snprintf(arg, sizeof arg, "%ld", depth_kib);
        execl("/proc/self/exe", "rlimits", arg, (char *)0);
        _exit(9);
    }
    int st;
    waitpid(c, &st, 0);
    printf("stack limit %ld KiB, %ld KiB deep: %s %d\n", limit_kib, depth_kib, WIFSIGNALED(st) ? "killed by signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
    if (argc > 1)
    {
        struct rlimit core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &core);
        return (int)recurse(atol(argv[1]) / 4) & 1;
    }
    run("nofile", nofile);
    run("fsize, handled", fsize_handled);
    run("fsize, default action", fsize_default);
    run("as", as_limit);
    run("data", data_limit);
    run("overcommit", overcommit);
    stack_run(1024, 512);
    stack_run(1024, 2048);
    stack_run(16384, 12288);
    return 0;
}
