/* Wide and split loads (args: BYTES N16 NSPLIT): N16 aligned 16-byte SSE loads cycling over a BYTES region,
   then NSPLIT 8-byte loads that each cross from one 64-byte line into the next. A trace at 64-byte lines
   holds exactly N16 + 2 * NSPLIT read records over the region. */
#include "common.h"

int main(int argc, char **argv)
{
    size_t bytes = (size_t)arg_or(argc, argv, 1, 1 << 16);
    long n16 = arg_or(argc, argv, 2, 100000);
    long nsplit = arg_or(argc, argv, 3, 1000);
    volatile uint8_t *r = map_region(bytes);
    uint64_t sum = 0;
    for (long i = 0; i < n16; i++) {
        uint64_t lo;
        const volatile uint8_t *p = r + (size_t)(i * 16) % bytes;
        __asm__ volatile("movdqa (%1), %%xmm0\n\tmovq %%xmm0, %0" : "=r"(lo) : "r"(p) : "xmm0", "memory");
        sum += lo;
    }
    for (long i = 0; i < nsplit; i++) {
        uint64_t v;
        const volatile uint8_t *p = r + (size_t)(i * 64) % bytes + 60;
        if (p + 8 > r + bytes) p -= 64;
        __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(p) : "memory");
        sum += v;
    }
    printf("wide %zu bytes, %ld 16-byte loads, %ld split loads: %llu\n", bytes, n16, nsplit, (unsigned long long)sum);
    return 0;
}
