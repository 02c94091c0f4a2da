/* linear_regression: least-squares line through (x, y) byte pairs (Phoenix's input format). */
#include "../runtime/mapreduce.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct sums {
    long long n, sx, sy, sxx, syy, sxy;
} sums;

static void combine(void *acc, const void *val)
{
    sums *a = acc;
    const sums *v = val;
    a->n += v->n;
    a->sx += v->sx;
    a->sy += v->sy;
    a->sxx += v->sxx;
    a->syy += v->syy;
    a->sxy += v->sxy;
}

/* Integer sums are exact, so their order cannot change the result. */
static void map(mr_ctx *ctx, const void *data, size_t len)
{
    const unsigned char *p = data;
    sums s = {0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i + 1 < len; i += 2) {
        long long x = p[i], y = p[i + 1];
        s.n++;
        s.sx += x;
        s.sy += y;
        s.sxx += x * x;
        s.syy += y * y;
        s.sxy += x * y;
    }
    mr_emit(ctx, "sums", 4, &s);
}

int main(int argc, char **argv)
{
    mr_init(&argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: linear_regression FILE [--sequential]\n");
        return 2;
    }
    size_t len;
    unsigned char *data = mr_read_file(argv[1], &len);
    mr_app app = {.val_size = sizeof(sums), .combine = combine, .map = map, .unit = 2, .split_size = 1 << 18};
    mr_result res;
    mr_run(&app, data, len - len % 2, &res);
    sums s = *(sums *)res.pairs[0].val;
    double n = (double)s.n;
    double b = (n * s.sxy - (double)s.sx * s.sy) / (n * s.sxx - (double)s.sx * s.sx);
    double a = (s.sy - b * s.sx) / n;
    double xbar = s.sx / n, ybar = s.sy / n;
    double r2 = ((double)s.sxy - n * xbar * ybar) * ((double)s.sxy - n * xbar * ybar) /
                (((double)s.sxx - n * xbar * xbar) * ((double)s.syy - n * ybar * ybar));
    printf("linear_regression: %lld points\n", s.n);
    printf("SX = %lld\nSY = %lld\nSXX = %lld\nSYY = %lld\nSXY = %lld\n", s.sx, s.sy, s.sxx, s.syy, s.sxy);
    printf("y = %.6f + %.6f x\nr^2 = %.6f\n", a, b, r2);
    mr_free(&res);
    free(data);
    return 0;
}
