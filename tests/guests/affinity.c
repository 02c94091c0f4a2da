/* sched_setaffinity is kept per thread: sched_getaffinity, getcpu and /proc/thread-self/status agree with it, and
   new threads and forked children inherit it. Prints only what holds on any number of CPUs. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int first_cpu(const cpu_set_t *s)
{
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, s)) return c;
    return -1;
}

/* Cpus_allowed_list of /proc/thread-self/status parsed back into a set ("0", "0-1", "0,2-3"). */
static void status_cpus(cpu_set_t *s)
{
    CPU_ZERO(s);
    FILE *f = fopen("/proc/thread-self/status", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "Cpus_allowed_list:", 18)) continue;
        char *p = line + 18;
        while (*p) {
            while (*p == ' ' || *p == '\t' || *p == ',') p++;
            if (*p < '0' || *p > '9') break;
            long a = strtol(p, &p, 10), b = a;
            if (*p == '-') b = strtol(p + 1, &p, 10);
            for (long c = a; c <= b; c++) CPU_SET(c, s);
        }
    }
    if (f) fclose(f);
}

static void report(const char *who, int cpu)
{
    cpu_set_t s, st;
    sched_getaffinity(0, sizeof s, &s);
    status_cpus(&st);
    printf("%s: only its CPU allowed %s, getcpu on it %s, status agrees %s\n", who,
           CPU_COUNT(&s) == 1 && CPU_ISSET(cpu, &s) ? "yes" : "no", sched_getcpu() == cpu ? "yes" : "no",
           CPU_EQUAL(&s, &st) ? "yes" : "no");
    fflush(stdout);
}

static int bound;

static void *thread_main(void *arg)
{
    (void)arg;
    report("new thread", bound);
    return 0;
}

int main(void)
{
    cpu_set_t all, one, none;
    sched_getaffinity(0, sizeof all, &all);
    int count = CPU_COUNT(&all);
    cpu_set_t st;
    status_cpus(&st);
    printf("at start: status agrees %s, getcpu allowed %s\n", CPU_EQUAL(&all, &st) ? "yes" : "no",
           CPU_ISSET(sched_getcpu(), &all) ? "yes" : "no");

    CPU_ZERO(&none);
    CPU_SET(CPU_SETSIZE - 1, &none);
    errno = 0;
    printf("a mask of no existing CPU: %s\n", sched_setaffinity(0, sizeof none, &none) == -1 && errno == EINVAL ? "EINVAL" : "accepted");

    bound = first_cpu(&all);
    CPU_ZERO(&one);
    CPU_SET(bound, &one);
    printf("bind to the first CPU: %s\n", sched_setaffinity(0, sizeof one, &one) == 0 ? "ok" : "failed");
    report("main", bound);

    pthread_t t;
    pthread_create(&t, 0, thread_main, 0);
    pthread_join(t, 0);

    pid_t pid = fork();
    if (pid == 0) {
        report("forked child", bound);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);

    printf("unbind: %s\n", sched_setaffinity(0, sizeof all, &all) == 0 ? "ok" : "failed");
    cpu_set_t again;
    sched_getaffinity(0, sizeof again, &again);
    printf("all CPUs again: %s\n", CPU_COUNT(&again) == count && CPU_EQUAL(&again, &all) ? "yes" : "no");
    return 0;
}
