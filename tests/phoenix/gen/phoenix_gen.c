/* Deterministic input generator for the Phoenix-style suite.
 *
 *   phoenix_gen APP|all small|medium|large OUTDIR
 *
 * Every byte depends only on (APP, SIZE): a self-written PRNG (splitmix64 seeding xoshiro256**)
 * and integer-only arithmetic, so the files are identical on every machine and libc.
 * Sizes are listed in the table below and in README.md ("Phoenix-style suite"). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- PRNG ---- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n) (multiply-shift; the bias is far below anything the apps could notice). */
static uint32_t rng_below(rng *r, uint32_t n) { return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32); }

static uint64_t seed_of(const char *app, const char *size)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = app; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ '/') * 1099511628211ull;
    for (const char *p = size; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

/* ---- sizes ---- */

typedef struct sizes {
    long word_count_bytes, string_match_bytes, reverse_index_bytes;
    int histogram_width, histogram_height;
    long linear_regression_points;
    int matrix_n, pca_n, kmeans_points;
} sizes;

static const sizes SMALL = {1L << 20, 1L << 20, 1L << 20, 724, 724, 2L << 20, 128, 160, 10000};
static const sizes MEDIUM = {10L << 20, 10L << 20, 10L << 20, 2048, 2048, 16L << 20, 400, 500, 50000};
static const sizes LARGE = {100L << 20, 100L << 20, 100L << 20, 5800, 5800, 128L << 20, 1000, 1000, 100000};

/* ---- output helpers ---- */

static FILE *create(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    setvbuf(f, NULL, _IOFBF, 1 << 16);
    return f;
}

static void finish(FILE *f, const char *what)
{
    if (ferror(f) || fclose(f) != 0) {
        fprintf(stderr, "phoenix_gen: writing %s failed\n", what);
        exit(1);
    }
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

static void put_i32(FILE *f, int32_t v) { fwrite(&v, 4, 1, f); }

/* ---- Zipf-distributed text ---- */

typedef struct vocab {
    int n;
    char **words;
    uint64_t *cdf; /* cumulative weights scaled to integers, so sampling needs no floating point */
    uint64_t total;
} vocab;

/* Words are pronounceable syllable strings; rank 1 is the most frequent (weight 1/rank). */
static void vocab_make(vocab *v, int n, uint64_t seed)
{
    static const char *onset[] = {"b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "st", "tr", "ch", "sh", "th", "pl", "gr"};
    static const char *nucleus[] = {"a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "y"};
    static const char *coda[] = {"", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "rk"};
    rng r;
    rng_seed(&r, seed);
    v->n = n;
    v->words = malloc(n * sizeof(char *));
    v->cdf = malloc(n * sizeof(uint64_t));
    uint64_t acc = 0;
    for (int i = 0; i < n; i++) {
        char buf[64];
        int len = 0, syl = 1 + rng_below(&r, i < 50 ? 2 : 4);
        for (int k = 0; k < syl; k++) {
            len += snprintf(buf + len, sizeof buf - len, "%s%s%s", onset[rng_below(&r, 25)], nucleus[rng_below(&r, 10)], coda[rng_below(&r, 12)]);
        }
        v->words[i] = strdup(buf);
        acc += (uint64_t)(1000000000000ull / (uint64_t)(i + 1)); /* Zipf, exponent 1 */
        v->cdf[i] = acc;
    }
    v->total = acc;
}

static const char *vocab_pick(const vocab *v, rng *r)
{
    uint64_t u = rng_next(r) % v->total;
    int lo = 0, hi = v->n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (v->cdf[mid] > u) hi = mid;
        else lo = mid + 1;
    }
    return v->words[lo];
}

/* Writes about `bytes` of text: sentences with capitals and punctuation, lines of 60-100 chars. */
static long write_text(FILE *f, const vocab *v, rng *r, long bytes)
{
    long written = 0;
    int col = 0, sentence_start = 1;
    while (written < bytes) {
        const char *w = vocab_pick(v, r);
        char buf[80];
        int n = snprintf(buf, sizeof buf, "%s", w);
        if (sentence_start && n > 0) buf[0] = (char)(buf[0] - 'a' + 'A');
        sentence_start = 0;
        uint32_t p = rng_below(r, 100);
        if (p < 6) {
            buf[n++] = '.';
            sentence_start = 1;
        } else if (p < 10) {
            buf[n++] = ',';
        }
        buf[n] = 0;
        if (col > 0 && col + n + 1 > 60 + (int)rng_below(r, 40)) {
            fputc('\n', f);
            written++;
            col = 0;
        } else if (col > 0) {
            fputc(' ', f);
            written++;
            col++;
        }
        fputs(buf, f);
        written += n;
        col += n;
    }
    fputc('\n', f);
    return written + 1;
}

static void gen_text(const char *dir, const char *name, long bytes, uint64_t seed, int vocab_size)
{
    vocab v;
    vocab_make(&v, vocab_size, seed ^ 0x5eed);
    rng r;
    rng_seed(&r, seed);
    FILE *f = create(dir, name);
    write_text(f, &v, &r, bytes);
    finish(f, name);
}

/* string_match: a corpus plus four keys: a frequent word, a middling one, a rare one, and one
 * that cannot occur (digits never appear in the corpus). */
static void gen_string_match(const char *dir, long bytes, uint64_t seed)
{
    gen_text(dir, "string_match.txt", bytes, seed, 20000);
    vocab v;
    vocab_make(&v, 20000, seed ^ 0x5eed);
    FILE *f = create(dir, "string_match.keys");
    fprintf(f, "%s\n%s\n%s\nnotaword42\n", v.words[2], v.words[150], v.words[9000]);
    finish(f, "string_match.keys");
}

/* reverse_index: a tree of HTML files (100 per directory) of Zipf text with links whose targets
 * are Zipf-distributed over a fixed universe of URLs, so popular pages are linked from many files. */
static void gen_reverse_index(const char *dir, long bytes, uint64_t seed)
{
    char root[4096];
    snprintf(root, sizeof root, "%s/reverse_index", dir);
    make_dir(root);
    vocab v;
    vocab_make(&v, 8000, seed ^ 0x5eed);
    rng r;
    rng_seed(&r, seed);
    long total = 0;
    int file = 0;
    while (total < bytes) {
        char sub[4200], name[64];
        snprintf(sub, sizeof sub, "%s/d%03d", root, file / 100);
        if (file % 100 == 0) make_dir(sub);
        snprintf(name, sizeof name, "page%05d.html", file);
        FILE *f = create(sub, name);
        long n = fprintf(f, "<html><head><title>Page %d</title></head>\n<body>\n", file);
        int paragraphs = 2 + rng_below(&r, 6);
        for (int p = 0; p < paragraphs; p++) {
            n += fprintf(f, "<p>");
            n += write_text(f, &v, &r, 200 + rng_below(&r, 800));
            int links = rng_below(&r, 6);
            for (int l = 0; l < links; l++) {
                /* Zipf over link targets: reuse the word ranks as the distribution. */
                uint64_t u = rng_next(&r) % v.total;
                int lo = 0, hi = v.n - 1;
                while (lo < hi) {
                    int mid = (lo + hi) / 2;
                    if (v.cdf[mid] > u) hi = mid;
                    else lo = mid + 1;
                }
                n += fprintf(f, "<a href=\"http://www.site%d.example/%s/index%d.html\">%s</a>\n", lo % 97, v.words[lo], lo, v.words[lo]);
            }
            n += fprintf(f, "</p>\n");
        }
        n += fprintf(f, "</body></html>\n");
        finish(f, name);
        total += n;
        file++;
    }
}

/* histogram: a 24-bit BMP with smooth gradients plus noise, so all three channels have
 * broad, uneven histograms. */
static void gen_histogram(const char *dir, int w, int h, uint64_t seed)
{
    rng r;
    rng_seed(&r, seed);
    FILE *f = create(dir, "histogram.bmp");
    int row = (w * 3 + 3) & ~3;
    uint32_t image = (uint32_t)row * h;
    unsigned char hdr[54] = {'B', 'M'};
    uint32_t fsize = 54 + image;
    memcpy(hdr + 2, &fsize, 4);
    uint32_t off = 54, dib = 40, planes_bpp = 1 | (24u << 16);
    memcpy(hdr + 10, &off, 4);
    memcpy(hdr + 14, &dib, 4);
    memcpy(hdr + 18, &w, 4);
    memcpy(hdr + 22, &h, 4);
    memcpy(hdr + 26, &planes_bpp, 4);
    memcpy(hdr + 34, &image, 4);
    fwrite(hdr, 1, 54, f);
    unsigned char *line = calloc(row, 1);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int noise = (int)rng_below(&r, 64) - 32;
            int b = (x * 255 / w + noise) & 255;
            int g = ((x + y) * 255 / (w + h) + noise / 2) & 255;
            int rr = ((x ^ y) + noise) & 255;
            line[3 * x] = (unsigned char)b;
            line[3 * x + 1] = (unsigned char)g;
            line[3 * x + 2] = (unsigned char)rr;
        }
        fwrite(line, 1, row, f);
    }
    free(line);
    finish(f, "histogram.bmp");
}

/* linear_regression: (x, y) byte pairs on a noisy line, Phoenix's input format. */
static void gen_linear_regression(const char *dir, long points, uint64_t seed)
{
    rng r;
    rng_seed(&r, seed);
    FILE *f = create(dir, "linear_regression.dat");
    for (long i = 0; i < points; i++) {
        int x = (int)rng_below(&r, 256);
        int y = (x * 3) / 5 + 40 + (int)rng_below(&r, 41) - 20;
        if (y < 0) y = 0;
        if (y > 255) y = 255;
        fputc(x, f);
        fputc(y, f);
    }
    finish(f, "linear_regression.dat");
}

/* matrix_multiply: two n x n int32 matrices (header: n), entries in [0, 100). */
static void gen_matrix(const char *dir, const char *name, int n, uint64_t seed)
{
    rng r;
    rng_seed(&r, seed);
    FILE *f = create(dir, name);
    put_i32(f, n);
    for (long i = 0; i < (long)n * n; i++) put_i32(f, (int32_t)rng_below(&r, 100));
    finish(f, name);
}

/* pca: an n x n int32 matrix (header: rows, cols), entries in [0, 1000). */
static void gen_pca(const char *dir, int n, uint64_t seed)
{
    rng r;
    rng_seed(&r, seed);
    FILE *f = create(dir, "pca.mat");
    put_i32(f, n);
    put_i32(f, n);
    for (long i = 0; i < (long)n * n; i++) put_i32(f, (int32_t)rng_below(&r, 1000));
    finish(f, "pca.mat");
}

/* kmeans: 3-dimensional int32 points (header: count, dim) around 20 hidden centres on a
 * 1000-wide grid, so the algorithm converges in a modest number of iterations. */
static void gen_kmeans(const char *dir, int points, uint64_t seed)
{
    enum { DIM = 3, HIDDEN = 20 };
    rng r;
    rng_seed(&r, seed);
    int centre[HIDDEN][DIM];
    for (int c = 0; c < HIDDEN; c++)
        for (int d = 0; d < DIM; d++) centre[c][d] = 100 + (int)rng_below(&r, 800);
    FILE *f = create(dir, "kmeans.pts");
    put_i32(f, points);
    put_i32(f, DIM);
    for (int i = 0; i < points; i++) {
        int c = (int)rng_below(&r, HIDDEN);
        for (int d = 0; d < DIM; d++) {
            int spread = (int)rng_below(&r, 61) + (int)rng_below(&r, 61) + (int)rng_below(&r, 61) - 90;
            put_i32(f, centre[c][d] + spread);
        }
    }
    finish(f, "kmeans.pts");
}

static int generate(const char *app, const char *size, const sizes *s, const char *dir)
{
    uint64_t seed = seed_of(app, size);
    if (!strcmp(app, "word_count")) gen_text(dir, "word_count.txt", s->word_count_bytes, seed, 20000);
    else if (!strcmp(app, "string_match")) gen_string_match(dir, s->string_match_bytes, seed);
    else if (!strcmp(app, "reverse_index")) gen_reverse_index(dir, s->reverse_index_bytes, seed);
    else if (!strcmp(app, "histogram")) gen_histogram(dir, s->histogram_width, s->histogram_height, seed);
    else if (!strcmp(app, "linear_regression")) gen_linear_regression(dir, s->linear_regression_points, seed);
    else if (!strcmp(app, "matrix_multiply")) {
        gen_matrix(dir, "matrix_multiply.a", s->matrix_n, seed);
        gen_matrix(dir, "matrix_multiply.b", s->matrix_n, seed + 1);
    } else if (!strcmp(app, "pca")) gen_pca(dir, s->pca_n, seed);
    else if (!strcmp(app, "kmeans")) gen_kmeans(dir, s->kmeans_points, seed);
    else return 0;
    return 1;
}

int main(int argc, char **argv)
{
    static const char *apps[] = {"word_count", "string_match", "reverse_index", "histogram", "linear_regression", "matrix_multiply", "pca", "kmeans"};
    if (argc != 4) {
        fprintf(stderr, "usage: phoenix_gen APP|all small|medium|large OUTDIR\n");
        return 2;
    }
    const sizes *s = !strcmp(argv[2], "small") ? &SMALL : !strcmp(argv[2], "medium") ? &MEDIUM : !strcmp(argv[2], "large") ? &LARGE : NULL;
    if (!s) {
        fprintf(stderr, "phoenix_gen: unknown size '%s' (small, medium or large)\n", argv[2]);
        return 2;
    }
    make_dir(argv[3]);
    if (!strcmp(argv[1], "all")) {
        for (int i = 0; i < 8; i++) generate(apps[i], argv[2], s, argv[3]);
        return 0;
    }
    if (!generate(argv[1], argv[2], s, argv[3])) {
        fprintf(stderr, "phoenix_gen: unknown app '%s'\n", argv[1]);
        return 2;
    }
    return 0;
}
