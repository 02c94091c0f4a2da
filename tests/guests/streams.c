/* splice, tee and vmsplice through pipes, sendmmsg/recvmmsg on a datagram socket pair, inotify events
   for a file created and written, and a pidfd that polls readable when its child exits and can signal it. */
#define _GNU_SOURCE
#include "errno_check.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    char dir[] = "/tmp/legoemu-streams-XXXXXX";
    mkdtemp(dir);
    char src[256], dst[256];
    snprintf(src, sizeof src, "%s/src", dir);
    snprintf(dst, sizeof dst, "%s/dst", dir);

    /* inotify first, so it sees the files below appear. */
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    T(in >= 0);
    int wd = inotify_add_watch(in, dir, IN_CREATE | IN_CLOSE_WRITE);
    T(wd >= 0);
    T(inotify_add_watch(in, "/nonexistent", IN_CREATE));

    int fd = open(src, O_CREAT | O_RDWR | O_TRUNC, 0600);
    T(write(fd, "spliced through a pipe\n", 23));
    int p[2], q[2];
    pipe(p);
    pipe(q);
    loff_t off = 0;
    T(splice(fd, &off, p[1], NULL, 23, 0));
    printf("offset after splice: %ld\n", (long)off);
    T(tee(p[0], q[1], 23, 0));
    int out = open(dst, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    T(splice(p[0], NULL, out, NULL, 23, 0));
    char copy[32] = {0};
    T(read(q[0], copy, sizeof copy - 1));
    printf("tee copy: %s", copy);
    close(out);
    out = open(dst, O_RDONLY);
    memset(copy, 0, sizeof copy);
    T(read(out, copy, sizeof copy - 1));
    printf("file copy: %s", copy);
    T(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK));
    T(splice(fd, NULL, out, NULL, 10, 0));
    char a[] = "vm", b[] = "splice\n";
    struct iovec iv[2] = { { a, 2 }, { b, 7 } };
    T(vmsplice(p[1], iv, 2, 0));
    memset(copy, 0, sizeof copy);
    T(read(p[0], copy, sizeof copy - 1));
    printf("vmsplice: %s", copy);
    close(fd);
    close(out);

    char ev[4096];
    long n = read(in, ev, sizeof ev);
    for (char *e = ev; n > 0 && e < ev + n;)
    {
        struct inotify_event *ie = (struct inotify_event *)e;
        printf("inotify: %s%s %s\n", ie->mask & IN_CREATE ? "create" : "", ie->mask & IN_CLOSE_WRITE ? "close-write" : "", ie->name);
        e += sizeof *ie + ie->len;
    }
    T(inotify_rm_watch(in, wd));
    T(inotify_rm_watch(in, wd));

    /* sendmmsg and recvmmsg. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    struct iovec m1 = { "first", 5 }, m2 = { "second", 6 }, m3 = { "third", 5 };
    struct mmsghdr out_msgs[3] = { { .msg_hdr = { .msg_iov = &m1, .msg_iovlen = 1 } }, { .msg_hdr = { .msg_iov = &m2, .msg_iovlen = 1 } },
                                   { .msg_hdr = { .msg_iov = &m3, .msg_iovlen = 1 } } };
    T(sendmmsg(sv[0], out_msgs, 3, 0));
    printf("lengths sent: %u %u %u\n", out_msgs[0].msg_len, out_msgs[1].msg_len, out_msgs[2].msg_len);
    char r1[16] = {0}, r2[16] = {0}, r3[16] = {0};
    struct iovec i1 = { r1, 15 }, i2 = { r2, 15 }, i3 = { r3, 15 };
    struct mmsghdr in_msgs[3] = { { .msg_hdr = { .msg_iov = &i1, .msg_iovlen = 1 } }, { .msg_hdr = { .msg_iov = &i2, .msg_iovlen = 1 } },
                                  { .msg_hdr = { .msg_iov = &i3, .msg_iovlen = 1 } } };
    T(recvmmsg(sv[1], in_msgs, 3, 0, NULL));
    printf("received: %s %s %s (%u %u %u)\n", r1, r2, r3, in_msgs[0].msg_len, in_msgs[1].msg_len, in_msgs[2].msg_len);
    T(recvmmsg(sv[1], in_msgs, 3, MSG_DONTWAIT, NULL));

    /* A pidfd: signal the child through it, then poll it readable as the child ends. */
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) { pause(); _exit(3); }
    int pfd = syscall(SYS_pidfd_open, c, 0);
    T(pfd >= 0);
    T(syscall(SYS_pidfd_open, c, 12345));
    T(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
    struct pollfd pp = { pfd, POLLIN, 0 };
    T(poll(&pp, 1, 5000));
    int st;
    waitpid(c, &st, 0);
    printf("child ended by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    T(syscall(SYS_pidfd_open, -1, 0));

    unlink(src);
    unlink(dst);
    rmdir(dir);
    return 0;
}
