/* Formatted output: exercises printf's integer and floating-point paths
   (the latter lean heavily on SSE2 and long double arithmetic inside glibc). */
#include <stdio.h>
#include <limits.h>

int main(void)
{
    puts("Hello, LegoEmu!");
    printf("ints: %d %d %d %d\n", 0, 42, -42, INT_MIN);
    printf("int max: %d, width: [%8d] [%-8d] [%08d] [%+d]\n", INT_MAX, 123, 123, -123, 5);
    printf("long long: %lld %lld %lld\n", 1234567890123456789LL, -987654321098765432LL, LLONG_MIN);
    printf("unsigned: %u %u %llu\n", 0u, UINT_MAX, ULLONG_MAX);
    printf("hex: %x %X %#x %08llx %#llX\n", 255u, 48879u, 0xdeadbeefu, 0x1234abcdULL, 0xfedcba9876543210ULL);
    printf("octal: %o %#o\n", 8u, 511u);
    printf("strings: [%s] [%10s] [%-10s] [%.3s] [%10.2s]\n", "abc", "right", "left", "truncate", "xy-z");
    printf("chars: %c%c%c [%3c] [%-3c]\n", 'L', 'e', 'g', 'o', '!');
    printf("percent: 100%%\n");

    static const double vals[] = { 0.0, 0.1, -2.5, 3.14159265358979, 1e300, 1e-300,
                                   123456.789, -0.000123456, 2.0 / 3.0, 1e15 + 0.3 };
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        double v = vals[i];
        printf("%%f: %f %.0f %.2f %.10f\n", v, v, v, v);
        printf("%%e: %e %.0e %.3e %.12E\n", v, v, v, v);
        printf("%%g: %g %.1g %.6g %.15g %.17g %G\n", v, v, v, v, v, v);
        printf("width: [%12.4f] [%-12.3e] [%+g]\n", v, v, v);
    }
    printf("float: %f %g\n", (double)1.5f, (double)0.1f);
    printf("long double: %Lf %.20Lg\n", (long double)1 / 3, (long double)2 / 7);

    char buf[64];
    int n = snprintf(buf, sizeof buf, "%d-%s-%.3f", 7, "seven", 7.0 / 3.0);
    printf("snprintf: %d [%s]\n", n, buf);

    fprintf(stderr, "this line goes to stderr\n");
    fputs("so does this one\n", stderr);
    puts("Goodbye.");
    return 0;
}
