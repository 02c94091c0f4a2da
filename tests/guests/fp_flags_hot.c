// The sticky exception flags of SSE arithmetic in hot code that moves between functions: each iteration clears
// the flags, runs double arithmetic in one function (inexact, division by zero, overflow, invalid, or nothing,
// depending on the iteration), then integer work and a call into the C library in others, then reads the flags.
// Run long enough for every function to be translated, so the flags cross region exits, chained entries of other
// regions (with and without floating point of their own), the dispatcher and the emulator's own code in between.
#include <fenv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile double zero = 0.0, one = 1.0, three = 3.0, big = 1e308, four = 4.0;

__attribute__((noinline)) static double arith(unsigned i)
{
    switch (i % 5) {
    case 0: return one / three;        // inexact
    case 1: return one / zero;         // division by zero
    case 2: return big * four;         // overflow, inexact
    case 3: return zero / zero;        // invalid
    default: return one + four;        // nothing
    }
}

__attribute__((noinline)) static unsigned mix(unsigned x)
{
    for (int k = 0; k < 8; k++) x = x * 2654435761u ^ (x >> 13);
    return x;
}

__attribute__((noinline)) static double exact(double a)
{
    // Exact operations in a function of their own: raises nothing, must not lose what was raised before.
    return a * 2.0 + 1.0;
}

int main(void)
{
    unsigned long counts[5][6] = {{0}};
    unsigned h = 1;
    char buf[64];
    double acc = 0;
    for (unsigned i = 0; i < 300000; i++) {
        feclearexcept(FE_ALL_EXCEPT);
        double r = arith(i);
        h = mix(h + i);
        if (i % 7 == 0) {
            // The C library in between: integer code with calls of its own.
            memset(buf, (int)(h & 0xff), sizeof buf);
            h += (unsigned)strlen(buf + (h % 8));
        }
        acc = exact((double)(i & 1023)) + (r == r && r < 1e300 ? r : 0);
        int f = fetestexcept(FE_ALL_EXCEPT);
        int slot = i % 5;
        counts[slot][0] += (f & FE_INEXACT) != 0;
        counts[slot][1] += (f & FE_DIVBYZERO) != 0;
        counts[slot][2] += (f & FE_OVERFLOW) != 0;
        counts[slot][3] += (f & FE_UNDERFLOW) != 0;
        counts[slot][4] += (f & FE_INVALID) != 0;
        counts[slot][5] += f == 0;
    }
    for (int s = 0; s < 5; s++)
        printf("case %d: inexact %lu divbyzero %lu overflow %lu underflow %lu invalid %lu none %lu\n", s, counts[s][0],
               counts[s][1], counts[s][2], counts[s][3], counts[s][4], counts[s][5]);
    printf("h %08x acc %.17g\n", h, acc);
    return 0;
}
