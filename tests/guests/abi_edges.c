/* Edge semantics of the ABI as the kernel has them: short transfers into and out of partly unmapped
   buffers, file names that are not UTF-8, sigaltstack's flags and limits, and pseudo-terminals
   through /dev/ptmx. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static void show(const char *what, long r) { printf("%-34s %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(errno) : ""); }

static volatile int handler_flags = -1;
static void on_usr1(int sig)
{
    (void)sig;
    stack_t now;
    sigaltstack(NULL, &now);
    handler_flags = now.ss_flags;
    stack_t other = { .ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0 };
    handler_flags |= sigaltstack(&other, NULL) == -1 && errno == EPERM ? 0x100 : 0;
}

/* The same hole in front of pipes, sockets, character devices, getdents and getrandom: each stops (or fails,
   and keeps or drops its data) as its own copy loop does. */
static void partial_objects(char *two)
{
    char *edge = two + 4096 - 100, rest[32];
    struct iovec wv[2] = { { two, 50 }, { edge, 300 } };
    int p[2];
    pipe2(p, O_NONBLOCK);
    show("pipe write straddling a hole", write(p[1], edge, 300));
    show("pipe writev straddling a hole", writev(p[1], wv, 2));
    show("pipe after them", read(p[0], rest, sizeof rest));
    char big[8192];
    memset(big, 'b', sizeof big);
    write(p[1], big, 5000);
    show("pipe read of two pages, one short", read(p[0], two + 4096 - 4500, 5000));
    show("pipe rest", read(p[0], big, sizeof big));
    close(p[0]);
    close(p[1]);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    send(sv[0], "0123456789", 10, 0);
    send(sv[0], "abcdefghij", 10, 0);
    show("stream recv of 2 sends straddling", recv(sv[1], two + 4096 - 15, 20, 0));
    memset(rest, 0, sizeof rest);
    show("stream rest", recv(sv[1], rest, sizeof rest - 1, MSG_DONTWAIT));
    printf("  rest: %s\n", rest);
    send(sv[0], "0123456789abcdefghij", 20, 0);
    struct iovec rv[2] = { { rest, 4 }, { two + 4096 - 6, 16 } };
    struct msghdr m = { .msg_iov = rv, .msg_iovlen = 2 };
    show("stream recvmsg straddling", recvmsg(sv[1], &m, 0));
    show("stream send straddling", send(sv[0], edge, 300, 0));
    show("stream after them", recv(sv[1], rest, sizeof rest, MSG_DONTWAIT));
    close(sv[0]);
    close(sv[1]);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    send(sv[0], "0123456789abcdefghij", 20, 0);
    show("datagram recv straddling", recv(sv[1], two + 4096 - 15, 20, 0));
    show("datagram dropped", recv(sv[1], rest, sizeof rest, MSG_DONTWAIT));
    struct msghdr sm = { .msg_iov = wv, .msg_iovlen = 2 };
    show("datagram sendmsg straddling", sendmsg(sv[0], &sm, 0));
    show("datagram after it", recv(sv[1], rest, sizeof rest, MSG_DONTWAIT));
    close(sv[0]);
    close(sv[1]);
    int z = open("/dev/zero", O_RDWR);
    show("/dev/zero read straddling", read(z, edge, 300));
    show("/dev/zero write from the hole", write(z, two + 4096, 300));
    int n = open("/dev/null", O_WRONLY);
    show("/dev/null write from the hole", write(n, two + 4096, 300));
    int u = open("/dev/urandom", O_RDONLY);
    show("/dev/urandom read straddling", read(u, edge, 300));
    show("getrandom straddling", getrandom(edge, 300, 0));
    char dir[] = "/tmp/legoemu-dents-XXXXXX";
    mkdtemp(dir);
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    show("getdents64 straddling", syscall(SYS_getdents64, d, two + 4096 - 40, 4096));
    show("getdents64 entirely in the hole", syscall(SYS_getdents64, d, two + 4096, 4096));
    close(d);
    rmdir(dir);
    close(z);
    close(n);
    close(u);
}

/* Each thread has its own alternate stack, a new thread none; a frame's uc_stack records the flags the stack
   was set with (not SS_ONSTACK), and SS_DISABLE keeps SS_AUTODISARM. */
static char *main_alt, *thread_alt;
static volatile long where;
static volatile unsigned frame_flags;
static void on_usr2(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)si;
    char local;
    where = &local > main_alt && &local < main_alt + 65536 ? 1 : &local > thread_alt && &local < thread_alt + 65536 ? 2 : 0;
    frame_flags = ((ucontext_t *)uc)->uc_stack.ss_flags;
}

