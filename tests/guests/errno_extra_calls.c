/* The calls added in the ABI's second pass, with their errors: xattr setters and removers, chroot,
   positioned vector I/O, scheduling and personality, memory locking, membarrier, sigqueue, mknod, the
   old-style time setters, readahead, sync_file_range, I/O priorities, openat2, epoll_pwait2 and
   sched_getattr/sched_setattr. */
#define _GNU_SOURCE
#include "errno_check.h"
#include <fcntl.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <utime.h>
#include <unistd.h>

static volatile int got_value = -1, got_code;
static void on_rt(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)uc;
    got_value = si->si_value.sival_int;
    got_code = si->si_code;
}

int main(void)
{
    char dir[] = "/tmp/legoemu-extra-XXXXXX";
    mkdtemp(dir);
    char path[256];
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_CREAT | O_RDWR, 0600);

    /* Extended attributes on tmpfs or the disk: user.* names are allowed, bad namespaces are not. */
    long set = setxattr(path, "user.legoemu", "v1", 2, 0);
    if (set == 0)
    {
        T(setxattr(path, "user.legoemu", "v1", 2, XATTR_CREATE));
        T(setxattr(path, "user.other", "v2", 2, XATTR_REPLACE));
        T(fsetxattr(fd, "user.legoemu", "value2", 6, XATTR_REPLACE));
        char v[16] = {0};
        T(getxattr(path, "user.legoemu", v, sizeof v));
        printf("value: %s\n", v);
        T(lsetxattr(path, "user.l", "x", 1, 0));
        T(removexattr(path, "user.l"));
        T(fremovexattr(fd, "user.legoemu"));
        T(lremovexattr(path, "user.legoemu"));
        T(setxattr(path, "user.big", "x", 70000, 0));
    }
    else printf("xattrs not supported here: %s\n", strerrorname_np(errno));
    T(setxattr("/nonexistent/x", "user.a", "1", 1, 0));
    T(setxattr(path, "bogus.a", "1", 1, 0));
    T(setxattr(path, BAD, "1", 1, 0));
    T(fsetxattr(-1, "user.a", "1", 1, 0));

    /* chroot: to a missing path, a file, and to / itself. */
    T(chroot("/nonexistent-dir"));
    T(chroot(path));
    T(chroot("/"));

    /* preadv/pwritev and the *2 forms. */
    char a[4] = "abc", b[5] = "defg";
    struct iovec w[2] = { { a, 3 }, { b, 4 } };
    T(pwritev(fd, w, 2, 10));
    T(pwritev(fd, w, 2, -5));
    T(pwritev2(fd, w, 2, 0, 0x1000));
    char r1[3] = {0}, r2[8] = {0};
    struct iovec rv[2] = { { r1, 2 }, { r2, 7 } };
    T(preadv(fd, rv, 2, 11));
    printf("read back: %.2s|%s\n", r1, r2);
    T(lseek(fd, 12, SEEK_SET));
    T(preadv2(fd, rv, 2, -1, 0));
    T(lseek(fd, 0, SEEK_CUR));
    T(preadv2(fd, rv, 2, 10, RWF_HIPRI));
    T(preadv(fd, rv, -1, 0));
    T(preadv(-1, rv, 2, 0));

    /* Scheduling, affinity, priority, personality. */
    T(setpriority(PRIO_PROCESS, 0, 5));
    T(getpriority(PRIO_PROCESS, 0));
    T(setpriority(PRIO_PROCESS, 0, 1));
    T(setpriority(99, 0, 1));
    cpu_set_t set1;
    CPU_ZERO(&set1);
    CPU_SET(0, &set1);
    T(sched_setaffinity(0, sizeof set1, &set1));
    CPU_ZERO(&set1);
    T(sched_setaffinity(0, sizeof set1, &set1));
    T(sched_setaffinity(999999999, sizeof set1, &set1));
    T(sched_getscheduler(0));
    T(sched_get_priority_max(SCHED_FIFO));
    T(personality(0xffffffff));
    T(personality(ADDR_NO_RANDOMIZE));
    T(personality(0xffffffff));
    T(personality(PER_LINUX));

    /* Memory locking. */
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T(mlock(m, 8192));
    T(munlock(m, 8192));
    T(mlock2(m, 4096, 1));
    T(mlock2(m, 4096, 2));
    munmap(m + 4096, 4096);
    T(mlock(m, 8192));
    T(mlockall(0));
    T(mlockall(MCL_ONFAULT));
    T(munlockall());

    /* membarrier. */
    T(syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
    T(syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0));
    T(syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
    T(syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0));
    T(syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 1, 0));
    T(syscall(SYS_membarrier, 12345, 0, 0));

    /* sigqueue to this process carries its value; forging SI_USER for another process is refused. */
    struct sigaction sa = { .sa_sigaction = on_rt, .sa_flags = SA_SIGINFO };
    sigaction(SIGRTMIN + 1, &sa, NULL);
    union sigval val = { .sival_int = 4242 };
    T(sigqueue(getpid(), SIGRTMIN + 1, val));
    printf("value %d code %d\n", got_value, got_code);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_code = SI_USER;
    T(syscall(SYS_rt_sigqueueinfo, getppid(), 0, &si));
    T(syscall(SYS_rt_sigqueueinfo, getpid(), 99, &si));

    /* Nodes and old-style times: mknod/mknodat (FIFOs; devices need privileges), utime, utimes, futimesat. */
    char node[256];
    snprintf(node, sizeof node, "%s/fifo", dir);
    T(mknod(node, S_IFIFO | 0600, 0));
    T(mknod(node, S_IFIFO | 0600, 0));
    T(mknodat(AT_FDCWD, "/nonexistent/fifo", S_IFIFO | 0600, 0));
    T(mknod(BAD, S_IFIFO | 0600, 0));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    T(mknodat(dfd, "reg", S_IFREG | 0600, 0));
    T(mknodat(dfd, "bad", 0170000 | 0600, 0));
    T(mkfifoat(dfd, "fifo2", 0600));
    struct stat st;
    T(fstatat(dfd, "fifo2", &st, 0));
    printf("a fifo: %d\n", S_ISFIFO(st.st_mode));
    struct utimbuf ub = { 1000, 2000 };
    T(utime(path, &ub));
    T(stat(path, &st));
    printf("times %ld %ld\n", (long)st.st_atime, (long)st.st_mtime);
    struct timeval tv[2] = { { 3000, 0 }, { 4000, 5 } };
    T(utimes(path, tv));
    T(syscall(SYS_futimesat, dfd, "f", tv));
    T(stat(path, &st));
    printf("times %ld %ld\n", (long)st.st_atime, (long)st.st_mtime);
    T(syscall(SYS_utime, "/nonexistent", &ub));
    T(syscall(SYS_utimes, path, BAD));
    tv[0].tv_usec = 2000000;
    T(utimes(path, tv));
    T(syscall(SYS_utime, path, NULL));

    /* readahead, sync_file_range and I/O priorities. */
    T(readahead(fd, 0, 4096));
    T(readahead(-1, 0, 4096));
    T(syncfs(fd));
    T(syncfs(-1));
    T(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
    T(sync_file_range(fd, 0, 0, 0x80));
    T(sync_file_range(fd, -1, 0, 0));
    T(syscall(SYS_ioprio_get, 1, 0));
    T(syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 4));
    T(syscall(SYS_ioprio_get, 1, 0));
    T(syscall(SYS_ioprio_get, 1, getpid()));
    T(syscall(SYS_ioprio_get, 99, 0));
    T(syscall(SYS_ioprio_set, 1, 0, (7 << 13)));

    /* openat2 and its checks of struct open_how. */
    struct { unsigned long long flags, mode, resolve, extra; } how = { O_RDONLY, 0, 0, 0 };
    long o2 = syscall(SYS_openat2, AT_FDCWD, path, &how, 24);
    T(o2 >= 0);
    close((int)o2);
    T(syscall(SYS_openat2, AT_FDCWD, path, &how, 16));
    T(syscall(SYS_openat2, AT_FDCWD, path, &how, 5000));
    o2 = syscall(SYS_openat2, AT_FDCWD, path, &how, 32);
    T(o2 >= 0);
    close((int)o2);
    how.extra = 1;
    T(syscall(SYS_openat2, AT_FDCWD, path, &how, 32));
    how.extra = 0;
    how.mode = 0600;
    T(syscall(SYS_openat2, AT_FDCWD, path, &how, 24));
    how.mode = 0;
    how.flags = 1ULL << 40;
    T(syscall(SYS_openat2, AT_FDCWD, path, &how, 24));
    char link_path[256];
    snprintf(link_path, sizeof link_path, "%s/link", dir);
    symlink(path, link_path);
    how.flags = O_RDONLY;
    how.resolve = 0x04; /* RESOLVE_NO_SYMLINKS */
    T(syscall(SYS_openat2, AT_FDCWD, link_path, &how, 24));
    how.resolve = 0x08; /* RESOLVE_BENEATH */
    T(syscall(SYS_openat2, dfd, "/etc/hostname", &how, 24));
    how.resolve = 1ULL << 40;
    T(syscall(SYS_openat2, AT_FDCWD, path, &how, 24));
    unlink(link_path);

    /* epoll_pwait2: a timespec timeout, or none. */
    int ep = epoll_create1(0), ev = eventfd(0, 0);
    struct epoll_event ee = { .events = EPOLLIN, .data.u64 = 77 }, got[4];
    epoll_ctl(ep, EPOLL_CTL_ADD, ev, &ee);
    struct timespec ten_ms = { 0, 10 * 1000000 }, bad_ts = { 0, -1 };
    T(syscall(SYS_epoll_pwait2, ep, got, 4, &ten_ms, NULL, 8));
    eventfd_write(ev, 1);
    T(syscall(SYS_epoll_pwait2, ep, got, 4, NULL, NULL, 8));
    printf("data %llu\n", (unsigned long long)got[0].data.u64);
    T(syscall(SYS_epoll_pwait2, ep, got, 4, &bad_ts, NULL, 8));
    T(syscall(SYS_epoll_pwait2, ep, got, 0, &ten_ms, NULL, 8));
    close(ep);
    close(ev);

    /* sched_getattr and sched_setattr. */
    struct { unsigned size, policy; unsigned long long flags; int nice; unsigned prio; unsigned long long runtime, deadline, period; unsigned util_min, util_max; } attr;
    memset(&attr, 0, sizeof attr);
    T(syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0));
    printf("size %u policy %u nice %d\n", attr.size, attr.policy, attr.nice);
    T(syscall(SYS_sched_getattr, 0, &attr, 8, 0));
    T(syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 1));
    T(syscall(SYS_sched_getattr, getpid(), &attr, sizeof attr, 0));
    attr.size = 48;
    T(syscall(SYS_sched_setattr, 0, &attr, 0));
    attr.size = 8;
    T(syscall(SYS_sched_setattr, 0, &attr, 0));
    attr.size = 48;
    attr.policy = 99;
    T(syscall(SYS_sched_setattr, 0, &attr, 0));

    unlink(node);
    unlinkat(dfd, "reg", 0);
    unlinkat(dfd, "fifo2", 0);
    close(dfd);
    close(fd);
    unlink(path);
    rmdir(dir);
    return 0;
}
