/* timerfd (expiration counts through read, poll and epoll), signalfd (pending blocked signals read as
   signalfd_siginfo records, pollable, blocking reads woken by a signal) and the old getdents, with
   their error paths. Counts that depend on timing are printed as ranges. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "-"; }

static void timerfds(void)
{
    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec its = {{0, 20 * 1000 * 1000}, {0, 20 * 1000 * 1000}};
    printf("timerfd_settime %d\n", timerfd_settime(t, 0, &its, NULL));
    uint64_t n = 0;
    long r = read(t, &n, sizeof n);
    printf("timerfd read %ld count>=1 %d\n", r, n >= 1);
    struct timespec nap = {0, 100 * 1000 * 1000};
    nanosleep(&nap, NULL);
    r = read(t, &n, sizeof n);
    printf("timerfd read after 100ms %ld count at least 3 %d\n", r, n >= 3 && n < 1000);
    struct pollfd p = {t, POLLIN, 0};
    int pr = poll(&p, 1, 1000);
    printf("poll %d revents %d\n", pr, p.revents);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1234};
    epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev);
    struct epoll_event got = {0};
    int er = epoll_wait(ep, &got, 1, 1000);
    printf("epoll_wait %d data %llx\n", er, (unsigned long long)got.data.u64);
    struct itimerspec cur;
    timerfd_gettime(t, &cur);
    printf("gettime interval %ld.%09ld\n", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
    struct itimerspec off = {{0, 0}, {0, 0}}, old;
    timerfd_settime(t, 0, &off, &old);
    printf("disarmed: old interval %ld\n", old.it_interval.tv_nsec);
    timerfd_gettime(t, &cur);
    printf("gettime after disarm %ld %ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
    int fl = fcntl(t, F_GETFL);
    fcntl(t, F_SETFL, fl | O_NONBLOCK);
    r = read(t, &n, sizeof n);
    printf("nonblocking read of disarmed %ld %s\n", r, err(r));
    r = read(t, &n, 4);
    printf("short read %ld %s\n", r, err(r));
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct itimerspec abs = {{0, 0}, {now.tv_sec - 1, 0}};
    timerfd_settime(t, TFD_TIMER_ABSTIME, &abs, NULL);
    r = read(t, &n, sizeof n);
    printf("abstime in the past: read %ld count %llu\n", r, (unsigned long long)n);
    r = timerfd_settime(999, 0, &its, NULL);
    printf("settime bad fd %ld %s\n", r, err(r));
    r = timerfd_create(CLOCK_MONOTONIC, 0x1);
    printf("create bad flags %ld %s\n", r, err(r));
    r = timerfd_create(12345, 0);
    printf("create bad clock %ld %s\n", r, err(r));
    r = timerfd_settime(t, 0, (void *)16, NULL);
    printf("settime bad pointer %ld %s\n", r, err(r));
    int pfd[2];
    pipe(pfd);
    r = timerfd_gettime(pfd[0], &cur);
    printf("gettime on a pipe %ld %s\n", r, err(r));
    close(pfd[0]);
    close(pfd[1]);
    close(ep);
    close(t);
}

static void signalfds(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int s = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    printf("signalfd cloexec %d\n", (fcntl(s, F_GETFD) & FD_CLOEXEC) != 0);
    struct pollfd p = {s, POLLIN, 0};
    printf("poll idle %d\n", poll(&p, 1, 0));
    raise(SIGUSR1);
    int pr = poll(&p, 1, 0);
    printf("poll after raise %d revents %d\n", pr, p.revents);
    struct signalfd_siginfo si[4];
    long r = read(s, si, sizeof si);
    printf("read %ld signo %u code %d pid_ok %d\n", r, si[0].ssi_signo, si[0].ssi_code, si[0].ssi_pid == (uint32_t)getpid());
    r = read(s, si, sizeof si);
    printf("read empty %ld %s\n", r, err(r));
    kill(getpid(), SIGUSR2);
    raise(SIGUSR1);
    r = read(s, si, sizeof si);
    printf("read two %ld first %u second %u code %d\n", r, si[0].ssi_signo, si[1].ssi_signo, si[1].ssi_code);
    r = read(s, si, 100);
    printf("read small buffer %ld %s\n", r, err(r));
    sigset_t none;
    sigpending(&none);
    printf("nothing pending %d\n", sigismember(&none, SIGUSR1) + sigismember(&none, SIGUSR2));

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    struct itimerval it = {{0, 0}, {0, 50 * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct epoll_event got;
    printf("epoll for SIGALRM %d\n", epoll_wait(ep, &got, 1, 5000));
    r = read(s, si, sizeof si);
    printf("read %ld signo %u\n", r, si[0].ssi_signo);

    /* A blocking signalfd read waits for the signal. */
    int b = signalfd(-1, &set, 0);
    setitimer(ITIMER_REAL, &it, NULL);
    r = read(b, si, sizeof si);
    printf("blocking read %ld signo %u\n", r, si[0].ssi_signo);

    /* Changing the mask of an existing signalfd. */
    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGUSR2);
    printf("signalfd update same fd %d\n", signalfd(s, &only2, 0) == s);
    raise(SIGUSR1);
    r = read(s, si, sizeof si);
    printf("usr1 no longer read %ld %s\n", r, err(r));
    sigpending(&none);
    printf("usr1 still pending %d\n", sigismember(&none, SIGUSR1));
    sigwaitinfo(&set, NULL);

    /* A forked child's signalfd reports the child's signals, not the parent's. */
    pid_t child = fork();
    if (child == 0)
    {
        struct pollfd cp = {s, POLLIN, 0};
        int before = poll(&cp, 1, 0);
        raise(SIGUSR2);
        int after = poll(&cp, 1, 0);
        long n = read(s, si, sizeof si);
        _exit(before == 0 && after == 1 && n == 128 && si[0].ssi_signo == SIGUSR2 ? 0 : 1);
    }
    int cst;
    waitpid(child, &cst, 0);
    struct pollfd pp = {s, POLLIN, 0};
    int parent_ready = poll(&pp, 1, 0);
    printf("child's signalfd ok %d, parent's idle %d\n", WIFEXITED(cst) && WEXITSTATUS(cst) == 0, parent_ready == 0);

    int pfd[2];
    pipe(pfd);
    r = signalfd(pfd[0], &set, 0);
    printf("signalfd on a pipe %ld %s\n", r, err(r));
    r = signalfd(-1, &set, 0x1);
    printf("bad flags %ld %s\n", r, err(r));
    r = signalfd(999, &set, 0);
    printf("bad fd %ld %s\n", r, err(r));
    r = syscall(SYS_signalfd4, -1, &set, 4, 0);
    printf("bad sigset size %ld %s\n", r, err(r));
    r = syscall(SYS_signalfd4, -1, (void *)16, 8, 0);
    printf("bad mask pointer %ld %s\n", r, err(r));
    close(pfd[0]);
    close(pfd[1]);
    close(ep);
    close(b);
    close(s);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

