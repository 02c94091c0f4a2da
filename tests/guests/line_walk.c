/* Loops that walk one cache line for many iterations with an instruction between their accesses that the translator
 * hands to the interpreter (an x87 load of a long double) and that misses: over a tiny cache it evicts the line the
 * loop walks, so translated code that keeps a loop's line at hand must look it up again after such an instruction. */
#include <stdint.h>
#include <stdio.h>

#define WORDS 512          /* one 4 KiB line */
#define FAR (16 * 256)     /* 64 KiB of 16-byte long doubles: 16 lines of 4 KiB */

static uint64_t a[WORDS];
static long double far[FAR];

int main(void)
{
    for (int i = 0; i < WORDS; i++) a[i] = (uint64_t)i * 2654435761u;
    for (int i = 0; i < FAR; i++) far[i] = i;
    uint64_t sum = 0;
    long double ld = 0;
    for (int pass = 0; pass < 3000; pass++)
        for (int i = 0; i < WORDS; i++) {
            sum += a[i] ^ (uint64_t)pass;
            a[(i * 7) & (WORDS - 1)] += (uint64_t)pass;
            if ((i & 31) == 0) ld += far[((i >> 5) * 256 + pass * 37) & (FAR - 1)];
            sum = (sum << 1 | sum >> 63);
        }
    printf("%llu %.1Lf\n", (unsigned long long)sum, ld);
    return 0;
}
