/* kmeans: Lloyd's algorithm on integer points, one MapReduce per iteration (map: assign each
 * point to its nearest mean; reduce: new means by integer division, as Phoenix does). */
#include "../runtime/mapreduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DIM = 8 };

static int dim, k;
static int32_t *means; /* k x dim, read by every map task of an iteration */

typedef struct cluster_sum {
    long long sum[MAX_DIM];
    long long count;
} cluster_sum;

static void combine(void *acc, const void *val)
{
    cluster_sum *a = acc;
    const cluster_sum *v = val;
    for (int d = 0; d < dim; d++) a->sum[d] += v->sum[d];
    a->count += v->count;
}

static void map(mr_ctx *ctx, const void *data, size_t len)
{
    const int32_t *pts = data;
    size_t n = len / (sizeof(int32_t) * dim);
    cluster_sum *local = calloc((size_t)k, sizeof(cluster_sum));
    for (size_t i = 0; i < n; i++) {
        const int32_t *p = pts + i * dim;
        long long best = -1;
        int best_c = 0;
        for (int c = 0; c < k; c++) {
            long long dist = 0;
            for (int d = 0; d < dim; d++) {
                long long diff = p[d] - means[c * dim + d];
                dist += diff * diff;
            }
            if (best < 0 || dist < best) {
                best = dist;
                best_c = c;
            }
        }
        for (int d = 0; d < dim; d++) local[best_c].sum[d] += p[d];
        local[best_c].count++;
    }
    for (int c = 0; c < k; c++) {
        if (!local[c].count) continue;
        unsigned char key[4];
        mr_put_be32(key, (uint32_t)c);
        mr_emit(ctx, key, 4, &local[c]);
    }
    free(local);
}

int main(int argc, char **argv)
{
    mr_init(&argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: kmeans FILE [CLUSTERS] [MAX_ITERATIONS] [--sequential]\n");
        return 2;
    }
    k = argc > 2 ? atoi(argv[2]) : 100;
    int max_iter = argc > 3 ? atoi(argv[3]) : 50;
    size_t len;
    int32_t *file = mr_read_file(argv[1], &len);
    int npoints = file[0];
    dim = file[1];
    if (dim < 1 || dim > MAX_DIM || k < 1 || k > npoints || len < 8 + (size_t)npoints * dim * 4) {
        fprintf(stderr, "kmeans: bad input or parameters\n");
        return 1;
    }
    int32_t *points = file + 2;
    /* The first k points are the initial means: deterministic, like a fixed seed. */
    means = mr_xmalloc(sizeof(int32_t) * k * dim);
    memcpy(means, points, sizeof(int32_t) * k * dim);
    mr_app app = {.val_size = sizeof(cluster_sum), .combine = combine, .map = map, .unit = sizeof(int32_t) * dim, .split_size = 12000};
    int iter = 0, changed = 1;
    while (changed && iter < max_iter) {
        mr_result res;
        mr_run(&app, points, (size_t)npoints * dim * sizeof(int32_t), &res);
        changed = 0;
        for (size_t i = 0; i < res.n; i++) {
            int c = (int)mr_get_be32(res.pairs[i].key);
            cluster_sum *s = res.pairs[i].val;
            for (int d = 0; d < dim; d++) {
                int32_t m = (int32_t)(s->sum[d] / s->count);
                if (m != means[c * dim + d]) changed = 1;
                means[c * dim + d] = m;
            }
        }
        mr_free(&res);
        iter++;
    }
    printf("kmeans: %d points, %d dimensions, %d clusters, %d iterations%s\n", npoints, dim, k, iter, changed ? " (not converged)" : "");
    uint64_t h = mr_digest(MR_DIGEST_INIT, means, sizeof(int32_t) * k * dim);
    for (int c = 0; c < k; c++) {
        printf("cluster %3d:", c);
        for (int d = 0; d < dim; d++) printf(" %d", means[c * dim + d]);
        printf("\n");
    }
    printf("digest %016llx\n", (unsigned long long)h);
    free(file);
    free(means);
    return 0;
}
