/* A small guest for third-party oracles (args: BYTES COUNT): over a BYTES region at a fixed address, libc's
   memset and memcpy, a 16-byte SSE copy, 8-byte loads that cross lines, read-modify-write adds, and COUNT
   random reads. valgrind's lackey and LegoEmu's trace must see the same accesses to the region. */
#include "common.h"
#include <string.h>
#include <emmintrin.h>

int main(int argc, char **argv)
{
    size_t bytes = (size_t)arg_or(argc, argv, 1, 1 << 16);
    long count = arg_or(argc, argv, 2, 20000);
    volatile uint8_t *r = map_region(bytes);
    memset((void *)r, 1, bytes / 2);
    memcpy((void *)(r + bytes / 2), (const void *)r, bytes / 4);
    for (size_t i = 0; i + 32 <= bytes / 4; i += 16)
        _mm_storeu_si128((__m128i *)(r + 3 * bytes / 4 + i), _mm_load_si128((const __m128i *)(r + i)));
    uint64_t sum = 0;
    for (size_t i = 60; i + 8 <= bytes; i += 256)
        sum += *(volatile uint64_t *)(r + i);
    for (size_t i = 0; i < bytes; i += 512)
        *(volatile uint64_t *)(r + i) += i;
    size_t lines = bytes / 64;
    for (long n = 0; n < count; n++) sum += r[(next_random() % lines) * 64];
    printf("oracle %zu bytes, %ld reads: %llu\n", bytes, count, (unsigned long long)sum);
    return 0;
}
