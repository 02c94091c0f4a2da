/* Plain C loops that gcc -O3 -msse4.2 auto-vectorises with SSSE3/SSE4.1/SSE4.2 instructions
   (pmovsx/zx, pmulld, pminsd/pmaxud, pabs*, pshufb, pblendvb, pcmpgtq, ptest, roundps ...):
   sums, min/max, byte searches, saturating arithmetic, dot products, conversions and scans over
   char arrays. Array lengths are odd so the scalar tails run too; inputs come from a seeded
   xorshift generator and every result goes into a printed checksum. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <math.h>

#define N 1003
#define NOINL __attribute__((noinline))

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t hash = 0xcbf29ce484222325ULL;
static void mix(uint64_t v)
{
    hash ^= v;
    hash *= 0x100000001b3ULL;
}
static void mixbuf(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++)
        mix(b[k]);
}

static int8_t i8a[N], i8b[N];
static uint8_t u8a[N], u8b[N], u8r[N];
static int16_t i16a[N], i16b[N], i16r[N];
static uint16_t u16a[N];
static int32_t i32a[N], i32b[N], i32r[N];
static uint32_t u32a[N], u32b[N], u32r[N];
static int64_t i64a[N], i64b[N], i64r[N];
static float fa[N], fr[N];
static double da[N], db[N], dr[N];
static char text[N + 1];

/* ---- reductions ---- */

NOINL static int64_t sum_i32(const int32_t *a, int n) { int64_t s = 0; for (int k = 0; k < n; k++) s += a[k]; return s; }
NOINL static uint32_t sum_u8(const uint8_t *a, int n) { uint32_t s = 0; for (int k = 0; k < n; k++) s += a[k]; return s; }
NOINL static int32_t sum_i8(const int8_t *a, int n) { int32_t s = 0; for (int k = 0; k < n; k++) s += a[k]; return s; }
NOINL static int64_t sum_u16(const uint16_t *a, int n) { int64_t s = 0; for (int k = 0; k < n; k++) s += a[k]; return s; }
NOINL static int32_t min_i32(const int32_t *a, int n) { int32_t m = INT32_MAX; for (int k = 0; k < n; k++) m = a[k] < m ? a[k] : m; return m; }
NOINL static int32_t max_i32(const int32_t *a, int n) { int32_t m = INT32_MIN; for (int k = 0; k < n; k++) m = a[k] > m ? a[k] : m; return m; }
NOINL static uint32_t min_u32(const uint32_t *a, int n) { uint32_t m = UINT32_MAX; for (int k = 0; k < n; k++) m = a[k] < m ? a[k] : m; return m; }
NOINL static uint32_t max_u32(const uint32_t *a, int n) { uint32_t m = 0; for (int k = 0; k < n; k++) m = a[k] > m ? a[k] : m; return m; }
NOINL static int8_t min_i8(const int8_t *a, int n) { int8_t m = INT8_MAX; for (int k = 0; k < n; k++) m = a[k] < m ? a[k] : m; return m; }
NOINL static int8_t max_i8(const int8_t *a, int n) { int8_t m = INT8_MIN; for (int k = 0; k < n; k++) m = a[k] > m ? a[k] : m; return m; }
NOINL static uint16_t min_u16(const uint16_t *a, int n) { uint16_t m = UINT16_MAX; for (int k = 0; k < n; k++) m = a[k] < m ? a[k] : m; return m; }
NOINL static uint16_t max_u16(const uint16_t *a, int n) { uint16_t m = 0; for (int k = 0; k < n; k++) m = a[k] > m ? a[k] : m; return m; }
NOINL static int64_t max_i64(const int64_t *a, int n) { int64_t m = INT64_MIN; for (int k = 0; k < n; k++) m = a[k] > m ? a[k] : m; return m; }
NOINL static uint32_t dot_i16(const int16_t *a, const int16_t *b, int n) { uint32_t s = 0; for (int k = 0; k < n; k++) s += (uint32_t)(a[k] * b[k]); return s; }
NOINL static uint32_t dot_i32(const int32_t *a, const int32_t *b, int n) { uint32_t s = 0; for (int k = 0; k < n; k++) s += (uint32_t)a[k] * (uint32_t)b[k]; return s; }
NOINL static uint64_t dot_i32_wide(const int32_t *a, const int32_t *b, int n) { uint64_t s = 0; for (int k = 0; k < n; k++) s += (uint64_t)((int64_t)a[k] * b[k]); return s; }
NOINL static uint32_t dot_u8_i8(const uint8_t *a, const int8_t *b, int n) { int32_t s = 0; for (int k = 0; k < n; k++) s += a[k] * b[k]; return (uint32_t)s; }
NOINL static int64_t sad_u8(const uint8_t *a, const uint8_t *b, int n) { int32_t s = 0; for (int k = 0; k < n; k++) s += a[k] > b[k] ? a[k] - b[k] : b[k] - a[k]; return s; }

