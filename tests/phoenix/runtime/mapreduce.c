/* The MapReduce runtime: see mapreduce.h for the phases and the determinism argument. */
#define _GNU_SOURCE
#include "mapreduce.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sequential_mode;

void *mr_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "mapreduce: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

uint64_t mr_digest(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* FNV-1a: simple, and the partition a key lands in does not affect the output anyway. */
uint64_t mr_hash(const void *data, size_t len) { return mr_digest(MR_DIGEST_INIT, data, len); }

void *mr_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = mr_xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            if (!buf) {
                fprintf(stderr, "mapreduce: out of memory reading %s\n", path);
                exit(2);
            }
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    buf[n] = 0; /* text apps may rely on a terminator */
    *len = n;
    return buf;
}

size_t mr_text_split_end(const char *input, size_t len, size_t off, size_t want)
{
    size_t end = off + want;
    while (end < len && ((input[end] | 0x20) >= 'a' && (input[end] | 0x20) <= 'z')) end++;
    return end;
}

void mr_init(int *argc, char **argv)
{
    int j = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--sequential") == 0)
            sequential_mode = 1;
        else
            argv[j++] = argv[i];
    }
    argv[j] = NULL;
    *argc = j;
}

int mr_is_sequential(void) { return sequential_mode; }

int mr_threads(void)
{
    if (sequential_mode) return 1;
    const char *s = getenv("MR_NUMTHREADS");
    int n = s ? atoi(s) : 4;
    return n < 1 ? 1 : n > 256 ? 256 : n;
}

/* ---- arenas: bump allocation of keys and values, freed all at once ---- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
} chunk;

typedef struct arena {
    chunk *head;
} arena;

static void *arena_alloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->used + n > a->head->cap) {
        size_t cap = n > (1 << 20) ? n : (1 << 20);
        chunk *c = mr_xmalloc(sizeof(chunk) + cap);
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static void arena_free(arena *a)
{
    for (chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
}

/* ---- hash table of combined pairs (open addressing, linear probing) ---- */

typedef struct entry {
    uint64_t hash;
    mr_pair pair; /* key == NULL: empty slot */
} entry;

typedef struct table {
    entry *slots;
    size_t cap, count;
} table;

static void table_init(table *t, size_t cap)
{
    t->cap = cap;
    t->count = 0;
    t->slots = calloc(cap, sizeof(entry));
    if (!t->slots) {
        fprintf(stderr, "mapreduce: out of memory\n");
        exit(2);
    }
}

static void table_grow(table *t)
{
    table bigger;
    table_init(&bigger, t->cap * 2);
    for (size_t i = 0; i < t->cap; i++) {
        entry *e = &t->slots[i];
        if (!e->pair.key) continue;
        size_t j = e->hash & (bigger.cap - 1);
        while (bigger.slots[j].pair.key) j = (j + 1) & (bigger.cap - 1);
        bigger.slots[j] = *e;
    }
    bigger.count = t->count;
    free(t->slots);
    *t = bigger;
}

/* The value slot for key, created zero-filled (key copied into the arena) when absent. */
static void *table_slot(table *t, arena *a, const mr_app *app, const void *key, size_t klen, uint64_t h)
{
    if ((t->count + 1) * 4 > t->cap * 3) table_grow(t);
    size_t j = h & (t->cap - 1);
    for (;;) {
        entry *e = &t->slots[j];
        if (!e->pair.key) break;
        if (e->hash == h && e->pair.klen == klen && memcmp(e->pair.key, key, klen) == 0) return e->pair.val;
        j = (j + 1) & (t->cap - 1);
    }
    entry *e = &t->slots[j];
    char *k = arena_alloc(a, klen + 1);
    memcpy(k, key, klen);
    k[klen] = 0; /* string keys can be printed directly */
    void *v = arena_alloc(a, app->val_size);
    memset(v, 0, app->val_size);
    e->hash = h;
    e->pair.key = k;
    e->pair.klen = (uint32_t)klen;
    e->pair.val = v;
    t->count++;
    return v;
}

/* ---- the run ---- */

struct mr_ctx {
    const mr_app *app;
    int nparts;
    table *parts; /* this map thread's intermediate buffer: one table per reduce partition */
    arena mem;
};

typedef struct split {
    size_t off, len;
} split;

typedef struct run {
    const mr_app *app;
    const char *input;
    int nthreads, nparts;
    split *splits;
    size_t nsplits;
    mr_ctx *ctxs;       /* one per map thread */
    table *reduced;     /* one per partition */
    arena *reduce_mem;  /* one per partition */
    mr_pair **sorted;   /* per partition, then per merge run */
    size_t *sorted_n;
    unsigned long next_task; /* shared task counter of the current phase */
} run;

