/* Sequential scan: PASSES reads of every byte-line of a BYTES region (args: BYTES PASSES). */
#include "common.h"

int main(int argc, char **argv)
{
    size_t bytes = (size_t)arg_or(argc, argv, 1, 1 << 20);
    int passes = (int)arg_or(argc, argv, 2, 2);
    volatile uint8_t *r = map_region(bytes);
    uint64_t sum = 0;
    for (int p = 0; p < passes; p++)
        for (size_t i = 0; i < bytes; i += 64)
            sum += r[i];
    printf("scan %zu bytes x %d: %llu\n", bytes, passes, (unsigned long long)sum);
    return 0;
}
