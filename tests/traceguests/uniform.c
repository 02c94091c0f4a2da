/* Uniform random reads of 64-byte lines of a BYTES region, first touching every line once (args: BYTES COUNT). */
#include "common.h"

int main(int argc, char **argv)
{
    size_t bytes = (size_t)arg_or(argc, argv, 1, 1 << 20);
    long count = arg_or(argc, argv, 2, 200000);
    volatile uint8_t *r = map_region(bytes);
    size_t lines = bytes / 64;
    uint64_t sum = 0;
    for (size_t i = 0; i < lines; i++) sum += r[i * 64];
    for (long n = 0; n < count; n++) sum += r[(next_random() % lines) * 64];
    printf("uniform %zu lines, %ld reads: %llu\n", lines, count, (unsigned long long)sum);
    return 0;
}
