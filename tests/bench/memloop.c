/* Memory-bound benchmark guest: strided reads and writes over a 32 MiB array. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
    size_t n = 4u << 20;
    uint64_t *a = calloc(n, sizeof *a), sum = 0;
    for (int pass = 0; pass < 12; pass++)
        for (size_t i = 0; i < n; i++) {
            a[(i * 17) & (n - 1)] += i ^ (uint64_t)pass;
            sum += a[i];
        }
    printf("%llu\n", (unsigned long long)sum);
    free(a);
    return 0;
}
