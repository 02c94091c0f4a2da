/* One-operand MUL and IMUL (RDX:RAX = RAX * src) at 32 and 64 bits, hot enough to be translated: both halves and the
 * carry and overflow flags, read by SETC/SETO and by PUSHF, for values around every sign and overflow boundary. */
#include <stdint.h>
#include <stdio.h>

static const uint64_t edges[] = {
    0, 1, 2, 3, 0x7f, 0x80, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x7fffffffffffffff,
    0x8000000000000000, 0xffffffffffffffff, 0xfffffffffffffffe, 0x123456789abcdef1, 0xb504f333f9de6484, 0x16a09e667,
};

int main(void)
{
    enum { N = sizeof edges / sizeof edges[0] };
    uint64_t sum = 0, x = 0x2545f4914f6cdd1d;
    for (int round = 0; round < 3000; round++) {
        for (int k = 0; k < N; k++) {
            uint64_t a = edges[k] ^ (round & 1 ? x : 0), b = edges[(k * 7 + round) % N] + (uint64_t)(round >> 1);
            uint64_t lo, hi, f;
            unsigned char c, o;
            __asm__("imulq %5\n\tsetc %2\n\tseto %3\n\tpushfq\n\tpopq %4" : "=a"(lo), "=d"(hi), "=r"(c), "=r"(o), "=r"(f) : "r"(b), "0"(a) : "cc");
            sum = sum * 31 + lo + hi * 3 + c * 5 + o * 7 + (f & 0x801);
            __asm__("mulq %5\n\tsetc %2\n\tseto %3\n\tpushfq\n\tpopq %4" : "=a"(lo), "=d"(hi), "=r"(c), "=r"(o), "=r"(f) : "r"(b), "0"(a) : "cc");
            sum = sum * 31 + lo + hi * 3 + c * 5 + o * 7 + (f & 0x801);
            uint32_t lo32, hi32;
            __asm__("imull %5\n\tsetc %2\n\tseto %3\n\tpushfq\n\tpopq %4" : "=a"(lo32), "=d"(hi32), "=r"(c), "=r"(o), "=r"(f) : "r"((uint32_t)b), "0"((uint32_t)a) : "cc");
            sum = sum * 31 + lo32 + hi32 * 3ull + c * 5 + o * 7 + (f & 0x801);
            __asm__("mull %5\n\tsetc %2\n\tseto %3\n\tpushfq\n\tpopq %4" : "=a"(lo32), "=d"(hi32), "=r"(c), "=r"(o), "=r"(f) : "r"((uint32_t)b), "0"((uint32_t)a) : "cc");
            sum = sum * 31 + lo32 + hi32 * 3ull + c * 5 + o * 7 + (f & 0x801);
            /* From memory, and the flags left for a branch. */
            volatile uint64_t m = b;
            __asm__("imulq %2" : "=a"(lo), "=d"(hi) : "m"(m), "0"(a) : "cc");
            sum += lo ^ hi;
            if (__builtin_mul_overflow((int64_t)a, (int64_t)b, (int64_t *)&lo)) sum += 11;
            __int128 p = (__int128)(int64_t)a * (int64_t)b;
            sum ^= (uint64_t)(p >> 64) + (uint64_t)p;
            x = x * 6364136223846793005ull + 1442695040888963407ull;
        }
    }
    printf("%llu\n", (unsigned long long)sum);
    return 0;
}
