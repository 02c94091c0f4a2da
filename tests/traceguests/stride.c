/* Strided walk: touches one byte every STRIDE bytes of a BYTES region, PASSES times (args: BYTES STRIDE PASSES). */
#include "common.h"

int main(int argc, char **argv)
{
    size_t bytes = (size_t)arg_or(argc, argv, 1, 4 << 20);
    size_t stride = (size_t)arg_or(argc, argv, 2, 4160);
    int passes = (int)arg_or(argc, argv, 3, 3);
    volatile uint8_t *r = map_region(bytes);
    uint64_t sum = 0;
    for (int p = 0; p < passes; p++)
        for (size_t i = 0; i < bytes; i += stride) {
            r[i] = (uint8_t)(r[i] + 1);
            sum += r[i];
        }
    printf("stride %zu over %zu bytes x %d: %llu\n", stride, bytes, passes, (unsigned long long)sum);
    return 0;
}
