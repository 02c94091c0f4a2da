/* Memory shared between processes: MAP_SHARED anonymous, file and memfd mappings seen by parent and
   child after fork, a second mapping of the same file at another address, process-shared mutexes,
   semaphores and barriers (futexes woken across processes), and atomic read-modify-writes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void check(int ok, const char *what) { if (!ok) { printf("FAILED: %s\n", what); exit(1); } }

static void reap(pid_t pid)
{
    int st;
    check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child exit status");
}

struct shared { pthread_mutex_t mutex; long counter; long atomic; sem_t ping, pong; pthread_barrier_t barrier; int rounds[2]; char text[64]; };

int main(void)
{
    /* 1. Anonymous shared memory: a counter under a process-shared mutex, and an atomic one. */
    struct shared *s = mmap(0, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    check(s != MAP_FAILED, "mmap shared anonymous");
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->mutex, &ma);
    sem_init(&s->ping, 1, 0);
    sem_init(&s->pong, 1, 0);
    pthread_barrierattr_t ba;
    pthread_barrierattr_init(&ba);
    pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
    pthread_barrier_init(&s->barrier, &ba, 2);
    const int n = 20000;
    pid_t pid = fork();
    if (pid == 0)
    {
        for (int i = 0; i < n; i++)
        {
            pthread_mutex_lock(&s->mutex);
            s->counter++;
            pthread_mutex_unlock(&s->mutex);
            __atomic_fetch_add(&s->atomic, 1, __ATOMIC_SEQ_CST);
        }
        strcpy(s->text, "written by the child");
        _exit(0);
    }
    for (int i = 0; i < n; i++)
    {
        pthread_mutex_lock(&s->mutex);
        s->counter++;
        pthread_mutex_unlock(&s->mutex);
        __atomic_fetch_add(&s->atomic, 1, __ATOMIC_SEQ_CST);
    }
    reap(pid);
    printf("mutex counter %ld, atomic counter %ld, text '%s'\n", s->counter, s->atomic, s->text);

    /* 2. Semaphores: a ping-pong of 300 rounds, each side waiting on the other (futex waits across processes). */
    pid = fork();
    if (pid == 0)
    {
        for (int i = 0; i < 300; i++) { sem_wait(&s->ping); s->rounds[1]++; sem_post(&s->pong); }
        _exit(0);
    }
    for (int i = 0; i < 300; i++) { s->rounds[0]++; sem_post(&s->ping); sem_wait(&s->pong); }
    reap(pid);
    printf("ping-pong rounds %d/%d\n", s->rounds[0], s->rounds[1]);

    /* 3. A barrier: both sides meet three times, each writes its phase before the next meeting. */
    pid = fork();
    if (pid == 0)
    {
        for (int phase = 0; phase < 3; phase++) { pthread_barrier_wait(&s->barrier); s->rounds[1] = 100 + phase; pthread_barrier_wait(&s->barrier); }
        _exit(0);
    }
    int seen = 0;
    for (int phase = 0; phase < 3; phase++) { pthread_barrier_wait(&s->barrier); pthread_barrier_wait(&s->barrier); seen += s->rounds[1]; }
    reap(pid);
    printf("barrier phases seen: %d\n", seen);

    /* 4. A file mapped shared: the child writes through its inherited mapping and through a mapping of
       its own at another address; the parent reads both through its mapping and then from the file. */
    char path[] = "/tmp/legoemu-shm-XXXXXX";
    int fd = mkstemp(path);
    check(fd >= 0 && ftruncate(fd, 3 * 4096) == 0, "file");
    check(pwrite(fd, "from the file", 13, 4096) == 13, "pwrite");
    char *f = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check(f != MAP_FAILED, "mmap file");
    printf("file page 1 before: '%s'\n", f + 4096);
    pid = fork();
    if (pid == 0)
    {
        strcpy(f, "child, inherited mapping");
        int fd2 = open(path, O_RDWR);
        char *g = mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 4096);
        check(g != MAP_FAILED && g != f + 4096, "second mapping");
        strcpy(g + 4096, "child, own mapping");
        check(strcmp(g, "from the file") == 0, "own mapping sees the file");
        munmap(g, 2 * 4096);
        _exit(0);
    }
    reap(pid);
    printf("file page 0: '%s', page 2: '%s'\n", f, f + 2 * 4096);
    strcpy(f + 100, "parent");
    check(msync(f, 3 * 4096, MS_SYNC) == 0, "msync");
    char buf[32] = {0};
    check(pread(fd, buf, 24, 0) == 24, "pread");
    printf("file bytes after msync: '%s' / ", buf);
    memset(buf, 0, sizeof buf);
    pread(fd, buf, 18, 2 * 4096);
    printf("'%s'\n", buf);
    munmap(f, 3 * 4096);
    close(fd);
    unlink(path);

    /* 5. memfd_create: the same memory mapped twice in one process, then shared with a child. */
    int mfd = memfd_create("legoemu-test", 0);
    check(mfd >= 0 && ftruncate(mfd, 4096) == 0, "memfd");
    char *a = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    char *b = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    check(a != MAP_FAILED && b != MAP_FAILED && a != b, "memfd mappings");
    strcpy(a, "one write, two views");
    printf("memfd second view: '%s'\n", b);
    pid = fork();
    if (pid == 0) { strcpy(b + 64, "child via memfd"); _exit(0); }
    reap(pid);
    printf("memfd after child: '%s'\n", a + 64);

    /* 6. Shared memory survives mremap: a moved mapping and a second view (old size 0) still show the
       object the child writes to. */
    char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *spot = mmap(0, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(m, "before mremap");
    char *moved = mremap(m, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, spot);
    check(moved == spot, "mremap");
    char *view = mremap(moved, 0, 8192, MREMAP_MAYMOVE);
    check(view != MAP_FAILED && view != moved, "mremap second view");
    pid = fork();
    if (pid == 0) { strcpy(moved + 4096, "second page from the child"); _exit(0); }
    reap(pid);
    printf("mremap: '%s' '%s'\n", view, view + 4096);

    /* 7. A private mapping stays private across fork. */
    int *priv = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *priv = 1;
    pid = fork();
    if (pid == 0) { *priv = 2; _exit(0); }
    reap(pid);
    printf("private after fork: %d\n", *priv);
    return 0;
}
