/* Thread names and /proc/self/task: per-thread comm, status and stat, the task listing, renaming another thread
   through its comm (pthread_setname_np), and a fork named after the thread that made it. Prints only what holds
   whatever the thread ids are. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t tids[3];
static pthread_barrier_t named, checked;

static void slurp(const char *path, char *out, size_t n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) { snprintf(out, n, "<%s>", strerror(errno)); return; }
    ssize_t r = read(fd, out, n - 1);
    out[r < 0 ? 0 : r] = 0;
    close(fd);
}

static void field(const char *path, const char *key, char *out, size_t n)
{
    char buf[4096];
    slurp(path, buf, sizeof buf);
    snprintf(out, n, "<none>");
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : 0) {
        size_t k = strlen(key);
        if (strncmp(line, key, k) || line[k] != ':') continue;
        char *v = line + k + 1;
        while (*v == ' ' || *v == '\t') v++;
        size_t len = strcspn(v, "\n");
        snprintf(out, n, "%.*s", (int)len, v);
        return;
    }
}

static void show(const char *who, const char *path)
{
    char v[64];
    slurp(path, v, sizeof v);
    v[strcspn(v, "\n")] = 0;
    printf("%s: %s = \"%s\"\n", who, path, v);
}

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    tids[i] = (pid_t)syscall(SYS_gettid);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, i == 1 ? SIGUSR2 : SIGHUP);
    pthread_sigmask(SIG_BLOCK, &s, 0);
    if (i == 1) pthread_setname_np(pthread_self(), "worker-one");
    pthread_barrier_wait(&named);
    pthread_barrier_wait(&checked);
    if (i == 1) {
        char name[32], path[64], v[64];
        prctl(PR_GET_NAME, name);
        printf("worker 1: prctl name \"%s\"\n", name);
        show("worker 1", "/proc/thread-self/comm");
        show("worker 1", "/proc/self/comm");
        /* /proc/self/status is the leader's: its name and mask; thread-self's is this thread's */
        field("/proc/self/status", "Name", v, sizeof v);
        printf("worker 1: process Name %s\n", v);
        field("/proc/self/status", "SigBlk", v, sizeof v);
        printf("worker 1: process SigBlk %s\n", v);
        field("/proc/thread-self/status", "Name", v, sizeof v);
        printf("worker 1: own Name %s\n", v);
        field("/proc/thread-self/status", "SigBlk", v, sizeof v);
        printf("worker 1: own SigBlk %s\n", v);
        field("/proc/thread-self/status", "Pid", v, sizeof v);
        printf("worker 1: own Pid is its tid: %s\n", atoi(v) == tids[1] ? "yes" : "no");
        snprintf(path, sizeof path, "/proc/self/task/%d/stat", tids[1]);
        slurp(path, v, sizeof v);
        char expect[64];
        snprintf(expect, sizeof expect, "%d (worker-one) ", tids[1]);
        printf("worker 1: task stat starts with tid and name: %s\n", strncmp(v, expect, strlen(expect)) == 0 ? "yes" : "no");
        /* a fork is named after the thread that made it */
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            show("child of worker 1", "/proc/self/comm");
            prctl(PR_GET_NAME, name);
            printf("child of worker 1: prctl name \"%s\"\n", name);
            fflush(stdout);
            _exit(0);
        }
        int st;
        waitpid(c, &st, 0);
        /* writing the process's comm from a thread renames the leader */
        int fd = open("/proc/self/comm", O_WRONLY);
        printf("worker 1: write /proc/self/comm: %zd\n", fd < 0 ? (ssize_t)-errno : write(fd, "renamed", 7));
        if (fd >= 0) close(fd);
        show("worker 1", "/proc/self/comm");
        show("worker 1", "/proc/thread-self/comm");
    }
    return 0;
}

