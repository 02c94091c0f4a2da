/* /proc/self/status and /proc/thread-self/status describe the guest: its name, threads, signal sets, CPUs, size. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int field(const char *path, const char *key, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[512];
    size_t k = strlen(key);
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, k) || line[k] != ':') continue;
        char *v = line + k + 1;
        while (*v == ' ' || *v == '\t') v++;
        v[strcspn(v, "\n")] = 0;
        snprintf(out, n, "%s", v);
        found = 1;
        break;
    }
    fclose(f);
    return found;
}

static unsigned long long hexfield(const char *path, const char *key)
{
    char v[128];
    return field(path, key, v, sizeof v) ? strtoull(v, 0, 16) : ~0ULL;
}

static long numfield(const char *path, const char *key)
{
    char v[128];
    return field(path, key, v, sizeof v) ? atol(v) : -1;
}

#define BIT(s) (1ULL << ((s) - 1))
static const unsigned long long Watched = BIT(SIGHUP) | BIT(SIGINT) | BIT(SIGUSR1) | BIT(SIGUSR2) | BIT(SIGPIPE) | BIT(SIGTERM);

static pthread_barrier_t bar;

static void *worker(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&bar);
    static int once;
    if (__sync_fetch_and_add(&once, 1) == 0) {
        printf("thread Pid is its tid: %s\n", numfield("/proc/thread-self/status", "Pid") == syscall(SYS_gettid) ? "yes" : "no");
        printf("thread Tgid is the pid: %s\n", numfield("/proc/thread-self/status", "Tgid") == getpid() ? "yes" : "no");
        printf("thread SigBlk (inherited): %016llx\n", hexfield("/proc/thread-self/status", "SigBlk") & Watched);
        fflush(stdout);
    }
    pthread_barrier_wait(&bar);
    pthread_barrier_wait(&bar);
    return 0;
}

static void on_signal(int s) { (void)s; }

int main(void)
{
    char v[256];
    const char *st = "/proc/self/status";
    field(st, "Name", v, sizeof v);
    printf("Name: %s\n", v);
    prctl(PR_SET_NAME, "renamed-guest");
    field(st, "Name", v, sizeof v);
    printf("Name after PR_SET_NAME: %s\n", v);
    printf("Threads: %ld\n", numfield(st, "Threads"));
    printf("Pid is getpid: %s\n", numfield(st, "Pid") == getpid() ? "yes" : "no");
    printf("Tgid is getpid: %s\n", numfield(st, "Tgid") == getpid() ? "yes" : "no");
    printf("PPid is getppid: %s\n", numfield(st, "PPid") == getppid() ? "yes" : "no");

    signal(SIGUSR1, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGUSR2, SIG_DFL);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, 0);
    sigaction(SIGHUP, &sa, 0);
    sigaction(SIGINT, &sa, 0);
    printf("SigIgn: %016llx\n", hexfield(st, "SigIgn") & Watched);
    printf("SigCgt: %016llx\n", hexfield(st, "SigCgt") & Watched);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, 0);
    printf("SigBlk: %016llx\n", hexfield(st, "SigBlk"));
    kill(getpid(), SIGUSR2);  /* to the process: shared pending */
    raise(SIGINT);            /* to this thread: its own pending */
    printf("ShdPnd: %016llx\n", hexfield(st, "ShdPnd") & Watched);
    printf("SigPnd: %016llx\n", hexfield("/proc/thread-self/status", "SigPnd") & Watched);

    pthread_barrier_init(&bar, 0, 3);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], 0, worker, 0);
    pthread_barrier_wait(&bar);
    pthread_barrier_wait(&bar);
    printf("Threads with two more: %ld\n", numfield(st, "Threads"));
    pthread_barrier_wait(&bar);
    for (int i = 0; i < 2; i++) pthread_join(t[i], 0);

    cpu_set_t cpus;
    sched_getaffinity(0, sizeof cpus, &cpus);
    field(st, "Cpus_allowed_list", v, sizeof v);
    int first = -1, last = -1;
    int listed = sscanf(v, "%d-%d", &first, &last) == 2 ? last - first + 1 : sscanf(v, "%d", &first) == 1 ? 1 : -1;
    printf("Cpus_allowed_list agrees with sched_getaffinity: %s\n", listed == CPU_COUNT(&cpus) ? "yes" : "no");

    /* VmSize is the sum of the mappings (the vsyscall page is not one of the process's). */
    FILE *m = fopen("/proc/self/maps", "r");
    unsigned long long total = 0, a, b;
    char line[512];
    while (m && fgets(line, sizeof line, m))
        if (!strstr(line, "[vsyscall]") && sscanf(line, "%llx-%llx", &a, &b) == 2) total += b - a;
    if (m) fclose(m);
    long vmsize = numfield(st, "VmSize");
    printf("VmSize is the mappings' sum: %s\n", vmsize >= 0 && (unsigned long long)vmsize == total / 1024 ? "yes" : "no");
    printf("VmPeak at least VmSize: %s\n", numfield(st, "VmPeak") >= numfield(st, "VmSize") ? "yes" : "no");
    return 0;
}
