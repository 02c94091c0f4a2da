/* Memory-heavy benchmark guest: fills SIZE MiB, then either reads it in a sequential scan
   (PASSES times) or makes ACCESSES random 8-byte reads, and prints a checksum.
   usage: memtouch seq|random [SIZE_MIB] [COUNT] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int random_mode = argc > 1 && strcmp(argv[1], "random") == 0;
    size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 256;
    size_t count = argc > 3 ? (size_t)atol(argv[3]) : (random_mode ? 1000000 : 2);
    size_t n = mib << 17;
    uint64_t *a = malloc(n * sizeof *a);
    if (!a) { puts("malloc failed"); return 1; }
    for (size_t i = 0; i < n; i++) a[i] = i * 0x9E3779B97F4A7C15ULL;
    uint64_t sum = 0, x = 88172645463325252ULL;
    if (random_mode) {
        for (size_t k = 0; k < count; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            sum += a[x % n];
        }
    } else {
        for (size_t pass = 0; pass < count; pass++)
            for (size_t i = 0; i < n; i += 8) sum += a[i]; /* one read per 64-byte line */
    }
    printf("%s %zu MiB %zu: %016llx\n", random_mode ? "random" : "seq", mib, count, (unsigned long long)sum);
    free(a);
    return 0;
}
