/* histogram: per-channel (blue, green, red) histograms of a 24-bit BMP image. */
#include "../runtime/mapreduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int width, row_bytes;

static void combine(void *acc, const void *val) { *(long *)acc += *(const long *)val; }

/* A split is whole pixel rows; counts are gathered locally and emitted once per bin and split. */
static void map(mr_ctx *ctx, const void *data, size_t len)
{
    const unsigned char *p = data;
    long counts[768] = {0};
    for (size_t row = 0; row + row_bytes <= len; row += row_bytes) {
        const unsigned char *px = p + row;
        for (int x = 0; x < width; x++) {
            counts[px[3 * x]]++;
            counts[256 + px[3 * x + 1]]++;
            counts[512 + px[3 * x + 2]]++;
        }
    }
    for (int i = 0; i < 768; i++) {
        if (!counts[i]) continue;
        unsigned char key[4];
        mr_put_be32(key, (uint32_t)i);
        mr_emit(ctx, key, 4, &counts[i]);
    }
}

static uint32_t le32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

int main(int argc, char **argv)
{
    mr_init(&argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: histogram FILE.bmp [--sequential]\n");
        return 2;
    }
    size_t len;
    unsigned char *bmp = mr_read_file(argv[1], &len);
    if (len < 54 || bmp[0] != 'B' || bmp[1] != 'M' || le32(bmp + 28) % 65536 != 24) {
        fprintf(stderr, "histogram: %s is not a 24-bit BMP\n", argv[1]);
        return 1;
    }
    uint32_t off = le32(bmp + 10);
    width = (int)le32(bmp + 18);
    int height = (int)le32(bmp + 22);
    row_bytes = (width * 3 + 3) & ~3;
    if ((size_t)off + (size_t)row_bytes * height > len) {
        fprintf(stderr, "histogram: %s is truncated\n", argv[1]);
        return 1;
    }
    mr_app app = {.val_size = sizeof(long), .combine = combine, .map = map, .unit = (size_t)row_bytes};
    mr_result res;
    mr_run(&app, bmp + off, (size_t)row_bytes * height, &res);
    static const char *names[] = {"blue", "green", "red"};
    long bins[768] = {0};
    for (size_t i = 0; i < res.n; i++) bins[mr_get_be32(res.pairs[i].key)] = *(long *)res.pairs[i].val;
    printf("histogram: %d x %d pixels\n", width, height);
    for (int c = 0; c < 3; c++) {
        printf("%s\n", names[c]);
        for (int b = 0; b < 256; b += 16) {
            printf("  %3d:", b);
            for (int k = 0; k < 16; k++) printf(" %ld", bins[c * 256 + b + k]);
            printf("\n");
        }
    }
    mr_free(&res);
    free(bmp);
    return 0;
}
