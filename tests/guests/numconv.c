/* Text <-> number round trips through sprintf, sscanf, strtol, strtoul,
   strtoll and strtod, including errno on overflow and end-pointer offsets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdint.h>
#include <limits.h>
#include <math.h>

static uint64_t xs = 0x2545f4914f6cdd1dULL;
static uint64_t next(void)
{
    xs ^= xs << 13;
    xs ^= xs >> 7;
    xs ^= xs << 17;
    return xs;
}

int main(void)
{
    char buf[128];
    unsigned long bad = 0, checks = 0;

    /* Integers in several bases survive a print/parse round trip. */
    for (int i = 0; i < 5000; i++) {
        int64_t v = (int64_t)next() >> (next() % 64);
        snprintf(buf, sizeof buf, "%lld", (long long)v);
        char *end;
        errno = 0;
        long long back = strtoll(buf, &end, 10);
        bad += back != v || *end != '\0' || errno != 0;
        snprintf(buf, sizeof buf, "%#llx", (unsigned long long)v);
        bad += strtoull(buf, NULL, 16) != (unsigned long long)v;
        bad += strtoull(buf, NULL, 0) != (unsigned long long)v;
        snprintf(buf, sizeof buf, "%llo", (unsigned long long)v);
        bad += strtoull(buf, NULL, 8) != (unsigned long long)v;
        checks += 4;
    }
    printf("integer round trips: %lu checks, %lu bad\n", checks, bad);

    /* %.17g is enough to round-trip any double exactly. */
    bad = checks = 0;
    for (int i = 0; i < 2000; i++) {
        uint64_t bits = next();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (isnan(d) || isinf(d))
            continue;
        snprintf(buf, sizeof buf, "%.17g", d);
        double back = strtod(buf, NULL);
        bad += memcmp(&back, &d, sizeof d) != 0;
        double scanned;
        bad += sscanf(buf, "%lf", &scanned) != 1 || memcmp(&scanned, &d, sizeof d) != 0;
        snprintf(buf, sizeof buf, "%a", d);
        bad += strtod(buf, NULL) != d;
        checks += 3;
    }
    printf("double round trips: %lu checks, %lu bad\n", checks, bad);

    static const char *const inputs[] = {
        "42", "  -17xyz", "0x1F", "0777", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "", "abc", "+0", "  +123  ", "1e10",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char *end;
        errno = 0;
        long v = strtol(inputs[i], &end, 0);
        int e = errno;
        printf("strtol(\"%s\", 0) = %ld, consumed %ld, %s\n", inputs[i], v, (long)(end - inputs[i]),
               e == ERANGE ? "ERANGE" : "ok");
    }
    static const char *const dinputs[] = {
        "3.14159", "-0.0", "1e308", "1e309", "4.9e-324", "1e-400", "0x1.8p3", "inf",
        "-Infinity", "nan", "  2.5e+2abc", ".5", "1.7976931348623157e308",
    };
    for (size_t i = 0; i < sizeof dinputs / sizeof dinputs[0]; i++) {
        char *end;
        errno = 0;
        double v = strtod(dinputs[i], &end);
        int e = errno;
        printf("strtod(\"%s\") = %.17g, consumed %ld, %s\n", dinputs[i], v, (long)(end - dinputs[i]),
               e == ERANGE ? "ERANGE" : "ok");
    }

    int a, b, n;
    char word[32];
    double f;
    unsigned x;
    n = sscanf("12 -34 hello 2.75 ff", "%d %d %31s %lf %x", &a, &b, word, &f, &x);
    printf("sscanf: n=%d a=%d b=%d word=%s f=%g x=%u\n", n, a, b, word, f, x);
    int y, mo, d, h, mi;
    n = sscanf("2024-11-25T07:53", "%d-%d-%dT%d:%d", &y, &mo, &d, &h, &mi);
    printf("sscanf date: fields=%d %04d/%02d/%02d %02d.%02d\n", n, y, mo, d, h, mi);
    n = sscanf("nope", "%d", &a);
    printf("sscanf failure: %d\n", n);

    snprintf(buf, sizeof buf, "[%*d] [%-*.*f] [%.*s]", 6, 42, 10, 3, 2.0 / 3.0, 4, "truncated");
    printf("star widths: %s\n", buf);
    printf("INT_MIN via %%d: %d, LONG_MAX via %%ld: %ld\n", INT_MIN, LONG_MAX);
    return 0;
}
