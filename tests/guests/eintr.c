/* Signals that arrive while a call blocks: EINTR, or a restart under SA_RESTART, by Linux's rules
   (read/write/wait4/accept/futex restart; nanosleep, poll, select, epoll_wait, pause, sigsuspend never
   do). Also: a thread blocked reading a pipe must not stall the thread that writes to it, and a large
   write to a pipe completes while another thread drains it. Only outcomes are printed, never times. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
    (void)sig;
    handled++;
}

static void install(int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
}

/* One SIGALRM after ms milliseconds. */
static void arm(int ms)
{
    struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void report(const char *what, long r)
{
    printf("%-28s r=%ld errno=%s handled=%d\n", what, r, r < 0 ? strerrorname_np(errno) : "-", handled);
    handled = 0;
}

static int pipe_w;

static void *late_writer(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (write(pipe_w, "hello", 5) != 5) abort();
    return NULL;
}

static void *drain(void *arg)
{
    int fd = *(int *)arg;
    static char buf[65536];
    long total = 0, n;
    while ((n = read(fd, buf, sizeof buf)) > 0) total += n;
    return (void *)total;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    int p[2];
    char buf[64];
    if (pipe(p) != 0) return 1;

    install(0);
    arm(50);
    report("read, no SA_RESTART", read(p[0], buf, sizeof buf));

    /* Under SA_RESTART the read goes on after the handler and returns what another thread writes later. */
    install(1);
    pipe_w = p[1];
    pthread_t th;
    pthread_create(&th, NULL, late_writer, NULL);
    arm(50);
    report("read, SA_RESTART", read(p[0], buf, sizeof buf));
    pthread_join(th, NULL);

    arm(50);
    struct timespec req = {5, 0}, rem = {0, 0};
    long r = nanosleep(&req, &rem);
    printf("nanosleep, SA_RESTART       r=%ld errno=%s handled=%d rem_in_range=%d\n", r, strerrorname_np(errno), handled,
           rem.tv_sec >= 3 && rem.tv_sec < 5);
    handled = 0;

    struct pollfd pfd = {p[0], POLLIN, 0};
    arm(50);
    report("poll, SA_RESTART", poll(&pfd, 1, 5000));

    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval tv = {5, 0};
    arm(50);
    report("select, SA_RESTART", select(p[0] + 1, &rs, NULL, NULL, &tv));

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    arm(50);
    report("epoll_wait, SA_RESTART", epoll_wait(ep, &ev, 1, 5000));

    arm(50);
    report("pause", pause());

    sigset_t block, old, none;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, &old);
    sigemptyset(&none);
    arm(50);
    r = sigsuspend(&none);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("sigsuspend                   r=%ld errno=%s handled=%d mask_back=%d\n", r, strerrorname_np(errno), handled,
           sigismember(&now, SIGALRM));
    handled = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* ppoll, pselect and epoll_pwait with a temporary mask that lets a blocked SIGALRM in: it
       interrupts them, and the caller's mask (SIGALRM blocked) is back afterwards. */
    sigprocmask(SIG_BLOCK, &block, &old);
    arm(50);
    struct timespec five = {5, 0};
    r = ppoll(&pfd, 1, &five, &none);
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("ppoll, temporary mask        r=%ld errno=%s handled=%d blocked_again=%d\n", r, strerrorname_np(errno), handled, sigismember(&now, SIGALRM));
    handled = 0;
    arm(50);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    r = pselect(p[0] + 1, &rs, NULL, NULL, &five, &none);
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("pselect, temporary mask      r=%ld errno=%s handled=%d blocked_again=%d\n", r, strerrorname_np(errno), handled, sigismember(&now, SIGALRM));
    handled = 0;
    arm(50);
    r = epoll_pwait(ep, &ev, 1, 5000, &none);
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("epoll_pwait, temporary mask  r=%ld errno=%s handled=%d blocked_again=%d\n", r, strerrorname_np(errno), handled, sigismember(&now, SIGALRM));
    handled = 0;
    /* A blocked signal does not interrupt a plain poll: it times out and the signal stays pending. */
    arm(20);
    r = poll(&pfd, 1, 200);
    sigset_t waiting;
    sigpending(&waiting);
    printf("poll, SIGALRM blocked        r=%ld handled=%d pending=%d\n", r, handled, sigismember(&waiting, SIGALRM));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked                    handled=%d\n", handled);
    handled = 0;

    /* wait4 restarts under SA_RESTART and returns the child; without it, EINTR first. */
    pid_t child = fork();
    if (child == 0)
    {
        struct timespec ts = {0, 400 * 1000 * 1000};
        nanosleep(&ts, NULL);
        _exit(7);
    }
    arm(50);
    int status = 0;
    pid_t got = waitpid(child, &status, 0);
    printf("waitpid, SA_RESTART          same=%d exited=%d code=%d handled=%d\n", got == child, WIFEXITED(status), WEXITSTATUS(status), handled);
    handled = 0;

    install(0);
    child = fork();
    if (child == 0)
    {
        struct timespec ts = {0, 400 * 1000 * 1000};
        nanosleep(&ts, NULL);
        _exit(9);
    }
    arm(50);
    report("waitpid, no SA_RESTART", waitpid(child, &status, 0));
    got = waitpid(child, &status, 0);
    printf("waitpid again                same=%d code=%d\n", got == child, WEXITSTATUS(status));

    /* A signal sent by another process (a child) interrupts a read the parent is blocked in. */
    struct sigaction usr;
    memset(&usr, 0, sizeof usr);
    usr.sa_handler = on_alarm;
    sigaction(SIGUSR1, &usr, NULL);
    child = fork();
    if (child == 0)
    {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    report("read, SIGUSR1 from a child", read(p[0], buf, sizeof buf));
    waitpid(child, NULL, 0);

    /* A socket receive and accept, interrupted. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    arm(50);
    report("recv, no SA_RESTART", recv(sv[0], buf, sizeof buf, 0));
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr sa = {.sa_family = AF_UNIX};
    bind(ls, &sa, sizeof(sa_family_t)); /* autobind to an abstract address */
    listen(ls, 1);
    arm(50);
    report("accept, no SA_RESTART", accept(ls, NULL, NULL));

    /* sem_wait (a futex wait) without SA_RESTART fails with EINTR. */
    sem_t sem;
    sem_init(&sem, 0, 0);
    arm(50);
    report("sem_wait, no SA_RESTART", sem_wait(&sem));

    /* Ignored signals do not interrupt anything. */
    signal(SIGALRM, SIG_IGN);
    arm(50);
    struct timespec shortnap = {0, 200 * 1000 * 1000};
    report("nanosleep, SIGALRM ignored", nanosleep(&shortnap, NULL));

    /* A 4 MiB write into a pipe completes while another thread drains it. */
    int q[2];
    pipe(q);
    pthread_create(&th, NULL, drain, &q[0]);
    size_t big = 4 << 20;
    char *data = calloc(big, 1);
    long w = write(q[1], data, big);
    close(q[1]);
    void *total;
    pthread_join(th, &total);
    printf("big pipe write               wrote=%ld drained=%ld\n", w, (long)total);
    return 0;
}
