/* Word-count-like benchmark guest: fills SIZE MiB (default 48) with pseudo-random bytes, then streams over it
   twice, hashing "words" (runs of bytes ending below 32) into a TABLE MiB (default 4) table of counters, and
   prints a checksum. A stream with a hot table beside it, as word_count has.
   usage: wcstream [SIZE_MIB] [TABLE_MIB] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? atol(argv[1]) : 48, tmib = argc > 2 ? atol(argv[2]) : 4;
    size_t n = mib << 20, tn = (tmib << 20) / 8;
    unsigned char *in = malloc(n);
    uint64_t *table = calloc(tn, 8);
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; in[i] = (unsigned char)x; }
    uint64_t h = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            h = h * 31 + in[i];
            if (in[i] < 32) { table[h % tn]++; h = 0; }
        }
    uint64_t sum = 0;
    for (size_t i = 0; i < tn; i++) sum += table[i] * (i + 1);
    printf("%016llx\n", (unsigned long long)sum);
    return 0;
}