struct linux_dirent
{
    unsigned long d_ino;
    unsigned long d_off;
    unsigned short d_reclen;
    char d_name[];
};

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void old_getdents(void)
{
    char dir[] = "/tmp/legoemu-getdents-XXXXXX";
    if (!mkdtemp(dir)) return;
    const char *names[] = {"a", "bb", "a-rather-long-file-name-to-cross-alignments", "sub"};
    char path[256];
    for (int i = 0; i < 3; i++)
    {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        close(open(path, O_CREAT | O_WRONLY, 0644));
    }
    snprintf(path, sizeof path, "%s/sub", dir);
    mkdir(path, 0755);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    char buf[4096];
    char *seen[16];
    int types[16];
    int count = 0;
    long n;
    while ((n = syscall(SYS_getdents, fd, buf, sizeof buf)) > 0)
    {
        for (long o = 0; o < n;)
        {
            struct linux_dirent *d = (struct linux_dirent *)(buf + o);
            if (count < 16)
            {
                seen[count] = strdup(d->d_name);
                types[count] = buf[o + d->d_reclen - 1];
                count++;
            }
            o += d->d_reclen;
        }
    }
    printf("getdents end %ld entries %d\n", n, count);
    int order[16];
    for (int i = 0; i < count; i++) order[i] = i;
    for (int i = 0; i < count; i++)
        for (int j = i + 1; j < count; j++)
            if (strcmp(seen[order[j]], seen[order[i]]) < 0) { int t = order[i]; order[i] = order[j]; order[j] = t; }
    for (int i = 0; i < count; i++) printf("  %s type %d\n", seen[order[i]], types[order[i]]);
    (void)cmp;
    lseek(fd, 0, SEEK_SET);
    n = syscall(SYS_getdents, fd, buf, 10);
    printf("getdents tiny buffer %ld %s\n", n, err(n));
    n = syscall(SYS_getdents, fd, (void *)16, sizeof buf);
    printf("getdents bad pointer %ld %s\n", n, err(n));
    n = syscall(SYS_getdents, 999, buf, sizeof buf);
    printf("getdents bad fd %ld %s\n", n, err(n));
    int f = open(path, O_RDONLY);
    snprintf(path, sizeof path, "%s/a", dir);
    int file = open(path, O_RDONLY);
    n = syscall(SYS_getdents, file, buf, sizeof buf);
    printf("getdents on a file %ld %s\n", n, err(n));
    close(file);
    close(f);
    close(fd);
    for (int i = 0; i < 3; i++)
    {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    timerfds();
    signalfds();
    old_getdents();
    return 0;
}
