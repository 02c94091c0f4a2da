/* What a same-host memory node's granted frames must survive: lines written back into the frames the node lent the
 * processor (no message) while the guest forks, unmaps and maps again (the node hands freed frames to new pages),
 * changes rights, shrinks and grows its break, and streams through memory while prefetches are in flight. Every
 * result is a checksum the native run prints too. Run under a small ExCache over memory nodes, every page leaves the
 * cache dirty many times. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL

static uint64_t sum(const unsigned char *p, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i += 8) { uint64_t w; memcpy(&w, p + i, 8); h = (h ^ w) * 1099511628211ULL; }
    return h;
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i += 8) { uint64_t w = (i * 0x9E3779B97F4A7C15ULL) ^ seed; memcpy(p + i, &w, 8); }
}

/* Several passes over the region, each page written: evicted dirty from a small cache every pass. */
static void churn(unsigned char *p, size_t n, unsigned seed, int passes) {
    for (int k = 0; k < passes; k++)
        for (size_t i = 0; i < n; i += 64) p[i] = (unsigned char)(p[i] + seed + k);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    /* 1. A write after a fork: parent and child both go on writing the same pages; each sees only its own. */
    size_t n = 1 << 20;
    unsigned char *buf = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fill(buf, n, 1);
    churn(buf, n, 3, 2); /* the pages are granted by now: written back and filled again */
    pid_t pid = fork();
    if (pid == 0) {
        churn(buf, n, 5, 3);
        fill(buf, n / 2, 7);
        churn(buf, n, 11, 2);
        printf("child %016llx\n", (unsigned long long)sum(buf, n));
        _exit(0);
    }
    churn(buf, n, 13, 3);
    fill(buf + n / 2, n / 2, 17);
    churn(buf, n, 19, 2);
    int status;
    waitpid(pid, &status, 0);
    printf("parent %016llx status %d\n", (unsigned long long)sum(buf, n), WEXITSTATUS(status));

    /* 2. Frames freed by munmap go to new pages: the old region reads zero when mapped again, the new one its own. */
    unsigned char *a = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fill(a, n, 23);
    churn(a, n, 29, 2);
    printf("a %016llx\n", (unsigned long long)sum(a, n));
    munmap(a, n);
    unsigned char *b = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("b fresh %016llx\n", (unsigned long long)sum(b, n));
    fill(b, n, 31);
    churn(b, n, 37, 2);
    unsigned char *c = mmap(a, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (c == MAP_FAILED) c = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("c fresh %016llx\n", (unsigned long long)sum(c, n));
    fill(c, n, 41);
    churn(c, n, 43, 2);
    printf("b %016llx c %016llx buf %016llx\n", (unsigned long long)sum(b, n), (unsigned long long)sum(c, n), (unsigned long long)sum(buf, n));
    /* Fixed over a live mapping: its pages are new and zero. */
    mmap(b + n / 4, n / 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("b fixed %016llx\n", (unsigned long long)sum(b, n));
    churn(b, n, 47, 2);
    printf("b again %016llx\n", (unsigned long long)sum(b, n));

    /* 3. Rights changed under granted pages, while a stream runs through them. */
    mprotect(c, n / 2, PROT_READ);
    uint64_t s1 = sum(c, n);
    mprotect(c, n / 2, PROT_READ | PROT_WRITE);
    churn(c, n, 53, 2);
    printf("c rights %016llx %016llx\n", (unsigned long long)s1, (unsigned long long)sum(c, n));
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < n; i += PAGE) {
            c[i] ^= (unsigned char)round;
            if (i == n / 2) mprotect(c + n / 4, n / 8, round & 1 ? PROT_READ : PROT_READ | PROT_WRITE);
        }
        mprotect(c + n / 4, n / 8, PROT_READ | PROT_WRITE);
        if (round == 2) { munmap(c + n - n / 8, n / 8); mmap(c + n - n / 8, n / 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0); }
    }
    printf("c stream %016llx\n", (unsigned long long)sum(c, n));

    /* 4. The break shrinks and grows again: the pages it gave back come back zero. */
    unsigned char *heap = sbrk(0);
    if (sbrk(n) != (void *)-1) {
        fill(heap, n, 59);
        churn(heap, n, 61, 2);
        printf("heap %016llx\n", (unsigned long long)sum(heap, n));
        sbrk(-(long)(n / 2));
        churn(buf, n, 67, 1); /* other pages meanwhile */
        sbrk(n / 2);
        printf("heap regrown %016llx\n", (unsigned long long)sum(heap, n));
        churn(heap, n, 71, 2);
        printf("heap again %016llx\n", (unsigned long long)sum(heap, n));
        sbrk(-(long)n);
    }
    printf("buf %016llx\n", (unsigned long long)sum(buf, n));
    return 0;
}