/* ---- byte searches over char arrays ---- */

NOINL static int count_char(const char *s, int n, char c) { int r = 0; for (int k = 0; k < n; k++) r += s[k] == c; return r; }
NOINL static int count_upper(const char *s, int n) { int r = 0; for (int k = 0; k < n; k++) r += s[k] >= 'A' && s[k] <= 'Z'; return r; }
NOINL static int count_digits(const unsigned char *s, int n) { int r = 0; for (int k = 0; k < n; k++) r += (unsigned char)(s[k] - '0') < 10; return r; }
NOINL static int count_ws(const char *s, int n) { int r = 0; for (int k = 0; k < n; k++) r += s[k] == ' ' || s[k] == '\n' || s[k] == '\t'; return r; }
NOINL static int count_vowels(const char *s, int n)
{
    int r = 0;
    for (int k = 0; k < n; k++) {
        char c = (char)(s[k] | 0x20);
        r += c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
    }
    return r;
}
NOINL static void to_upper(char *d, const char *s, int n) { for (int k = 0; k < n; k++) d[k] = s[k] >= 'a' && s[k] <= 'z' ? s[k] - 32 : s[k]; }
NOINL static int any_zero(const uint8_t *a, int n) { int r = 0; for (int k = 0; k < n; k++) r |= a[k] == 0; return r; }
NOINL static int all_equal(const int32_t *a, const int32_t *b, int n) { int r = 1; for (int k = 0; k < n; k++) r &= a[k] == b[k]; return r; }
/* Scans that stop early are left scalar by gcc, but they run on the same data for coverage. */
NOINL static int find_char(const char *s, int n, char c) { for (int k = 0; k < n; k++) if (s[k] == c) return k; return -1; }
NOINL static int scan_len(const char *s) { int k = 0; while (s[k]) k++; return k; }

/* ---- element-wise ---- */

