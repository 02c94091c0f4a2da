/* Integer-bound benchmark guest: arithmetic, shifts and branches in registers. */
#include <stdint.h>
#include <stdio.h>
int main(void)
{
    uint64_t a = 1, b = 2, c = 3;
    for (uint32_t i = 0; i < 200000000u; i++) {
        a += b ^ (c >> 3);
        b = (b << 1) | (a & 1);
        c += i & 7 ? a : b;
        if ((a & 0xff) == 0x5a) c ^= a;
    }
    printf("%llu %llu %llu\n", (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
    return 0;
}