void mr_emit(mr_ctx *ctx, const void *key, size_t klen, const void *val)
{
    uint64_t h = mr_hash(key, klen);
    table *t = &ctx->parts[ctx->nparts == 1 ? 0 : (h >> 32) % (uint64_t)ctx->nparts];
    void *acc = table_slot(t, &ctx->mem, ctx->app, key, klen, h);
    ctx->app->combine(acc, val);
}

static int pair_cmp(const mr_app *app, const mr_pair *a, const mr_pair *b)
{
    if (app->cmp) {
        int c = app->cmp(a, b);
        if (c) return c;
    }
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->key, b->key, n);
    if (c) return c;
    return a->klen < b->klen ? -1 : a->klen > b->klen;
}

static int qsort_cmp(const void *a, const void *b, void *app) { return pair_cmp(app, a, b); }

static unsigned long take_task(run *r) { return __atomic_fetch_add(&r->next_task, 1, __ATOMIC_RELAXED); }

typedef struct worker_arg {
    run *r;
    int id;
} worker_arg;

static void *map_thread(void *arg)
{
    worker_arg *w = arg;
    run *r = w->r;
    mr_ctx *ctx = &r->ctxs[w->id];
    for (;;) {
        unsigned long i = take_task(r);
        if (i >= r->nsplits) break;
        r->app->map(ctx, r->input + r->splits[i].off, r->splits[i].len);
    }
    return NULL;
}

static void reduce_partition(run *r, int p)
{
    const mr_app *app = r->app;
    table *out = &r->reduced[p];
    size_t total = 0;
    for (int t = 0; t < r->nthreads; t++) total += r->ctxs[t].parts[p].count;
    size_t cap = 16;
    while (cap * 3 < total * 4 + 4) cap *= 2;
    table_init(out, cap);
    /* Thread order, then slot order: fixed for a given set of tables; the combiners make the
     * order irrelevant to the result anyway. */
    for (int t = 0; t < r->nthreads; t++) {
        table *in = &r->ctxs[t].parts[p];
        for (size_t j = 0; j < in->cap; j++) {
            entry *e = &in->slots[j];
            if (!e->pair.key) continue;
            void *acc = table_slot(out, &r->reduce_mem[p], app, e->pair.key, e->pair.klen, e->hash);
            app->combine(acc, e->pair.val);
        }
    }
    mr_pair *pairs = mr_xmalloc(out->count * sizeof(mr_pair));
    size_t n = 0;
    for (size_t j = 0; j < out->cap; j++) {
        if (!out->slots[j].pair.key) continue;
        pairs[n] = out->slots[j].pair;
        if (app->reduce) app->reduce(&pairs[n]);
        n++;
    }
    qsort_r(pairs, n, sizeof(mr_pair), qsort_cmp, (void *)app);
    r->sorted[p] = pairs;
    r->sorted_n[p] = n;
}

static void *reduce_thread(void *arg)
{
    worker_arg *w = arg;
    run *r = w->r;
    for (;;) {
        unsigned long p = take_task(r);
        if (p >= (unsigned long)r->nparts) break;
        reduce_partition(r, (int)p);
    }
    return NULL;
}

/* One merge round: runs 2k and 2k+1 become run k. */
typedef struct merge_round {
    mr_pair **in;
    size_t *in_n;
    size_t nin;
    mr_pair **out;
    size_t *out_n;
} merge_round;

static merge_round *current_round;

static void merge_two(const mr_app *app, merge_round *m, size_t k)
{
    size_t a = 2 * k, b = 2 * k + 1;
    if (b >= m->nin) {
        m->out[k] = m->in[a];
        m->out_n[k] = m->in_n[a];
        return;
    }
    size_t na = m->in_n[a], nb = m->in_n[b], i = 0, j = 0, o = 0;
    mr_pair *res = mr_xmalloc((na + nb) * sizeof(mr_pair));
    while (i < na && j < nb) res[o++] = pair_cmp(app, &m->in[a][i], &m->in[b][j]) <= 0 ? m->in[a][i++] : m->in[b][j++];
    while (i < na) res[o++] = m->in[a][i++];
    while (j < nb) res[o++] = m->in[b][j++];
    free(m->in[a]);
    free(m->in[b]);
    m->out[k] = res;
    m->out_n[k] = o;
}

static void *merge_thread(void *arg)
{
    worker_arg *w = arg;
    run *r = w->r;
    merge_round *m = current_round;
    size_t tasks = (m->nin + 1) / 2;
    for (;;) {
        unsigned long k = take_task(r);
        if (k >= tasks) break;
        merge_two(r->app, m, k);
    }
    return NULL;
}

