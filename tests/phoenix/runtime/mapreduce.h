/* A small Phoenix-style MapReduce runtime for shared memory (pthreads).
 *
 * Phases: split (the input is cut into record-aligned splits), map (worker threads take splits
 * from a shared counter and emit key/value pairs into per-thread, per-partition hash tables,
 * combining values of equal keys on the spot), reduce (one task per partition folds every
 * thread's table for that partition, in thread order, and finalizes each value), merge (the
 * sorted partitions are merged pairwise, in parallel rounds, into one sorted array).
 *
 * Output is deterministic whatever the scheduling: combiners are integer sums, minima or
 * list appends sorted afterwards, and the final order is a total order on the keys.
 * MR_NUMTHREADS sets the number of worker threads (default 4). --sequential on an app's
 * command line runs the same map/reduce functions with no threads and one split. */
#ifndef MAPREDUCE_H
#define MAPREDUCE_H

#include <stddef.h>
#include <stdint.h>

/* One key/value pair. Keys are byte strings; values are app-defined blobs of val_size bytes. */
typedef struct mr_pair {
    const void *key;
    uint32_t klen;
    void *val;
} mr_pair;

typedef struct mr_ctx mr_ctx;

/* What an application plugs into the runtime. */
typedef struct mr_app {
    size_t val_size;
    /* Folds val into acc; acc starts zero-filled. Must be associative and commutative. */
    void (*combine)(void *acc, const void *val);
    /* Optional: turns a fully combined value into its final form. */
    void (*reduce)(mr_pair *p);
    /* Output order; ties are broken by the key bytes, so the order is total. NULL: key bytes. */
    int (*cmp)(const mr_pair *a, const mr_pair *b);
    /* Emits pairs for the records in data[0..len). */
    void (*map)(mr_ctx *ctx, const void *data, size_t len);
    /* Optional: where the split starting at off should end when it wants about `want` bytes
     * (text apps move the end to a word boundary). */
    size_t (*split_end)(const char *input, size_t len, size_t off, size_t want);
    size_t unit;       /* record size: splits are multiples of it (0: 1 byte) */
    size_t split_size; /* target bytes per split (0: 64 KiB) */
} mr_app;

/* The sorted output of one run. */
typedef struct mr_result {
    mr_pair *pairs;
    size_t n;
    void *priv; /* the run's arenas, which hold the keys and values */
} mr_result;

/* Removes runtime options (--sequential) from argv; call first in main. */
void mr_init(int *argc, char **argv);
/* Nonzero when --sequential was given. */
int mr_is_sequential(void);
/* Worker threads: MR_NUMTHREADS, else 4. */
int mr_threads(void);
/* Runs all phases over input[0..len). */
void mr_run(const mr_app *app, const void *input, size_t len, mr_result *out);
/* Adds a pair to the calling map task's intermediate buffer. */
void mr_emit(mr_ctx *ctx, const void *key, size_t klen, const void *val);
/* Releases the result (values and keys stay owned by the runtime's arenas until then). */
void mr_free(mr_result *r);

/* Helpers shared by the apps. */
void *mr_xmalloc(size_t n);
void *mr_read_file(const char *path, size_t *len);
uint64_t mr_hash(const void *data, size_t len);
/* split_end for text: moves the end past the current word, so no word straddles two splits. */
size_t mr_text_split_end(const char *input, size_t len, size_t off, size_t want);
/* Continues an FNV-1a digest (start with MR_DIGEST_INIT): apps print one over their full result. */
#define MR_DIGEST_INIT 1469598103934665603ull
uint64_t mr_digest(uint64_t h, const void *data, size_t len);

/* Integer keys as big-endian bytes, so the default byte order of keys is numeric order. */
static inline void mr_put_be32(unsigned char *k, uint32_t v)
{
    k[0] = (unsigned char)(v >> 24);
    k[1] = (unsigned char)(v >> 16);
    k[2] = (unsigned char)(v >> 8);
    k[3] = (unsigned char)v;
}
static inline uint32_t mr_get_be32(const void *key)
{
    const unsigned char *k = key;
    return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
}

#endif
