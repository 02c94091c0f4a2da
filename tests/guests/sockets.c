/* Sockets on loopback: a TCP echo between a parent and a forked child, UDP datagrams, a Unix
   socketpair passing a descriptor with SCM_RIGHTS, socket options and addresses. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    if (bind(srv, (struct sockaddr *)&a, sizeof a) != 0 || listen(srv, 4) != 0) { perror("bind/listen"); return 1; }
    socklen_t al = sizeof a;
    getsockname(srv, (struct sockaddr *)&a, &al);
    printf("bound family=%d addr=%s port-nonzero=%d\n", a.sin_family, inet_ntoa(a.sin_addr), ntohs(a.sin_port) != 0);
    fflush(stdout);

    pid_t p = fork();
    if (p == 0) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) _exit(2);
        const char *msg = "hello over tcp";
        send(c, msg, strlen(msg), 0);
        char buf[64] = {0};
        ssize_t n = recv(c, buf, 14, MSG_WAITALL);
        printf("child got %zd: %s\n", n, buf);
        fflush(stdout);
        _exit(0);
    }
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int s = accept(srv, (struct sockaddr *)&peer, &pl);
    char buf[64] = {0};
    ssize_t n = recv(s, buf, 14, MSG_WAITALL);
    for (int i = 0; i < n; i++) buf[i] = toupper((unsigned char)buf[i]);
    send(s, buf, n, 0);
    int st;
    waitpid(p, &st, 0);
    printf("server got %zd, peer loopback=%d, child status=%d\n", n, peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK), WEXITSTATUS(st));
    int nodelay = 0;
    socklen_t ol = sizeof nodelay;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &nodelay, &ol);
    printf("nodelay=%d len=%u\n", nodelay != 0, ol);
    close(s);
    close(srv);

    int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(u2, (struct sockaddr *)&ua, sizeof ua);
    socklen_t ul = sizeof ua;
    getsockname(u2, (struct sockaddr *)&ua, &ul);
    sendto(u1, "datagram", 8, 0, (struct sockaddr *)&ua, sizeof ua);
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    n = recvfrom(u2, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    buf[n] = 0;
    printf("udp %zd %s from-loopback=%d\n", n, buf, from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int fd = open("/proc/self/cmdline", O_RDONLY);
    char dummy = 'x';
    struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space, .msg_controllen = sizeof u.space};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    printf("sendmsg=%zd\n", sendmsg(sv[0], &mh, 0));
    char got;
    struct iovec riov = {.iov_base = &got, .iov_len = 1};
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } ru;
    struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = ru.space, .msg_controllen = sizeof ru.space};
    n = recvmsg(sv[1], &rm, 0);
    int passed;
    memcpy(&passed, CMSG_DATA(CMSG_FIRSTHDR(&rm)), sizeof passed);
    char first[8] = {0};
    ssize_t r = read(passed, first, 4);
    printf("recvmsg=%zd byte=%c passed-fd-reads=%zd fd-differs=%d\n", n, got, r, passed != fd);
    return 0;
}