static void run_phase(run *r, void *(*fn)(void *), int nthreads)
{
    r->next_task = 0;
    pthread_t *tids = mr_xmalloc(nthreads * sizeof(pthread_t));
    worker_arg *args = mr_xmalloc(nthreads * sizeof(worker_arg));
    for (int i = 0; i < nthreads; i++) {
        args[i].r = r;
        args[i].id = i;
        if (pthread_create(&tids[i], NULL, fn, &args[i]) != 0) {
            fprintf(stderr, "mapreduce: pthread_create failed\n");
            exit(2);
        }
    }
    for (int i = 0; i < nthreads; i++) pthread_join(tids[i], NULL);
    free(tids);
    free(args);
}

static void make_splits(run *r, size_t len)
{
    const mr_app *app = r->app;
    size_t unit = app->unit ? app->unit : 1;
    size_t want = app->split_size ? app->split_size : 64 * 1024;
    want = want < unit ? unit : want - want % unit;
    if (sequential_mode) want = len ? len : unit; /* one split: the whole input */
    size_t cap = len / want + 2, n = 0;
    r->splits = mr_xmalloc(cap * sizeof(split));
    size_t off = 0;
    while (off < len) {
        size_t end = off + want >= len ? len : off + want;
        if (app->split_end && end < len) end = app->split_end(r->input, len, off, want);
        if (end <= off) end = off + want > len ? len : off + want;
        if (n == cap) {
            cap *= 2;
            r->splits = realloc(r->splits, cap * sizeof(split));
        }
        r->splits[n].off = off;
        r->splits[n].len = end - off;
        n++;
        off = end;
    }
    r->nsplits = n;
}

void mr_run(const mr_app *app, const void *input, size_t len, mr_result *out)
{
    run *r = calloc(1, sizeof(run));
    r->app = app;
    r->input = input;
    r->nthreads = mr_threads();
    r->nparts = r->nthreads;
    make_splits(r, len);

    r->ctxs = calloc(r->nthreads, sizeof(mr_ctx));
    for (int t = 0; t < r->nthreads; t++) {
        r->ctxs[t].app = app;
        r->ctxs[t].nparts = r->nparts;
        r->ctxs[t].parts = mr_xmalloc(r->nparts * sizeof(table));
        for (int p = 0; p < r->nparts; p++) table_init(&r->ctxs[t].parts[p], 256);
    }
    r->reduced = calloc(r->nparts, sizeof(table));
    r->reduce_mem = calloc(r->nparts, sizeof(arena));
    r->sorted = calloc(r->nparts, sizeof(mr_pair *));
    r->sorted_n = calloc(r->nparts, sizeof(size_t));

    if (sequential_mode) {
        /* No threads at all: the same map, reduce and sort, called directly. */
        worker_arg w = {r, 0};
        map_thread(&w);
        r->next_task = 0;
        reduce_thread(&w);
    } else {
        run_phase(r, map_thread, r->nthreads);
        run_phase(r, reduce_thread, r->nthreads);
    }

    /* Merge: pairwise rounds until one sorted run remains. */
    size_t nruns = r->nparts;
    mr_pair **runs = r->sorted;
    size_t *runs_n = r->sorted_n;
    while (nruns > 1) {
        size_t nout = (nruns + 1) / 2;
        merge_round m = {runs, runs_n, nruns, calloc(nout, sizeof(mr_pair *)), calloc(nout, sizeof(size_t))};
        current_round = &m;
        int workers = (int)(nout < (size_t)r->nthreads ? nout : (size_t)r->nthreads);
        run_phase(r, merge_thread, workers);
        if (runs != r->sorted) {
            free(runs);
            free(runs_n);
        }
        runs = m.out;
        runs_n = m.out_n;
        nruns = nout;
    }
    out->pairs = runs[0];
    out->n = runs_n[0];
    if (runs != r->sorted) {
        free(runs);
        free(runs_n);
    }

    /* The intermediate tables are no longer needed; their keys and values live on in the arenas
     * only through the reduced tables, which point into reduce_mem. */
    for (int t = 0; t < r->nthreads; t++) {
        for (int p = 0; p < r->nparts; p++) free(r->ctxs[t].parts[p].slots);
        free(r->ctxs[t].parts);
    }
    for (int p = 0; p < r->nparts; p++) free(r->reduced[p].slots);
    free(r->splits);
    out->priv = r;
}

void mr_free(mr_result *res)
{
    run *r = res->priv;
    free(res->pairs);
    if (r) {
        for (int t = 0; t < r->nthreads; t++) arena_free(&r->ctxs[t].mem);
        for (int p = 0; p < r->nparts; p++) arena_free(&r->reduce_mem[p]);
        free(r->ctxs);
        free(r->reduced);
        free(r->reduce_mem);
        free(r->sorted);
        free(r->sorted_n);
        free(r);
    }
    res->pairs = NULL;
    res->n = 0;
    res->priv = NULL;
}
