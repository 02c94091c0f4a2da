/* pca: the mean of every row and the covariance matrix of the rows of an int32 matrix, two
 * MapReduce passes as in Phoenix, in exact integer arithmetic. */
#include "../runtime/mapreduce.h"

#include <stdio.h>
#include <stdlib.h>

static int rows, cols;
static const int32_t *M;
static long long *mean;

static void combine(void *acc, const void *val) { *(long long *)acc += *(const long long *)val; }

static void map_mean(mr_ctx *ctx, const void *data, size_t len)
{
    const int32_t *idx = data;
    for (size_t r = 0; r < len / sizeof(int32_t); r++) {
        int i = idx[r];
        long long sum = 0;
        for (int j = 0; j < cols; j++) sum += M[(size_t)i * cols + j];
        long long m = sum / cols;
        unsigned char key[4];
        mr_put_be32(key, (uint32_t)i);
        mr_emit(ctx, key, 4, &m);
    }
}

/* Row i against every row j >= i: the upper triangle of the covariance matrix. */
static void map_cov(mr_ctx *ctx, const void *data, size_t len)
{
    const int32_t *idx = data;
    for (size_t r = 0; r < len / sizeof(int32_t); r++) {
        int i = idx[r];
        const int32_t *a = M + (size_t)i * cols;
        for (int j = i; j < rows; j++) {
            const int32_t *b = M + (size_t)j * cols;
            long long sum = 0, ma = mean[i], mb = mean[j];
            for (int c = 0; c < cols; c++) sum += (a[c] - ma) * (b[c] - mb);
            long long cov = sum / (cols - 1);
            unsigned char key[8];
            mr_put_be32(key, (uint32_t)i);
            mr_put_be32(key + 4, (uint32_t)j);
            mr_emit(ctx, key, 8, &cov);
        }
    }
}

int main(int argc, char **argv)
{
    mr_init(&argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: pca FILE [--sequential]\n");
        return 2;
    }
    size_t len;
    int32_t *file = mr_read_file(argv[1], &len);
    rows = file[0];
    cols = file[1];
    if (rows < 1 || cols < 2 || len != 8 + (size_t)rows * cols * 4) {
        fprintf(stderr, "pca: %s is not a matrix file\n", argv[1]);
        return 1;
    }
    M = file + 2;
    int32_t *idx = mr_xmalloc(sizeof(int32_t) * rows);
    for (int i = 0; i < rows; i++) idx[i] = i;

    mr_app mean_app = {.val_size = sizeof(long long), .combine = combine, .map = map_mean, .unit = 4, .split_size = 4 * 8};
    mr_result res;
    mr_run(&mean_app, idx, sizeof(int32_t) * rows, &res);
    mean = mr_xmalloc(sizeof(long long) * rows);
    for (size_t i = 0; i < res.n; i++) mean[mr_get_be32(res.pairs[i].key)] = *(long long *)res.pairs[i].val;
    mr_free(&res);

    /* Rows near the top have more work (j >= i): small splits balance the threads. */
    mr_app cov_app = {.val_size = sizeof(long long), .combine = combine, .map = map_cov, .unit = 4, .split_size = 4};
    mr_run(&cov_app, idx, sizeof(int32_t) * rows, &res);
    uint64_t h = MR_DIGEST_INIT;
    long long trace = 0;
    for (size_t i = 0; i < res.n; i++) {
        h = mr_digest(h, res.pairs[i].key, 8);
        h = mr_digest(h, res.pairs[i].val, sizeof(long long));
        if (mr_get_be32(res.pairs[i].key) == mr_get_be32((const char *)res.pairs[i].key + 4)) trace += *(long long *)res.pairs[i].val;
    }
    printf("pca: %d x %d matrix, %zu covariance entries\n", rows, cols, res.n);
    printf("mean[0..3] = %lld %lld %lld %lld\n", mean[0], mean[1 % rows], mean[2 % rows], mean[3 % rows]);
    for (size_t i = 0; i < res.n && i < 4; i++) printf("cov[%u][%u] = %lld\n", mr_get_be32(res.pairs[i].key), mr_get_be32((const char *)res.pairs[i].key + 4), *(long long *)res.pairs[i].val);
    printf("trace = %lld\ndigest %016llx\n", trace, (unsigned long long)h);
    mr_free(&res);
    free(file);
    free(idx);
    free(mean);
    return 0;
}
