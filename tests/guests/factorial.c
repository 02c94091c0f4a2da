/* Arbitrary-precision factorials with base-10^9 limbs: long chains of
   64-bit multiply/divide and carry propagation, printed in full. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define BASE 1000000000u

struct big {
    uint32_t *limb; /* least significant first */
    size_t n, cap;
};

static void big_mul_small(struct big *b, uint32_t m)
{
    uint64_t carry = 0;
    for (size_t i = 0; i < b->n; i++) {
        uint64_t v = (uint64_t)b->limb[i] * m + carry;
        b->limb[i] = (uint32_t)(v % BASE);
        carry = v / BASE;
    }
    while (carry) {
        if (b->n == b->cap) {
            b->cap *= 2;
            b->limb = realloc(b->limb, b->cap * sizeof *b->limb);
        }
        b->limb[b->n++] = (uint32_t)(carry % BASE);
        carry /= BASE;
    }
}

static size_t big_digits(const struct big *b)
{
    size_t d = 9 * (b->n - 1);
    for (uint32_t top = b->limb[b->n - 1]; top; top /= 10)
        d++;
    return d;
}

static unsigned digit_sum(const struct big *b)
{
    unsigned s = 0;
    for (size_t i = 0; i < b->n; i++)
        for (uint32_t v = b->limb[i]; v; v /= 10)
            s += v % 10;
    return s;
}

static void big_print(const struct big *b)
{
    printf("%u", b->limb[b->n - 1]);
    for (size_t i = b->n - 1; i-- > 0;)
        printf("%09u", b->limb[i]);
    printf("\n");
}

int main(void)
{
    struct big f = { malloc(4 * sizeof(uint32_t)), 1, 4 };
    f.limb[0] = 1;
    static const unsigned show[] = { 0, 1, 5, 10, 20, 25, 50, 100 };
    size_t si = 0;
    for (unsigned k = 0; k <= 2000; k++) {
        if (k > 0)
            big_mul_small(&f, k);
        if (si < sizeof show / sizeof show[0] && show[si] == k) {
            printf("%u! = ", k);
            big_print(&f);
            si++;
        }
        if (k == 1000 || k == 2000)
            printf("%u! has %zu digits, digit sum %u, last limb %09u\n", k, big_digits(&f),
                   digit_sum(&f), f.limb[0]);
    }

    /* Trailing zeros counted from the number must match Legendre's formula. */
    size_t zeros = 0;
    for (size_t i = 0; i < f.n && f.limb[i] == 0; i++)
        zeros += 9;
    for (size_t i = zeros / 9; i < f.n; i++) {
        uint32_t v = f.limb[i];
        while (v % 10 == 0) {
            zeros++;
            v /= 10;
        }
        break;
    }
    unsigned legendre = 0;
    for (unsigned p = 5; p <= 2000; p *= 5)
        legendre += 2000 / p;
    printf("2000! trailing zeros: %zu (legendre %u)\n", zeros, legendre);
    free(f.limb);
    return 0;
}
