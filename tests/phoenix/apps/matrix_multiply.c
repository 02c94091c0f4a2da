/* matrix_multiply: C = A x B for square int32 matrices. Map tasks compute whole rows of C in
 * place and emit one digest per row; the output is the digests merged in row order. */
#include "../runtime/mapreduce.h"

#include <stdio.h>
#include <stdlib.h>

static int n;
static const int32_t *A, *B;
static int64_t *C;

static void combine(void *acc, const void *val) { *(uint64_t *)acc += *(const uint64_t *)val; }

static void map(mr_ctx *ctx, const void *data, size_t len)
{
    const int32_t *rows = data;
    for (size_t r = 0; r < len / sizeof(int32_t); r++) {
        int i = rows[r];
        int64_t *c = C + (size_t)i * n;
        for (int j = 0; j < n; j++) c[j] = 0;
        /* i-k-j order: B is read row by row, which keeps the inner loop sequential. */
        for (int kk = 0; kk < n; kk++) {
            int64_t a = A[(size_t)i * n + kk];
            const int32_t *b = B + (size_t)kk * n;
            for (int j = 0; j < n; j++) c[j] += a * b[j];
        }
        uint64_t h = mr_digest(MR_DIGEST_INIT, c, sizeof(int64_t) * n);
        unsigned char key[4];
        mr_put_be32(key, (uint32_t)i);
        mr_emit(ctx, key, 4, &h);
    }
}

static int32_t *load(const char *path)
{
    size_t len;
    int32_t *m = mr_read_file(path, &len);
    if (len < 4 || len != 4 + (size_t)m[0] * m[0] * 4 || (n && m[0] != n)) {
        fprintf(stderr, "matrix_multiply: %s is not a square matrix of the right size\n", path);
        exit(1);
    }
    n = m[0];
    return m;
}

int main(int argc, char **argv)
{
    mr_init(&argc, argv);
    if (argc < 3) {
        fprintf(stderr, "usage: matrix_multiply A B [--sequential]\n");
        return 2;
    }
    int32_t *fa = load(argv[1]), *fb = load(argv[2]);
    A = fa + 1;
    B = fb + 1;
    C = mr_xmalloc(sizeof(int64_t) * n * n);
    int32_t *rows = mr_xmalloc(sizeof(int32_t) * n);
    for (int i = 0; i < n; i++) rows[i] = i;
    mr_app app = {.val_size = sizeof(uint64_t), .combine = combine, .map = map, .unit = sizeof(int32_t), .split_size = sizeof(int32_t) * 4};
    mr_result res;
    mr_run(&app, rows, sizeof(int32_t) * n, &res);
    uint64_t h = MR_DIGEST_INIT;
    for (size_t i = 0; i < res.n; i++) h = mr_digest(h, res.pairs[i].val, sizeof(uint64_t));
    long long trace = 0;
    for (int i = 0; i < n; i++) trace += C[(size_t)i * n + i];
    printf("matrix_multiply: %d x %d, %zu rows\n", n, n, res.n);
    printf("C[0][0..3] = %lld %lld %lld %lld\n", (long long)C[0], (long long)C[1 % n], (long long)C[2 % n], (long long)C[3 % n]);
    printf("C[n-1][n-1] = %lld\ntrace = %lld\n", (long long)C[(size_t)n * n - 1], trace);
    printf("digest %016llx\n", (unsigned long long)h);
    mr_free(&res);
    free(fa);
    free(fb);
    free(C);
    free(rows);
    return 0;
}
