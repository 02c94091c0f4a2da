/* Writes a patterned array (24 MiB by default, the size in MiB as argv[1]) and checksums it: heavy line traffic. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
int main(int argc, char **argv) {
    size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 24;
    size_t n = mib << 17; /* 8-byte words */
    uint64_t *a = malloc(n * sizeof *a);
    if (!a) { printf("malloc failed\n"); return 1; }
    for (size_t i = 0; i < n; i++) a[i] = i * 0x9E3779B97F4A7C15ULL ^ (i >> 3);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum = sum * 31 + a[i];
    printf("%zu MiB checksum %016llx\n", mib, (unsigned long long)sum);
    free(a);
    return 0;
}
