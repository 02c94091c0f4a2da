/* Sieve of Eratosthenes over a bit array, plus a few classic facts about the
   primes found: a bit-twiddling, branchy, memory-walking workload. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

#define LIMIT 2000000u

static inline int is_composite(const uint64_t *bits, uint32_t n) { return (bits[n >> 6] >> (n & 63)) & 1; }
static inline void mark(uint64_t *bits, uint32_t n) { bits[n >> 6] |= 1ULL << (n & 63); }

int main(void)
{
    uint64_t *bits = calloc(LIMIT / 64 + 1, sizeof *bits);
    if (!bits)
        return 1;
    mark(bits, 0);
    mark(bits, 1);
    for (uint32_t i = 2; (uint64_t)i * i <= LIMIT; i++)
        if (!is_composite(bits, i))
            for (uint32_t j = i * i; j <= LIMIT; j += i)
                mark(bits, j);

    uint32_t count = 0, last = 0, twins = 0, max_gap = 0, gap_at = 0, prev = 0;
    uint64_t sum = 0;
    uint32_t mod4[4] = { 0 };
    for (uint32_t n = 2; n <= LIMIT; n++) {
        if (is_composite(bits, n))
            continue;
        count++;
        sum += n;
        mod4[n & 3]++;
        if (prev && n - prev == 2)
            twins++;
        if (prev && n - prev > max_gap) {
            max_gap = n - prev;
            gap_at = prev;
        }
        prev = last = n;
    }
    printf("primes <= %u: %u\n", LIMIT, count);
    printf("largest: %u, sum: %llu\n", last, (unsigned long long)sum);
    printf("twin pairs: %u\n", twins);
    printf("largest gap: %u after %u\n", max_gap, gap_at);
    printf("1 mod 4: %u, 3 mod 4: %u\n", mod4[1], mod4[3]);

    printf("first 25:");
    for (uint32_t n = 2, k = 0; k < 25; n++)
        if (!is_composite(bits, n)) {
            printf(" %u", n);
            k++;
        }
    printf("\n");

    /* popcount over the whole array exercises POPCNT (or its fallback). */
    uint64_t composites = 0;
    for (uint32_t w = 0; w <= LIMIT / 64; w++)
        composites += (uint64_t)__builtin_popcountll(bits[w]);
    printf("composite bits set: %llu\n", (unsigned long long)composites);
    free(bits);
    return 0;
}
