/* The scalar SSE instructions floating-point code runs between its arithmetic: MOVSS/MOVSD, UCOMISD/COMISD
   (every relation, NaNs, signed zeros, infinities), and the conversions CVTSI2SS/SD and CVTTSS2SI/CVTTSD2SI
   (out of range, NaN, inexact), each with the MXCSR exception flags it raises. */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static volatile double dv[] = {0.0, -0.0, 1.5, -2.5, 3e9, -3e9, 1e19, -1e19, 9.3e18, NAN, INFINITY, -INFINITY, 1e-310, 123456789.987};
static volatile float fv[] = {0.0f, 1.5f, -2.5f, 3e9f, 1e19f, NAN, INFINITY, 1e-40f, 16777217.0f};
static volatile long lv[] = {0, 1, -1, 9007199254740993L, -9223372036854775807L - 1, 123456789012345L};
static volatile int iv[] = {0, 7, -7, 2147483647, -2147483647 - 1, 16777217};

/* An integer's conversions and the flags they raised, as one number (printed on the first round). */
static unsigned long converted(const char *what, unsigned i, double x, float y, int ex, int print)
{
    unsigned long xb, yb = 0;
    memcpy(&xb, &x, 8);
    memcpy(&yb, &y, 4);
    if (print) printf("%s %u: %lx %lx %x\n", what, i, xb, yb, ex);
    return xb + yb + (unsigned)ex;
}

int main(void)
{
    unsigned long acc = 0;
    int nd = sizeof dv / sizeof *dv;
    /* Several rounds, so the loops get hot and run translated under the default tier too. */
    for (int r = 0; r < 2000; r++) {
        for (int i = 0; i < nd; i++) {
            for (int j = 0; j < nd; j++) {
                feclearexcept(FE_ALL_EXCEPT);
                double a = dv[i], b = dv[j];
                int rel = (a < b) | (a <= b) << 1 | (a > b) << 2 | (a >= b) << 3 | (a == b) << 4 | (a != b) << 5
                    | __builtin_isunordered(a, b) << 6;
                int ex = fetestexcept(FE_ALL_EXCEPT);
                acc = acc * 131 + (unsigned)rel + (unsigned)ex * 977;
                if (r == 0 && j == (i + 3) % nd) printf("cmp %d %d: %x %x\n", i, j, rel, ex);
            }
            feclearexcept(FE_ALL_EXCEPT);
            int a = (int)dv[i];
            long b = (long)dv[i];
            int ex = fetestexcept(FE_ALL_EXCEPT);
            acc = acc * 131 + (unsigned)a + (unsigned long)b * 7 + (unsigned)ex * 13;
            if (r == 0) printf("cvttsd2si %d: %d %ld %x\n", i, a, b, ex);
        }
        for (unsigned i = 0; i < sizeof fv / sizeof *fv; i++) {
            feclearexcept(FE_ALL_EXCEPT);
            int a = (int)fv[i];
            long b = (long)fv[i];
            double widened = fv[i];
            int ex = fetestexcept(FE_ALL_EXCEPT);
            unsigned long wb;
            memcpy(&wb, &widened, 8);
            acc = acc * 131 + (unsigned)a + (unsigned long)b * 7 + (unsigned)ex * 13 + wb;
            if (r == 0) printf("cvttss2si %u: %d %ld %x\n", i, a, b, ex);
        }
        for (unsigned i = 0; i < sizeof lv / sizeof *lv; i++) {
            feclearexcept(FE_ALL_EXCEPT);
            double x = (double)lv[i];
            float y = (float)lv[i];
            acc = acc * 131 + converted("cvtsi2sd/ss", i, x, y, fetestexcept(FE_ALL_EXCEPT), r == 0);
        }
        for (unsigned i = 0; i < sizeof iv / sizeof *iv; i++) {
            feclearexcept(FE_ALL_EXCEPT);
            double x = (double)iv[i];
            float y = (float)iv[i];
            acc = acc * 131 + converted("cvtsi2sd/ss32", i, x, y, fetestexcept(FE_ALL_EXCEPT), r == 0);
        }
    }
    printf("%lu\n", acc);
    return 0;
}
