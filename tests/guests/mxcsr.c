/* SSE rounding modes, sticky exception flags, FTZ and DAZ: the guest's MXCSR must govern SSE
   arithmetic exactly as on the host CPU (and fenv.h reads the flags back from it). */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <xmmintrin.h>

static const char *mode_name(int m)
{
    return m == FE_TONEAREST ? "nearest" : m == FE_UPWARD ? "up" : m == FE_DOWNWARD ? "down" : "zero";
}

int main(void)
{
    const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    volatile double third = 1.0, three = 3.0, vals[] = {2.5, 3.5, -2.5, -0.5, 1e300, -7.25};
    volatile float f1 = 1.0f, f3 = 3.0f;
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        double q = third / three;
        float fq = f1 / f3;
        printf("%-8s 1/3=%a f=%a sqrt2=%a", mode_name(modes[m]), q, (double)fq, sqrt(2.0 * third));
        for (int k = 0; k < 6; k++) printf(" rint(%g)=%g lrint=%ld", vals[k], rint(vals[k]), lrint(vals[k] > 1e18 ? 1.0 : vals[k]));
        printf(" cvt=%d\n", _mm_cvtsd_si32(_mm_set_sd(vals[3])));
    }
    fesetround(FE_TONEAREST);

    volatile double zero = 0.0, one = 1.0, big = 1e308, tiny = 1e-308;
    feclearexcept(FE_ALL_EXCEPT);
    volatile double r = one / zero;
    printf("divbyzero %d", fetestexcept(FE_DIVBYZERO) != 0);
    feclearexcept(FE_ALL_EXCEPT);
    r = one / three;
    printf(" inexact %d", fetestexcept(FE_INEXACT) != 0);
    feclearexcept(FE_ALL_EXCEPT);
    r = big * 10.0;
    printf(" overflow %d", fetestexcept(FE_OVERFLOW) != 0);
    feclearexcept(FE_ALL_EXCEPT);
    r = tiny / 1e10;
    printf(" underflow %d", fetestexcept(FE_UNDERFLOW) != 0);
    feclearexcept(FE_ALL_EXCEPT);
    r = zero / zero;
    printf(" invalid %d", fetestexcept(FE_INVALID) != 0);
    feclearexcept(FE_ALL_EXCEPT);
    r = one + one;
    printf(" exact-add-clean %d\n", fetestexcept(FE_ALL_EXCEPT) == 0);
    (void)r;

    unsigned saved = _mm_getcsr();
    printf("mxcsr after ops %08x\n", saved & ~0x3fu);
    _mm_setcsr(saved | 0x8040); /* FTZ and DAZ */
    volatile float a = 1e-40f;
    volatile float b = a * 2.0f, c = a + 0.0f;
    printf("ftz/daz: %g %g\n", (double)b, (double)c);
    _mm_setcsr(saved);
    b = a * 2.0f;
    printf("normal: %g\n", (double)b);
    return 0;
}