NOINL static void sat_add_u8(uint8_t *r, const uint8_t *a, const uint8_t *b, int n)
{
    for (int k = 0; k < n; k++) { unsigned s = a[k] + b[k]; r[k] = s > 255 ? 255 : (uint8_t)s; }
}
NOINL static void sat_sub_u8(uint8_t *r, const uint8_t *a, const uint8_t *b, int n)
{
    for (int k = 0; k < n; k++) r[k] = a[k] > b[k] ? a[k] - b[k] : 0;
}
NOINL static void sat_add_i16(int16_t *r, const int16_t *a, const int16_t *b, int n)
{
    for (int k = 0; k < n; k++) { int s = a[k] + b[k]; r[k] = (int16_t)(s > 32767 ? 32767 : s < -32768 ? -32768 : s); }
}
NOINL static void clamp_i32_u16(uint16_t *r, const int32_t *a, int n)
{
    for (int k = 0; k < n; k++) r[k] = (uint16_t)(a[k] < 0 ? 0 : a[k] > 65535 ? 65535 : a[k]);
}
NOINL static void clamp_i32(int32_t *r, const int32_t *a, int32_t lo, int32_t hi, int n)
{
    for (int k = 0; k < n; k++) r[k] = a[k] < lo ? lo : a[k] > hi ? hi : a[k];
}
NOINL static void mul_i32(int32_t *r, const int32_t *a, const int32_t *b, int n) { for (int k = 0; k < n; k++) r[k] = (int32_t)((uint32_t)a[k] * (uint32_t)b[k]); }
NOINL static void mul_wide(int64_t *r, const int32_t *a, const int32_t *b, int n) { for (int k = 0; k < n; k++) r[k] = (int64_t)a[k] * b[k]; }
NOINL static void mulhi_u32(uint32_t *r, const uint32_t *a, const uint32_t *b, int n) { for (int k = 0; k < n; k++) r[k] = (uint32_t)(((uint64_t)a[k] * b[k]) >> 32); }
NOINL static void abs_i8(int8_t *r, const int8_t *a, int n) { for (int k = 0; k < n; k++) r[k] = (int8_t)(a[k] < 0 ? -a[k] : a[k]); }
NOINL static void abs_i16(int16_t *r, const int16_t *a, int n) { for (int k = 0; k < n; k++) r[k] = (int16_t)(a[k] < 0 ? -a[k] : a[k]); }
NOINL static void abs_i32(uint32_t *r, const int32_t *a, int n) { for (int k = 0; k < n; k++) r[k] = a[k] < 0 ? 0u - (uint32_t)a[k] : (uint32_t)a[k]; }
NOINL static void minmax_u32(uint32_t *r, const uint32_t *a, const uint32_t *b, int n) { for (int k = 0; k < n; k++) r[k] = (a[k] < b[k] ? a[k] : b[k]) ^ (a[k] > b[k] ? a[k] : b[k]) << 1; }
NOINL static void minmax_i8(int8_t *r, const int8_t *a, const int8_t *b, int n) { for (int k = 0; k < n; k++) r[k] = (int8_t)((a[k] < b[k] ? a[k] : b[k]) + (a[k] > b[k] ? a[k] : b[k]) * 3); }
NOINL static void select_i64(int64_t *r, const int64_t *a, const int64_t *b, int n) { for (int k = 0; k < n; k++) r[k] = a[k] > b[k] ? a[k] : b[k] + 1; }
NOINL static void eq_i64(int64_t *r, const int64_t *a, const int64_t *b, int n) { for (int k = 0; k < n; k++) r[k] = a[k] == b[k] ? 7 : a[k]; }
NOINL static void select_u8(uint8_t *r, const uint8_t *a, const uint8_t *b, const int8_t *m, int n) { for (int k = 0; k < n; k++) r[k] = m[k] < 0 ? a[k] : b[k]; }
NOINL static void select_f(float *r, const float *a, int n) { for (int k = 0; k < n; k++) r[k] = a[k] > 1.5f ? a[k] : -a[k]; }
NOINL static void widen_i8_i32(int32_t *r, const int8_t *a, int n) { for (int k = 0; k < n; k++) r[k] = a[k] * 3; }
NOINL static void widen_u8_u32(uint32_t *r, const uint8_t *a, int n) { for (int k = 0; k < n; k++) r[k] = a[k] + 1000u; }
NOINL static void widen_u16_i64(int64_t *r, const uint16_t *a, int n) { for (int k = 0; k < n; k++) r[k] = a[k] - 40000LL; }
NOINL static void widen_i32_i64(int64_t *r, const int32_t *a, int n) { for (int k = 0; k < n; k++) r[k] += a[k]; }
NOINL static void narrow_i32_u8(uint8_t *r, const int32_t *a, int n) { for (int k = 0; k < n; k++) r[k] = (uint8_t)(a[k] >> 3); }
NOINL static void reverse_bytes(uint8_t *r, const uint8_t *a, int n) { for (int k = 0; k < n; k++) r[k] = a[n - 1 - k]; }
NOINL static void bswap32(uint32_t *r, const uint32_t *a, int n) { for (int k = 0; k < n; k++) r[k] = __builtin_bswap32(a[k]); }
NOINL static void interleave(uint8_t *r, const uint8_t *a, const uint8_t *b, int n) { for (int k = 0; k < n / 2; k++) { r[2 * k] = b[k]; r[2 * k + 1] = a[k]; } }
NOINL static void avg_u8(uint8_t *r, const uint8_t *a, const uint8_t *b, int n) { for (int k = 0; k < n; k++) r[k] = (uint8_t)((a[k] + b[k] + 1) >> 1); }
NOINL static void floor_f(float *r, const float *a, int n) { for (int k = 0; k < n; k++) r[k] = floorf(a[k]); }
NOINL static void ceil_d(double *r, const double *a, int n) { for (int k = 0; k < n; k++) r[k] = ceil(a[k]); }
NOINL static void trunc_d(double *r, const double *a, int n) { for (int k = 0; k < n; k++) r[k] = trunc(a[k]); }
NOINL static void rint_d(double *r, const double *a, int n) { for (int k = 0; k < n; k++) r[k] = rint(a[k]); }
NOINL static void fma_d(double *r, const double *a, const double *b, int n) { for (int k = 0; k < n; k++) r[k] = a[k] * b[k] + r[k]; }
NOINL static void hadd_pairs(uint32_t *r, const uint32_t *a, int n) { for (int k = 0; k < n / 2; k++) r[k] = a[2 * k] + a[2 * k + 1]; }
NOINL static void hsub_pairs(int16_t *r, const int16_t *a, int n) { for (int k = 0; k < n / 2; k++) r[k] = (int16_t)(a[2 * k] - a[2 * k + 1]); }
NOINL static void mulhrs_i16(int16_t *r, const int16_t *a, const int16_t *b, int n) { for (int k = 0; k < n; k++) r[k] = (int16_t)((((int32_t)a[k] * b[k] >> 14) + 1) >> 1); }
NOINL static void sign_i32(uint32_t *r, const uint32_t *a, const int32_t *b, int n) { for (int k = 0; k < n; k++) r[k] = b[k] < 0 ? 0u - a[k] : b[k] == 0 ? 0 : a[k]; }