int main(void)
{
    char path[96], v[96];
    tids[0] = (pid_t)syscall(SYS_gettid);
    prctl(PR_SET_NAME, "leader");
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, 0);
    pthread_barrier_init(&named, 0, 3);
    pthread_barrier_init(&checked, 0, 3);
    pthread_t t[3];
    for (long i = 1; i <= 2; i++) pthread_create(&t[i], 0, worker, (void *)i);
    pthread_barrier_wait(&named);

    /* the task directory lists exactly the three threads */
    DIR *d = opendir("/proc/self/task");
    int entries = 0, known = 0, dots = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') { dots++; continue; }
        entries++;
        for (int i = 0; i < 3; i++) known += atoi(e->d_name) == tids[i];
        if (e->d_type != DT_DIR) printf("task entry %s is not a directory\n", e->d_name);
    }
    if (d) closedir(d);
    printf("task entries %d, of them threads of this process %d, dots %d\n", entries, known, dots);

    /* each thread's comm, by path and by pthread_getname_np */
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/proc/self/task/%d/comm", tids[i]);
        slurp(path, v, sizeof v);
        v[strcspn(v, "\n")] = 0;
        printf("thread %d comm \"%s\"\n", i, v);
    }
    char name[32];
    pthread_getname_np(t[1], name, sizeof name);
    printf("getname worker 1: \"%s\"\n", name);
    /* renaming another thread writes its comm */
    printf("setname worker 2: %d\n", pthread_setname_np(t[2], "second"));
    pthread_getname_np(t[2], name, sizeof name);
    printf("getname worker 2: \"%s\"\n", name);
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tids[2]);
    field(path, "Name", v, sizeof v);
    printf("worker 2 status Name %s\n", v);
    field(path, "SigBlk", v, sizeof v);
    printf("worker 2 status SigBlk %s\n", v);
    /* a name longer than 15 bytes is cut; the whole count is written */
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", tids[2]);
    int fd = open(path, O_RDWR);
    printf("write long name: %zd\n", fd < 0 ? (ssize_t)-errno : write(fd, "a-very-long-thread-name", 23));
    if (fd >= 0) close(fd);
    slurp(path, v, sizeof v);
    v[strcspn(v, "\n")] = 0;
    printf("worker 2 comm \"%s\"\n", v);
    /* through the task directory's descriptor */
    int dir = open("/proc/self/task", O_RDONLY | O_DIRECTORY);
    snprintf(path, sizeof path, "%d/comm", tids[1]);
    fd = openat(dir, path, O_RDONLY);
    ssize_t r = fd < 0 ? -errno : read(fd, v, sizeof v - 1);
    if (r >= 0) v[r] = 0; else v[0] = 0;
    v[strcspn(v, "\n")] = 0;
    printf("openat(task dir, TID/comm): \"%s\"\n", v);
    if (fd >= 0) close(fd);
    close(dir);
    /* a thread directory exists; a number that is no thread of this process names nothing */
    struct stat st;
    snprintf(path, sizeof path, "/proc/self/task/%d", tids[2]);
    printf("stat thread dir: %d\n", stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    snprintf(path, sizeof path, "/proc/self/task/%d/fd/1", tids[2]);
    printf("stat thread's fd/1: %d\n", stat(path, &st) == 0);
    printf("open no such thread: %s\n", open("/proc/self/task/999999999/comm", O_RDONLY) < 0 ? strerror(errno) : "opened");
    fflush(stdout);

    pthread_barrier_wait(&checked);
    for (int i = 1; i <= 2; i++) pthread_join(t[i], 0);
    show("main", "/proc/self/comm");
    prctl(PR_GET_NAME, name);
    printf("main: prctl name \"%s\"\n", name);

    /* another process's name as ps, pgrep and pidof read it: its comm, stat and status */
    int down[2], up[2];
    if (pipe(down) || pipe(up)) return 1;
    pid_t kid = fork();
    if (kid == 0) {
        char b;
        if (write(up[1], "1", 1) != 1 || read(down[0], &b, 1) != 1) _exit(1);
        prctl(PR_SET_NAME, "kid-name");
        if (write(up[1], "2", 1) != 1 || read(down[0], &b, 1) != 1) _exit(1);
        _exit(0);
    }
    for (int round = 0; round < 2; round++) {
        char b;
        if (read(up[0], &b, 1) != 1) return 1;
        snprintf(path, sizeof path, "/proc/%d/comm", kid);
        slurp(path, v, sizeof v);
        v[strcspn(v, "\n")] = 0;
        printf("child's comm, %s: \"%s\"\n", round ? "renamed" : "as forked", v);
        snprintf(path, sizeof path, "/proc/%d/stat", kid);
        slurp(path, v, sizeof v);
        char *open_paren = strchr(v, '('), *close_paren = strrchr(v, ')');
        printf("child's stat name: %.*s\n", open_paren && close_paren ? (int)(close_paren - open_paren + 1) : 0, open_paren ? open_paren : "");
        snprintf(path, sizeof path, "/proc/%d/status", kid);
        field(path, "Name", v, sizeof v);
        printf("child's status Name: %s\n", v);
        if (write(down[1], "go", 1) != 1) return 1;
    }
    int status;
    waitpid(kid, &status, 0);
    printf("child exited %d\n", WEXITSTATUS(status));
    return 0;
}
