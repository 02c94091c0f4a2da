/* Allocator churn: sizes from a few bytes to a few MiB, so glibc uses both
   brk (small, below M_MMAP_THRESHOLD) and mmap/munmap/mremap (large).
   Every block carries a pattern derived from its id; corruption shows up
   as a verification failure or a changed checksum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#define SLOTS 256

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static size_t pick_size(void)
{
    uint64_t r = next_rand();
    switch (r % 16) {
    case 0: return 0;
    case 1: case 2: case 3: case 4: case 5: return 1 + (r >> 8) % 64;
    case 6: case 7: case 8: return 64 + (r >> 8) % 1024;
    case 9: case 10: return 1024 + (r >> 8) % 32768;
    case 11: case 12: return 32768 + (r >> 8) % 200000;
    case 13: case 14: return 200000 + (r >> 8) % 800000; /* crosses the mmap threshold */
    default: return 1000000 + (r >> 8) % 2500000;        /* a few MiB */
    }
}

struct slot {
    unsigned char *p;
    size_t size;
    uint32_t id;
};

static struct slot slots[SLOTS];
static uint64_t checksum = 0;
static unsigned long failures = 0;

static unsigned char pattern(uint32_t id, size_t i)
{
    return (unsigned char)(id * 131u + i * 7u + (i >> 9));
}

/* Only the first 512 bytes and every 509th byte carry the id-dependent pattern.
   The stride is below the page size, so every page of a block is written and
   read back, yet fills and checks stay cheap on multi-MiB blocks, which
   matters under an emulator. The layout depends on the offset alone, so it
   survives realloc to any size. */
#define DENSE 512
#define STRIDE 509

static size_t next_stamp(size_t i) { return i < DENSE ? i + 1 : (i / STRIDE + 1) * STRIDE; }
static size_t first_stamp(size_t from) { return from <= DENSE ? from : (from + STRIDE - 1) / STRIDE * STRIDE; }

static void fill(struct slot *s, size_t from)
{
    for (size_t i = first_stamp(from); i < s->size; i = next_stamp(i))
        s->p[i] = pattern(s->id, i);
}

static void verify(const struct slot *s, size_t upto)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < upto; i = next_stamp(i)) {
        if (s->p[i] != pattern(s->id, i)) {
            if (failures < 5)
                printf("MISMATCH id=%u offset=%zu\n", s->id, i);
            failures++;
            return;
        }
        h = (h ^ s->p[i]) * 1099511628211ULL;
    }
    checksum = checksum * 31 + h + upto;
}

int main(void)
{
    uint32_t next_id = 1;
    unsigned long mallocs = 0, reallocs = 0, frees = 0, callocs = 0;
    size_t peak_bytes = 0, live_bytes = 0;

    for (int iter = 0; iter < 1500; iter++) {
        struct slot *s = &slots[next_rand() % SLOTS];
        unsigned op = (unsigned)(next_rand() % 10);
        if (s->p == NULL) {
            s->size = pick_size();
            s->id = next_id++;
            if (op < 2) {
                s->p = calloc(1, s->size ? s->size : 1);
                callocs++;
                for (size_t i = 0; i < s->size; i = next_stamp(i))
                    if (s->p[i] != 0) { failures++; break; }
            } else {
                s->p = malloc(s->size ? s->size : 1);
                mallocs++;
            }
            if (s->p == NULL) { printf("allocation failed\n"); return 1; }
            fill(s, 0);
            live_bytes += s->size;
        } else if (op < 4) {
            size_t nsize = pick_size();
            size_t keep = nsize < s->size ? nsize : s->size;
            unsigned char *np = realloc(s->p, nsize ? nsize : 1);
            if (np == NULL) { printf("realloc failed\n"); return 1; }
            reallocs++;
            s->p = np;
            live_bytes = live_bytes - s->size + nsize;
            size_t old = s->size;
            s->size = nsize;
            verify(s, keep);
            if (nsize > old)
                fill(s, old);
        } else {
            verify(s, s->size);
            free(s->p);
            frees++;
            live_bytes -= s->size;
            s->p = NULL;
            s->size = 0;
        }
        if (live_bytes > peak_bytes)
            peak_bytes = live_bytes;
    }

    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].p != NULL) {
            verify(&slots[i], slots[i].size);
            free(slots[i].p);
            frees++;
        }
    }

    /* Many tiny blocks in a linked list stress the small bins and top chunk. */
    struct node { struct node *next; uint32_t v; } *head = NULL;
    for (uint32_t i = 0; i < 20000; i++) {
        struct node *n = malloc(sizeof *n);
        if (n == NULL) { printf("allocation failed\n"); return 1; }
        n->v = i * 2654435761u;
        n->next = head;
        head = n;
    }
    uint64_t list_sum = 0;
    while (head != NULL) {
        struct node *n = head;
        head = n->next;
        list_sum += n->v;
        free(n);
    }

    printf("mallocs=%lu callocs=%lu reallocs=%lu frees=%lu\n", mallocs, callocs, reallocs, frees);
    printf("peak live bytes=%zu\n", peak_bytes);
    printf("list sum=%llu\n", (unsigned long long)list_sum);
    printf("checksum=%016llx\n", (unsigned long long)checksum);
    printf("failures=%lu\n", failures);
    return failures == 0 ? 0 : 1;
}