static void fill(void)
{
    static const char words[][8] = { "the ", "Quick ", "brown ", "FOX\n", "jumps\t", "over ", "42 ", "lazy ", "dogs. ", "A1b2 " };
    for (int k = 0; k < N; k++) {
        uint64_t r = rnd();
        i8a[k] = (int8_t)r; i8b[k] = (int8_t)(r >> 8);
        u8a[k] = (uint8_t)(r >> 16); u8b[k] = (uint8_t)(r >> 24);
        i16a[k] = (int16_t)(r >> 32); i16b[k] = (int16_t)(r >> 48);
        u16a[k] = (uint16_t)(r >> 40);
        uint64_t q = rnd();
        i32a[k] = (int32_t)q; i32b[k] = (int32_t)(q >> 32);
        if (k % 7 == 0) i32b[k] = i32a[k];
        if (k % 11 == 0) i32b[k] = 0;
        u32a[k] = (uint32_t)(q >> 16); u32b[k] = (uint32_t)(q * 3);
        i64a[k] = (int64_t)rnd(); i64b[k] = (int64_t)rnd();
        if (k % 5 == 0) i64b[k] = i64a[k];
        if (k % 9 == 0) i64a[k] = INT64_MIN + k;
        fa[k] = (float)((int32_t)(q >> 40) % 5000) / 8.0f;
        da[k] = (double)((int64_t)q % 100000) / 16.0;
        db[k] = (double)(int32_t)(q >> 32) / 1024.0;
        dr[k] = (double)k;
    }
    fa[1] = -0.0f; fa[2] = 2.5f; fa[3] = -2.5f; fa[4] = 1e30f; fa[5] = 0.49999997f;
    da[1] = -0.0; da[2] = 2.5; da[3] = -2.5; da[4] = 1e300; da[5] = 0.49999999999999994; da[6] = -3.5;
    int p = 0;
    while (p < N) {
        const char *w = words[rnd() % 10];
        for (int k = 0; w[k] && p < N; k++) text[p++] = w[k];
    }
    text[N] = 0;
}

