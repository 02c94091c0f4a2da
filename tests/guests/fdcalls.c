/* Descriptor-level calls: creat, sendfile, copy_file_range, memfd_create, eventfd, epoll,
   close_range, msync, mincore, and their error paths (EBADF, EFAULT, EINVAL). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
    char path[] = "/tmp/legoemu-fdcalls-XXXXXX";
    int tmp = mkstemp(path);
    close(tmp);
    int fd = creat(path, 0600);
    printf("creat ok=%d\n", fd >= 0);
    const char *text = "0123456789abcdefghij";
    write(fd, text, strlen(text));
    close(fd);

    int in = open(path, O_RDONLY);
    int pipefd[2];
    pipe(pipefd);
    off_t off = 5;
    ssize_t n = sendfile(pipefd[1], in, &off, 7);
    char buf[64] = {0};
    read(pipefd[0], buf, n);
    printf("sendfile n=%zd off=%ld data=%s\n", n, (long)off, buf);

    char path2[] = "/tmp/legoemu-fdcalls2-XXXXXX";
    int out = mkstemp(path2);
    loff_t ioff = 2, ooff = 0;
    n = copy_file_range(in, &ioff, out, &ooff, 10, 0);
    memset(buf, 0, sizeof buf);
    pread(out, buf, 10, 0);
    printf("copy_file_range n=%zd ioff=%ld ooff=%ld data=%s\n", n, (long)ioff, (long)ooff, buf);
    unlink(path2);
    int mem = memfd_create("scratch", MFD_CLOEXEC);
    write(mem, "memfd!", 6);
    memset(buf, 0, sizeof buf);
    pread(mem, buf, 6, 0);
    printf("memfd data=%s cloexec=%d\n", buf, (fcntl(mem, F_GETFD) & FD_CLOEXEC) != 0);

    int ev = eventfd(3, 0);
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ULL};
    printf("epoll_ctl=%d\n", epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e));
    struct epoll_event got[4];
    int k = epoll_wait(ep, got, 4, 1000);
    printf("epoll_wait=%d data=%llx events=%x\n", k, (unsigned long long)got[0].data.u64, got[0].events);
    unsigned long long v;
    read(ev, &v, sizeof v);
    printf("eventfd value=%llu\n", v);

    volatile uintptr_t bad_address = 16;
    ssize_t r1 = read(999, buf, 1);
    int e1 = errno;
    ssize_t r2 = read(in, (void *)bad_address, 4);
    int e2 = errno;
    long r3 = (long)lseek(in, 0, 42);
    int e3 = errno;
    printf("bad fd read=%zd errno=%d; bad pointer read=%zd errno=%d; bad whence lseek=%ld errno=%d\n", r1, e1, r2, e2, r3, e3);

    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char vec[2] = {9, 9};
    printf("mincore=%d msync=%d\n", mincore(m, 8192, vec), msync(m, 8192, MS_SYNC));
    int r4 = msync((void *)0x10000, 4096, MS_SYNC);
    int e4 = errno;
    printf("msync unmapped=%d errno=%d\n", r4, e4);

    int d1 = dup(in), d2 = dup(in);
    printf("close_range=%d after=%d\n", close_range(d1, d2, 0), fcntl(d2, F_GETFD) == -1 && errno == EBADF);
    unlink(path);
    return 0;
}
