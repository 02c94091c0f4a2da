/* long double libm with run-time arguments, so gcc cannot fold them: every x87 transcendental
   (F2XM1, FYL2X, FYL2XP1, FPATAN, FSIN/FCOS/FSINCOS/FPTAN, FSCALE, FXTRACT, FPREM/FPREM1), BCD
   stores, and the x87 environment (fegetenv/fesetenv/feclearexcept use FNSTENV/FLDENV). */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void show(const char *name, long double v) { printf("%-10s %.21Lg %La\n", name, v, v); }

int main(void)
{
    volatile long double in[] = {0.5L, 1.0L, 2.75L, 10.0L, -3.25L, 1e-5L, 123456.789L, 1e300L};
    for (int i = 0; i < 8; i++) {
        long double x = in[i], ax = fabsl(x);
        printf("x = %Lg\n", x);
        show("expl", expl(x > 100 ? 100 : x));
        show("exp2l", exp2l(x > 100 ? 100 : x));
        show("expm1l", expm1l(x > 100 ? 100 : x));
        show("logl", logl(ax));
        show("log2l", log2l(ax));
        show("log10l", log10l(ax));
        show("log1pl", log1pl(ax));
        show("powl", powl(ax, 1.5L));
        show("atan2l", atan2l(x, 2.0L));
        show("atanl", atanl(x));
        show("sinl", sinl(x));
        show("cosl", cosl(x));
        show("tanl", tanl(x));
        show("fmodl", fmodl(x, 0.7L));
        show("remainderl", remainderl(x, 0.7L));
        show("ldexpl", ldexpl(x, 7));
        show("scalbnl", scalbnl(x, -9));
        show("cbrtl", cbrtl(x));
        show("logbl", logbl(x));
        show("nearbyintl", nearbyintl(x));
        show("sinhl", sinhl(x > 100 ? 100 : x));
        show("tanhl", tanhl(x));
    }
    /* FSIN/FCOS on the raw instructions, including a large argument where the FPU's reduction shows. */
    volatile long double big = 1e18L, r1, r2;
    __asm__("fldt %2\n\tfsincos\n\tfstpt %0\n\tfstpt %1" : "=m"(r1), "=m"(r2) : "m"(big));
    show("fsincos.c", r1);
    show("fsincos.s", r2);
    /* FBSTP packs an integer into 18 BCD digits; FBLD reads it back. */
    unsigned char bcd[10];
    volatile long double v = -987654321012345678.0L, back;
    __asm__("fldt %1\n\tfbstp %0" : "=m"(bcd) : "m"(v));
    for (int k = 9; k >= 0; k--) printf("%02x", bcd[k]);
    __asm__("fbld %1\n\tfstpt %0" : "=m"(back) : "m"(bcd));
    printf("\nbcd back %.21Lg\n", back);
    /* The x87 environment round trip. */
    fenv_t env;
    feclearexcept(FE_ALL_EXCEPT);
    fegetenv(&env);
    fesetround(FE_UPWARD);
    volatile long double third = 1.0L / in[2];
    show("up", third);
    fesetenv(&env);
    third = 1.0L / in[2];
    show("nearest", third);
    return 0;
}