static void *alt_thread(void *arg)
{
    (void)arg;
    stack_t o;
    sigaltstack(NULL, &o);
    printf("  a new thread's stack: flags %d size %zu\n", o.ss_flags, o.ss_size);
    raise(SIGUSR2);
    printf("  its handler without one: on %ld, frame flags 0x%x\n", where, frame_flags);
    stack_t ss = { .ss_sp = thread_alt, .ss_size = 65536, .ss_flags = SS_ONSTACK };
    sigaltstack(&ss, NULL);
    raise(SIGUSR2);
    printf("  its handler: on %ld, frame flags 0x%x\n", where, frame_flags);
    return NULL;
}

static void sigaltstack_per_thread(void)
{
    main_alt = malloc(65536);
    thread_alt = malloc(65536);
    struct sigaction sa = { .sa_sigaction = on_usr2, .sa_flags = SA_SIGINFO | SA_ONSTACK };
    sigaction(SIGUSR2, &sa, NULL);
    stack_t ss = { .ss_sp = main_alt, .ss_size = 65536, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    pthread_t t;
    pthread_create(&t, NULL, alt_thread, NULL);
    pthread_join(t, NULL);
    raise(SIGUSR2);
    printf("  the main thread's handler: on %ld, frame flags 0x%x\n", where, frame_flags);
    ss.ss_flags = SS_AUTODISARM;
    sigaltstack(&ss, NULL);
    raise(SIGUSR2);
    printf("  with SS_AUTODISARM: on %ld, frame flags 0x%x\n", where, frame_flags);
    ss.ss_flags = SS_DISABLE | SS_AUTODISARM;
    show("disable, keeping SS_AUTODISARM", sigaltstack(&ss, NULL));
    stack_t o;
    sigaltstack(NULL, &o);
    printf("  reported flags 0x%x\n", o.ss_flags);
    raise(SIGUSR2);
    printf("  frame flags 0x%x\n", frame_flags);
}

int main(int argc, char **argv)
{
    if (argc > 1) { /* re-executed with a non-UTF-8 argument: print its bytes */
        for (unsigned char *p = (unsigned char *)argv[1]; *p; p++) printf("%02x", *p);
        printf("\n");
        /* ... and its own name, as /proc/self/comm and cmdline give it back */
        char b[512];
        int c = open("/proc/self/comm", O_RDONLY);
        long n = read(c, b, sizeof b);
        printf("  comm:");
        for (long i = 0; i < n; i++) printf(" %02x", (unsigned char)b[i]);
        c = open("/proc/self/cmdline", O_RDONLY);
        n = read(c, b, sizeof b);
        printf("\n  cmdline:");
        for (long i = 0; i < n; i++) printf(" %02x", (unsigned char)b[i]);
        printf("\n");
        return 0;
    }
    /* 1. A buffer whose second page is unmapped: transfers stop at the hole and report what moved. */
    char *two = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(two + 4096, 4096);
    char *edge = two + 4096 - 100;
    memset(two, 'a', 4096);
    char path[] = "/tmp/legoemu-edge-XXXXXX";
    int fd = mkstemp(path);
    show("write straddling a hole", write(fd, edge, 300));
    show("write entirely in the hole", write(fd, two + 4096, 10));
    show("pwrite straddling a hole", pwrite(fd, edge, 300, 1000));
    struct iovec wv[2] = { { two, 50 }, { edge, 300 } };
    show("writev, second part straddling", writev(fd, wv, 2));
    ftruncate(fd, 5000);
    show("pread straddling a hole", pread(fd, edge, 300, 0));
    lseek(fd, 0, SEEK_SET);
    show("read straddling a hole", read(fd, edge, 300));
    show("read at the position after it", lseek(fd, 0, SEEK_CUR));
    struct iovec rv[2] = { { two, 10 }, { edge, 300 } };
    show("readv, second part straddling", readv(fd, rv, 2));
    int p[2];
    pipe(p);
    write(p[1], "0123456789abcdefghij", 20);
    show("pipe read straddling a hole", read(p[0], two + 4096 - 5, 20));
    char rest[32] = {0};
    show("pipe read of what stayed", read(p[0], rest, sizeof rest));
    printf("  rest: %s\n", rest);
    lseek(fd, 0, SEEK_END);
    show("read at the end of the file", read(fd, two + 4096, 10));
    close(fd);
    unlink(path);
    partial_objects(two);

    /* 2. A file name that is not UTF-8 reaches the disk byte for byte. */
    char dir[] = "/tmp/legoemu-names-XXXXXX";
    mkdtemp(dir);
    char name[128];
    snprintf(name, sizeof name, "%s/bad-\xff\xfe-\xc3(.txt", dir);
    int nf = open(name, O_CREAT | O_WRONLY, 0600);
    show("create a non-UTF-8 name", nf >= 0);
    close(nf);
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)))
    {
        if (e->d_name[0] == '.') continue;
        printf("  on disk:");
        for (unsigned char *c = (unsigned char *)e->d_name; *c; c++) printf(" %02x", *c);
        printf("\n");
    }
    closedir(d);
    struct stat st;
    show("stat it by the same bytes", stat(name, &st));
    nf = open(name, O_RDONLY);
    void *mapped = mmap(0, 4096, PROT_READ, MAP_PRIVATE, nf, 0);
    close(nf);
    char maps[8192] = {0};
    int mf = open("/proc/self/maps", O_RDONLY);
    for (long got, at = 0; (got = read(mf, maps + at, sizeof maps - 1 - at)) > 0;) at += got;
    close(mf);
    char *line = strstr(maps, "/bad-");
    printf("  in /proc/self/maps:");
    for (unsigned char *c = (unsigned char *)line; c && *c && *c != '\n'; c++) printf(" %02x", *c);
    printf("\n");
    munmap(mapped, 4096);
    char renamed[128];
    snprintf(renamed, sizeof renamed, "%s/\x80\x81", dir);
    show("rename to another such name", rename(name, renamed));
    show("unlink it", unlink(renamed));
    rmdir(dir);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) { execl("/proc/self/exe", "abi_edges", "arg-\xff\xc3", (char *)0); _exit(9); }
    waitpid(child, NULL, 0);
    /* A program whose own file name is not UTF-8. */
    char pdir[] = "/tmp/legoemu-exec-XXXXXX", prog[128];
    mkdtemp(pdir);
    snprintf(prog, sizeof prog, "%s/\xff\xfe prog", pdir);
    int self = open("/proc/self/exe", O_RDONLY), copy = open(prog, O_CREAT | O_WRONLY, 0700);
    static char image[1 << 16];
    for (long n; (n = read(self, image, sizeof image)) > 0;) write(copy, image, n);
    close(self);
    close(copy);
    fflush(stdout);
    child = fork();
    if (child == 0) { execl(prog, "\xfe argv0", "x", (char *)0); _exit(9); }
    waitpid(child, NULL, 0);
    unlink(prog);
    rmdir(pdir);

    /* 3. sigaltstack. */
    stack_t old, ss = { .ss_sp = malloc(1024), .ss_size = 1024, .ss_flags = 0 };
    show("sigaltstack below MINSIGSTKSZ", sigaltstack(&ss, NULL));
    ss.ss_size = 65536; ss.ss_sp = malloc(65536); ss.ss_flags = 0x40;
    show("sigaltstack with bad flags", sigaltstack(&ss, NULL));
    ss.ss_flags = 0;
    show("sigaltstack", sigaltstack(&ss, &old));
    printf("  old flags %d size %zu\n", old.ss_flags, old.ss_size);
    struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("  in the handler: flags 0x%x\n", handler_flags);
    sigaltstack(NULL, &old);
    printf("  after it: flags %d size %zu\n", old.ss_flags, old.ss_size);
    ss.ss_flags = SS_DISABLE;
    show("sigaltstack disable", sigaltstack(&ss, NULL));
    sigaltstack(NULL, &old);
    printf("  disabled: flags %d\n", old.ss_flags);

    sigaltstack_per_thread();

    /* 4. Pseudo-terminals. */
    int m, s;
    show("openpty", openpty(&m, &s, NULL, NULL, NULL));
    struct termios t;
    tcgetattr(s, &t);
    cfmakeraw(&t);
    tcsetattr(s, TCSANOW, &t);
    write(s, "through the pty", 15);
    char buf[32] = {0};
    show("read on the master", read(m, buf, sizeof buf - 1));
    printf("  got: %s\n", buf);
    int pm = posix_openpt(O_RDWR | O_NOCTTY);
    show("posix_openpt", pm >= 0);
    show("grantpt", grantpt(pm));
    show("unlockpt", unlockpt(pm));
    show("ptsname is /dev/pts/N", ptsname(pm) != NULL && strncmp(ptsname(pm), "/dev/pts/", 9) == 0);
    return 0;
}