int main(void)
{
    fill();
    int ns[] = { N, N - 1, 31, 17, 16, 15, 3, 1, 0 };
    for (unsigned t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        int n = ns[t];
        printf("n=%d sums %lld %u %d %lld\n", n, (long long)sum_i32(i32a, n), sum_u8(u8a, n), sum_i8(i8a, n), (long long)sum_u16(u16a, n));
        printf("n=%d minmax %d %d %u %u %d %d %u %u %lld\n", n, min_i32(i32a, n), max_i32(i32a, n), min_u32(u32a, n), max_u32(u32a, n),
               min_i8(i8a, n), max_i8(i8a, n), min_u16(u16a, n), max_u16(u16a, n), (long long)max_i64(i64a, n));
        printf("n=%d dots %u %u %llu %u %lld\n", n, dot_i16(i16a, i16b, n), dot_i32(i32a, i32b, n),
               (unsigned long long)dot_i32_wide(i32a, i32b, n), dot_u8_i8(u8a, i8b, n), (long long)sad_u8(u8a, u8b, n));
        printf("n=%d text %d %d %d %d %d %d %d %d %d\n", n, count_char(text, n, 'o'), count_upper(text, n),
               count_digits((const unsigned char *)text, n), count_ws(text, n), count_vowels(text, n), any_zero(u8a, n),
               all_equal(i32a, i32a, n), all_equal(i32a, i32b, n), find_char(text, n, 'X'));
    }
    printf("scan_len %d find %d %d\n", scan_len(text), find_char(text, N, '.'), find_char(text, N, '\t'));

    char up[N + 1];
    to_upper(up, text, N);
    up[N] = 0;
    printf("upper: %.80s\n", up);
    mixbuf(up, N);

    sat_add_u8(u8r, u8a, u8b, N); mixbuf(u8r, N);
    sat_sub_u8(u8r, u8a, u8b, N); mixbuf(u8r, N);
    sat_add_i16(i16r, i16a, i16b, N); mixbuf(i16r, sizeof i16r);
    printf("element-wise 1 %016llx\n", (unsigned long long)hash);
    uint16_t u16r[N];
    clamp_i32_u16(u16r, i32a, N); mixbuf(u16r, sizeof u16r);
    for (int k = 0; k < N; k++) i32r[k] = i32a[k] >> 14;
    clamp_i32_u16(u16r, i32r, N); mixbuf(u16r, sizeof u16r);
    clamp_i32(i32r, i32a, -100000, 5000000, N); mixbuf(i32r, sizeof i32r);
    mul_i32(i32r, i32a, i32b, N); mixbuf(i32r, sizeof i32r);
    mul_wide(i64r, i32a, i32b, N); mixbuf(i64r, sizeof i64r);
    mulhi_u32(u32r, u32a, u32b, N); mixbuf(u32r, sizeof u32r);
    printf("element-wise 2 %016llx\n", (unsigned long long)hash);
    int8_t i8r[N];
    abs_i8(i8r, i8a, N); mixbuf(i8r, N);
    abs_i16(i16r, i16a, N); mixbuf(i16r, sizeof i16r);
    abs_i32(u32r, i32a, N); mixbuf(u32r, sizeof u32r);
    minmax_u32(u32r, u32a, u32b, N); mixbuf(u32r, sizeof u32r);
    minmax_i8(i8r, i8a, i8b, N); mixbuf(i8r, N);
    select_i64(i64r, i64a, i64b, N); mixbuf(i64r, sizeof i64r);
    eq_i64(i64r, i64a, i64b, N); mixbuf(i64r, sizeof i64r);
    select_u8(u8r, u8a, u8b, i8a, N); mixbuf(u8r, N);
    select_f(fr, fa, N); mixbuf(fr, sizeof fr);
    printf("element-wise 3 %016llx\n", (unsigned long long)hash);
    widen_i8_i32(i32r, i8a, N); mixbuf(i32r, sizeof i32r);
    widen_u8_u32(u32r, u8a, N); mixbuf(u32r, sizeof u32r);
    widen_u16_i64(i64r, u16a, N); mixbuf(i64r, sizeof i64r);
    widen_i32_i64(i64r, i32a, N); mixbuf(i64r, sizeof i64r);
    narrow_i32_u8(u8r, i32a, N); mixbuf(u8r, N);
    reverse_bytes(u8r, u8a, N); mixbuf(u8r, N);
    bswap32(u32r, u32a, N); mixbuf(u32r, sizeof u32r);
    interleave(u8r, u8a, u8b, N); mixbuf(u8r, N);
    avg_u8(u8r, u8a, u8b, N); mixbuf(u8r, N);
    printf("element-wise 4 %016llx\n", (unsigned long long)hash);
    floor_f(fr, fa, N); mixbuf(fr, sizeof fr);
    printf("floor %a %a %a %a %a\n", fr[1], fr[2], fr[3], fr[5], fr[7]);
    ceil_d(dr, da, N); mixbuf(dr, sizeof dr);
    printf("ceil %a %a %a %a %a\n", dr[1], dr[2], dr[3], dr[5], dr[6]);
    trunc_d(dr, da, N); mixbuf(dr, sizeof dr);
    rint_d(dr, da, N); mixbuf(dr, sizeof dr);
    printf("rint %a %a %a %a %a\n", dr[1], dr[2], dr[3], dr[5], dr[6]);
    fma_d(dr, da, db, N); mixbuf(dr, sizeof dr);
    hadd_pairs(u32r, u32a, N); mixbuf(u32r, sizeof u32r);
    hsub_pairs(i16r, i16a, N); mixbuf(i16r, sizeof i16r);
    mulhrs_i16(i16r, i16a, i16b, N); mixbuf(i16r, sizeof i16r);
    sign_i32(u32r, u32a, i32b, N); mixbuf(u32r, sizeof u32r);
    printf("element-wise 5 %016llx\n", (unsigned long long)hash);

    /* Library string routines on the same text: glibc picks its SSE4.2/SSSE3 variants from CPUID. */
    printf("lib %zu %zu %zu %d %d\n", strlen(text), strcspn(text, "XYZ.\t"), strspn(text, "the Quickbrown"),
           strcmp(text, up) > 0, strncmp(text, text + 1, 40) > 0);
    char *hit = strstr(text, "lazy dogs");
    printf("strstr %ld %ld\n", hit ? (long)(hit - text) : -1L, strpbrk(text, "Z42") ? (long)(strpbrk(text, "Z42") - text) : -1L);
    printf("hash %016llx\n", (unsigned long long)hash);
    return 0;
}
