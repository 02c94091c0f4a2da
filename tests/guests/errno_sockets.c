/* Sockets on their error paths: unsupported families, bad address lengths, ENOENT/ECONNREFUSED on
   connect, EINVAL/ENOTCONN/EISCONN/ENOTSOCK, EFAULT for bad pointers, EPIPE with and without SIGPIPE,
   plus a datagram round trip and SCM_RIGHTS. Ports are never printed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "errno_check.h"

static volatile sig_atomic_t pipes;
static void on_pipe(int s) { (void)s; pipes++; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char buf[64];
    T(socket(12345, SOCK_STREAM, 0));
    T(socket(AF_UNIX, 12345, 0));
    T(socket(AF_INET, SOCK_STREAM, 12345));
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    T(s);
    struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/nonexistent/legoemu.sock"};
    T(connect(s, (struct sockaddr *)&un, sizeof un));
    T(connect(s, (struct sockaddr *)&un, 1));
    T(connect(s, BAD, sizeof un));
    T(bind(s, (struct sockaddr *)&un, 0));
    T(bind(s, BAD, sizeof un));
    T(listen(999, 1));
    T(accept(s, NULL, NULL));
    T(send(s, "x", 1, 0));
    T(recv(s, buf, 1, MSG_DONTWAIT));
    T(shutdown(s, SHUT_RDWR));
    T(shutdown(s, 99));
    int p[2];
    pipe(p);
    T(send(p[1], "x", 1, 0));
    T(getsockname(p[0], (struct sockaddr *)&un, &(socklen_t){sizeof un}));
    T(listen(p[0], 1));
    int one = 1;
    T(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    T(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 1));
    T(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, BAD, sizeof one));
    T(setsockopt(s, 12345, 1, &one, sizeof one));
    int v = 0;
    socklen_t vl = sizeof v;
    T(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl));
    T(v == SOCK_STREAM && vl == sizeof v);
    T(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, BAD));
    T(getsockopt(s, SOL_SOCKET, 12345, &v, &vl));
    close(s);

    /* A listener on an ephemeral loopback port: connection refused once it is closed. */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    T(bind(l, (struct sockaddr *)&in, sizeof in));
    T(bind(l, (struct sockaddr *)&in, sizeof in));
    socklen_t il = sizeof in;
    T(getsockname(l, (struct sockaddr *)&in, &il));
    T(listen(l, 4));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    T(connect(c, (struct sockaddr *)&in, sizeof in));
    T(connect(c, (struct sockaddr *)&in, sizeof in));
    int a = accept(l, NULL, NULL);
    T(a >= 0);
    T(send(c, "hello", 5, 0));
    T(recv(a, buf, sizeof buf, 0));
    T(recv(a, BAD, sizeof buf, MSG_DONTWAIT));
    T(send(c, BAD, 5, 0));
    T(getpeername(l, (struct sockaddr *)&in, &il));
    close(a);
    close(l);
    int c2 = socket(AF_INET, SOCK_STREAM, 0);
    T(connect(c2, (struct sockaddr *)&in, sizeof in));
    close(c2);

    /* EPIPE: SIGPIPE unless MSG_NOSIGNAL. */
    signal(SIGPIPE, on_pipe);
    int sv[2];
    T(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    close(sv[1]);
    T(send(sv[0], "x", 1, MSG_NOSIGNAL));
    T(pipes);
    T(send(sv[0], "x", 1, 0));
    T(pipes);
    T(write(sv[0], "x", 1));
    T(pipes);
    close(sv[0]);
    T(socketpair(AF_UNIX, SOCK_STREAM, 0, BAD));
    T(socketpair(AF_INET, SOCK_STREAM, 0, sv));

    /* SO_RCVTIMEO bounds a blocking recv, read and accept: they fail with EAGAIN. */
    T(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    struct timeval tmo = {0, 100 * 1000};
    T(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo));
    T(recv(sv[0], buf, sizeof buf, 0));
    T(read(sv[0], buf, sizeof buf));
    int tl = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr auto_addr = {.sa_family = AF_UNIX};
    bind(tl, &auto_addr, sizeof(sa_family_t));
    listen(tl, 1);
    T(setsockopt(tl, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo));
    T(accept(tl, NULL, NULL));
    close(tl);
    close(sv[0]);
    close(sv[1]);

    /* Datagrams: truncation and the sender's address. */
    T(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    T(send(sv[0], "datagram", 8, 0));
    T(recv(sv[1], buf, 4, 0));
    T(recv(sv[1], buf, 4, MSG_DONTWAIT));
    T(send(sv[0], "peek", 4, 0));
    T(recv(sv[1], buf, sizeof buf, MSG_PEEK));
    T(recv(sv[1], buf, sizeof buf, MSG_TRUNC));

    /* SCM_RIGHTS carries a descriptor; a bad one is EBADF. */
    int q[2];
    pipe(q);
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {"f", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    *(int *)CMSG_DATA(cm) = 999;
    T(sendmsg(sv[0], &m, 0));
    *(int *)CMSG_DATA(cm) = q[1];
    T(sendmsg(sv[0], &m, 0));
    char r1;
    struct iovec riov = {&r1, 1};
    char rbuf[CMSG_SPACE(sizeof(int))];
    struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf};
    T(recvmsg(sv[1], &rm, 0));
    int got = *(int *)CMSG_DATA(CMSG_FIRSTHDR(&rm));
    T(write(got, "z", 1));
    T(read(q[0], buf, 1));
    T(sendmsg(sv[0], BAD, 0));
    T(recvmsg(sv[1], BAD, MSG_DONTWAIT));
    return 0;
}
