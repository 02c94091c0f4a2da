/* SSE3, SSSE3, SSE4.1 and SSE4.2 through <immintrin.h>: every instruction with edge-case and
   seeded pseudo-random inputs, results printed in hex. Each operation is compiled twice, once
   with the source in a register and once with it in (aligned) memory so gcc folds the load into
   the instruction; the memory form prints only where it differs from the register form. The
   string compares run for all 128 immediates, and inline asm checks their memory forms at
   unaligned addresses, the REX.W explicit-length form, and the full RFLAGS they leave. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>

#define NOINL __attribute__((noinline, noclone))

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static void px(const char *tag, int k, __m128i v)
{
    uint64_t q[2];
    memcpy(q, &v, 16);
    printf("%s %d %016llx%016llx\n", tag, k, (unsigned long long)q[1], (unsigned long long)q[0]);
}

static __m128i mk64(uint64_t hi, uint64_t lo) { return _mm_set_epi64x((long long)hi, (long long)lo); }

/* ---- input sets (16-byte aligned so the memory forms may fold aligned loads) ---- */

#define NI 28
#define NF 28
#define ND 28
static __m128i ints[NI] __attribute__((aligned(16)));
static __m128i flts[NF] __attribute__((aligned(16)));
static __m128i dbls[ND] __attribute__((aligned(16)));

static const uint32_t fedge[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0xbf000000, 0x3fc00000, 0xbfc00000,
    0x40200000, 0xc0200000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0xff812345,
    0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x4b000001, 0x4affffff, 0x3effffff, 0x3f7fffff,
    0x40490fdb, 0xc2f6e979, 0x4e6e6b28, 0xcb400000, 0x3f800001, 0x46fffe00,
};
static const uint64_t dedge[] = {
    0x0000000000000000ULL, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0xbff0000000000000ULL,
    0x3fe0000000000000ULL, 0xbfe0000000000000ULL, 0x3ff8000000000000ULL, 0xbff8000000000000ULL,
    0x4004000000000000ULL, 0xc004000000000000ULL, 0x7ff0000000000000ULL, 0xfff0000000000000ULL,
    0x7ff8000000000000ULL, 0xfff8000000000001ULL, 0x7ff0000000000001ULL, 0xfff0123456789abcULL,
    0x0000000000000001ULL, 0x800fffffffffffffULL, 0x7fefffffffffffffULL, 0xffefffffffffffffULL,
    0x4330000000000001ULL, 0x432fffffffffffffULL, 0x3fdfffffffffffffULL, 0x3fefffffffffffffULL,
    0x400921fb54442d18ULL, 0xc05edd2f1a9fbe77ULL, 0x43e0000000000000ULL, 0x3ff0000000000001ULL,
};

static uint32_t rand_float_bits(void)
{
    uint64_t r = rnd();
    switch (r % 4) {
    case 0: return fedge[(r >> 8) % (sizeof fedge / 4)];
    case 1: return (uint32_t)(r >> 16);                         /* any bits, NaNs included */
    default: {                                                   /* moderate values, many halves */
        float f = (float)((int64_t)(r >> 20) % 2000001 - 1000000) / (float)(1 << ((r >> 4) % 12));
        uint32_t u;
        memcpy(&u, &f, 4);
        return u;
    }
    }
}

static uint64_t rand_double_bits(void)
{
    uint64_t r = rnd();
    switch (r % 4) {
    case 0: return dedge[(r >> 8) % (sizeof dedge / 8)];
    case 1: return rnd();
    default: {
        double d = (double)((int64_t)(r >> 20) % 20000001 - 10000000) / (double)(1 << ((r >> 4) % 16));
        uint64_t u;
        memcpy(&u, &d, 8);
        return u;
    }
    }
}

static void init_inputs(void)
{
    int k = 0;
    ints[k++] = _mm_setzero_si128();
    ints[k++] = _mm_set1_epi8(-1);
    ints[k++] = _mm_set1_epi8((char)0x80);
    ints[k++] = _mm_set1_epi8(0x7f);
    ints[k++] = _mm_set1_epi16((short)0x8000);
    ints[k++] = _mm_set1_epi16(0x7fff);
    ints[k++] = _mm_set1_epi32((int)0x80000000);
    ints[k++] = _mm_set1_epi32(0x7fffffff);
    ints[k++] = _mm_set1_epi64x((long long)0x8000000000000000ULL);
    ints[k++] = _mm_set1_epi64x(0x7fffffffffffffffLL);
    ints[k++] = _mm_set1_epi8(1);
    ints[k++] = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    ints[k++] = _mm_setr_epi8(-1, -2, -3, -4, -5, -6, -7, -8, 127, -128, 126, -127, 0x40, -0x40, 0x11, -0x11);
    ints[k++] = _mm_setr_epi16(1, -1, 0x7fff, -0x8000, 0x4000, -0x4000, 0x1234, -0x1234);
    ints[k++] = _mm_setr_epi32(1, -1, 0x7fffffff, (int)0x80000000);
    ints[k++] = _mm_setr_epi8((char)0x8f, (char)0x81, (char)0x02, (char)0xf3, (char)0x8c, (char)0x0d, (char)0x96, (char)0x07,
                              (char)0x1f, (char)0x90, (char)0x8a, (char)0x0b, (char)0x44, (char)0x85, (char)0x0e, (char)0xff);
    while (k < NI)
        ints[k++] = mk64(rnd(), rnd());

    for (k = 0; k < NF; k++) {
        uint32_t u[4];
        for (int e = 0; e < 4; e++)
            u[e] = k < 7 ? fedge[(k * 4 + e) % (sizeof fedge / 4)] : rand_float_bits();
        memcpy(&flts[k], u, 16);
    }
    for (k = 0; k < ND; k++) {
        uint64_t u[2];
        for (int e = 0; e < 2; e++)
            u[e] = k < 14 ? dedge[(k * 2 + e) % (sizeof dedge / 8)] : rand_double_bits();
        memcpy(&dbls[k], u, 16);
    }
}

/* ---- binary and unary operations, register and memory forms ---- */

typedef __m128i (*bin_rr)(__m128i, __m128i);
typedef __m128i (*bin_rm)(__m128i, const __m128i *);
typedef __m128i (*un_r)(__m128i);
typedef __m128i (*un_m)(const __m128i *);

#define BIN(name, expr) \
    static NOINL __m128i name##_rr(__m128i a, __m128i b) { return expr; } \
    static NOINL __m128i name##_rm(__m128i a, const __m128i *pb) { __m128i b = *pb; return expr; }
#define UN(name, expr) \
    static NOINL __m128i name##_r(__m128i a) { return expr; } \
    static NOINL __m128i name##_m(const __m128i *pa) { __m128i a = *pa; return expr; }

#define PS(x) _mm_castsi128_ps(x)
#define PD(x) _mm_castsi128_pd(x)
#define IPS(x) _mm_castps_si128(x)
#define IPD(x) _mm_castpd_si128(x)

/* SSE3 */
BIN(addsubps, IPS(_mm_addsub_ps(PS(a), PS(b))))
BIN(addsubpd, IPD(_mm_addsub_pd(PD(a), PD(b))))
BIN(haddps, IPS(_mm_hadd_ps(PS(a), PS(b))))
BIN(haddpd, IPD(_mm_hadd_pd(PD(a), PD(b))))
BIN(hsubps, IPS(_mm_hsub_ps(PS(a), PS(b))))
BIN(hsubpd, IPD(_mm_hsub_pd(PD(a), PD(b))))
UN(movshdup, IPS(_mm_movehdup_ps(PS(a))))
UN(movsldup, IPS(_mm_moveldup_ps(PS(a))))
UN(movddup, IPD(_mm_movedup_pd(PD(a))))

/* SSSE3 */
BIN(pshufb, _mm_shuffle_epi8(a, b))
BIN(phaddw, _mm_hadd_epi16(a, b))
BIN(phaddd, _mm_hadd_epi32(a, b))
BIN(phaddsw, _mm_hadds_epi16(a, b))
BIN(phsubw, _mm_hsub_epi16(a, b))
BIN(phsubd, _mm_hsub_epi32(a, b))
BIN(phsubsw, _mm_hsubs_epi16(a, b))
BIN(pmaddubsw, _mm_maddubs_epi16(a, b))
BIN(pmulhrsw, _mm_mulhrs_epi16(a, b))
BIN(psignb, _mm_sign_epi8(a, b))
BIN(psignw, _mm_sign_epi16(a, b))
BIN(psignd, _mm_sign_epi32(a, b))
UN(pabsb, _mm_abs_epi8(a))
UN(pabsw, _mm_abs_epi16(a))
UN(pabsd, _mm_abs_epi32(a))
BIN(palignr0, _mm_alignr_epi8(a, b, 0))
BIN(palignr1, _mm_alignr_epi8(a, b, 1))
BIN(palignr7, _mm_alignr_epi8(a, b, 7))
BIN(palignr15, _mm_alignr_epi8(a, b, 15))
BIN(palignr16, _mm_alignr_epi8(a, b, 16))
BIN(palignr17, _mm_alignr_epi8(a, b, 17))
BIN(palignr31, _mm_alignr_epi8(a, b, 31))

/* SSE4.1 */
UN(pmovsxbw, _mm_cvtepi8_epi16(a))
UN(pmovsxbd, _mm_cvtepi8_epi32(a))
UN(pmovsxbq, _mm_cvtepi8_epi64(a))
UN(pmovsxwd, _mm_cvtepi16_epi32(a))
UN(pmovsxwq, _mm_cvtepi16_epi64(a))
UN(pmovsxdq, _mm_cvtepi32_epi64(a))
UN(pmovzxbw, _mm_cvtepu8_epi16(a))
UN(pmovzxbd, _mm_cvtepu8_epi32(a))
UN(pmovzxbq, _mm_cvtepu8_epi64(a))
UN(pmovzxwd, _mm_cvtepu16_epi32(a))
UN(pmovzxwq, _mm_cvtepu16_epi64(a))
UN(pmovzxdq, _mm_cvtepu32_epi64(a))
BIN(pmulld, _mm_mullo_epi32(a, b))
BIN(pmuldq, _mm_mul_epi32(a, b))
BIN(pminsb, _mm_min_epi8(a, b))
BIN(pminsd, _mm_min_epi32(a, b))
BIN(pminuw, _mm_min_epu16(a, b))
BIN(pminud, _mm_min_epu32(a, b))
BIN(pmaxsb, _mm_max_epi8(a, b))
BIN(pmaxsd, _mm_max_epi32(a, b))
BIN(pmaxuw, _mm_max_epu16(a, b))
BIN(pmaxud, _mm_max_epu32(a, b))
BIN(pcmpeqq, _mm_cmpeq_epi64(a, b))
BIN(packusdw, _mm_packus_epi32(a, b))
BIN(pblendw00, _mm_blend_epi16(a, b, 0x00))
BIN(pblendw5a, _mm_blend_epi16(a, b, 0x5a))
BIN(pblendwc3, _mm_blend_epi16(a, b, 0xc3))
BIN(blendps6, IPS(_mm_blend_ps(PS(a), PS(b), 6)))
BIN(blendps9, IPS(_mm_blend_ps(PS(a), PS(b), 9)))
BIN(blendpd1, IPD(_mm_blend_pd(PD(a), PD(b), 1)))
BIN(blendpd2, IPD(_mm_blend_pd(PD(a), PD(b), 2)))
BIN(pcmpgtq, _mm_cmpgt_epi64(a, b))
BIN(dpps_ff, IPS(_mm_dp_ps(PS(a), PS(b), 0xff)))
BIN(dpps_71, IPS(_mm_dp_ps(PS(a), PS(b), 0x71)))
BIN(dpps_a6, IPS(_mm_dp_ps(PS(a), PS(b), 0xa6)))
BIN(dpps_3c, IPS(_mm_dp_ps(PS(a), PS(b), 0x3c)))
BIN(dppd_33, IPD(_mm_dp_pd(PD(a), PD(b), 0x33)))
BIN(dppd_12, IPD(_mm_dp_pd(PD(a), PD(b), 0x12)))
BIN(dppd_21, IPD(_mm_dp_pd(PD(a), PD(b), 0x21)))
BIN(mpsadbw0, _mm_mpsadbw_epu8(a, b, 0))
BIN(mpsadbw3, _mm_mpsadbw_epu8(a, b, 3))
BIN(mpsadbw5, _mm_mpsadbw_epu8(a, b, 5))
BIN(mpsadbw7, _mm_mpsadbw_epu8(a, b, 7))
UN(phminposuw, _mm_minpos_epu16(a))
BIN(insertps_00, IPS(_mm_insert_ps(PS(a), PS(b), 0x00)))
BIN(insertps_5c, IPS(_mm_insert_ps(PS(a), PS(b), 0x5c)))
BIN(insertps_e3, IPS(_mm_insert_ps(PS(a), PS(b), 0xe3)))
BIN(insertps_b1, IPS(_mm_insert_ps(PS(a), PS(b), 0xb1)))
BIN(insertps_20, IPS(_mm_insert_ps(PS(a), PS(b), 0x20)))
BIN(roundss0, IPS(_mm_round_ss(PS(a), PS(b), 0)))
BIN(roundss9, IPS(_mm_round_ss(PS(a), PS(b), 9)))
BIN(roundsd2, IPD(_mm_round_sd(PD(a), PD(b), 2)))
BIN(roundsd11, IPD(_mm_round_sd(PD(a), PD(b), 11)))
BIN(roundss4, IPS(_mm_round_ss(PS(a), PS(b), 4)))
BIN(roundsd4, IPD(_mm_round_sd(PD(a), PD(b), 4)))

#define ROUNDS(imm) \
    UN(roundps##imm, IPS(_mm_round_ps(PS(a), imm))) \
    UN(roundpd##imm, IPD(_mm_round_pd(PD(a), imm)))
ROUNDS(0) ROUNDS(1) ROUNDS(2) ROUNDS(3) ROUNDS(4) ROUNDS(5) ROUNDS(6) ROUNDS(7)
ROUNDS(8) ROUNDS(9) ROUNDS(10) ROUNDS(11) ROUNDS(12) ROUNDS(13) ROUNDS(14) ROUNDS(15)

struct bin { const char *name; bin_rr rr; bin_rm rm; int set; };
struct un { const char *name; un_r r; un_m m; int set; };
#define B(n, s) { #n, n##_rr, n##_rm, s }
#define U(n, s) { #n, n##_r, n##_m, s }
enum { SI, SF, SD };

static const struct bin bins[] = {
    B(addsubps, SF), B(addsubpd, SD), B(haddps, SF), B(haddpd, SD), B(hsubps, SF), B(hsubpd, SD),
    B(pshufb, SI), B(phaddw, SI), B(phaddd, SI), B(phaddsw, SI), B(phsubw, SI), B(phsubd, SI), B(phsubsw, SI),
    B(pmaddubsw, SI), B(pmulhrsw, SI), B(psignb, SI), B(psignw, SI), B(psignd, SI),
    B(palignr0, SI), B(palignr1, SI), B(palignr7, SI), B(palignr15, SI), B(palignr16, SI), B(palignr17, SI), B(palignr31, SI),
    B(pmulld, SI), B(pmuldq, SI), B(pminsb, SI), B(pminsd, SI), B(pminuw, SI), B(pminud, SI),
    B(pmaxsb, SI), B(pmaxsd, SI), B(pmaxuw, SI), B(pmaxud, SI), B(pcmpeqq, SI), B(packusdw, SI),
    B(pblendw00, SI), B(pblendw5a, SI), B(pblendwc3, SI), B(blendps6, SF), B(blendps9, SF), B(blendpd1, SD), B(blendpd2, SD),
    B(pcmpgtq, SI), B(dpps_ff, SF), B(dpps_71, SF), B(dpps_a6, SF), B(dpps_3c, SF), B(dppd_33, SD), B(dppd_12, SD), B(dppd_21, SD),
    B(mpsadbw0, SI), B(mpsadbw3, SI), B(mpsadbw5, SI), B(mpsadbw7, SI),
    B(insertps_00, SF), B(insertps_5c, SF), B(insertps_e3, SF), B(insertps_b1, SF), B(insertps_20, SF),
    B(roundss0, SF), B(roundss9, SF), B(roundsd2, SD), B(roundsd11, SD), B(roundss4, SF), B(roundsd4, SD),
};

#define UR(imm) U(roundps##imm, SF), U(roundpd##imm, SD)
static const struct un uns[] = {
    U(movshdup, SF), U(movsldup, SF), U(movddup, SD), U(pabsb, SI), U(pabsw, SI), U(pabsd, SI),
    U(pmovsxbw, SI), U(pmovsxbd, SI), U(pmovsxbq, SI), U(pmovsxwd, SI), U(pmovsxwq, SI), U(pmovsxdq, SI),
    U(pmovzxbw, SI), U(pmovzxbd, SI), U(pmovzxbq, SI), U(pmovzxwd, SI), U(pmovzxwq, SI), U(pmovzxdq, SI),
    U(phminposuw, SI),
    UR(0), UR(1), UR(2), UR(3), UR(4), UR(5), UR(6), UR(7), UR(8), UR(9), UR(10), UR(11), UR(12), UR(13), UR(14), UR(15),
};

static const __m128i *set_of(int s) { return s == SI ? ints : s == SF ? flts : dbls; }

static int eq128(__m128i x, __m128i y) { return memcmp(&x, &y, 16) == 0; }

static void run_bins(void)
{
    for (unsigned t = 0; t < sizeof bins / sizeof bins[0]; t++) {
        const __m128i *v = set_of(bins[t].set);
        int k = 0;
        for (int x = 0; x < NI; x++)
            for (int y = 0; y < 6; y++, k++) {
                int j = (x * 5 + y * 7 + (y > 2 ? 3 : 0)) % NI;
                __m128i r = bins[t].rr(v[x], v[j]);
                px(bins[t].name, k, r);
                __m128i m = bins[t].rm(v[x], &v[j]);
                if (!eq128(r, m))
                    px("  memory form differs", k, m);
            }
    }
}

static void run_uns(void)
{
    for (unsigned t = 0; t < sizeof uns / sizeof uns[0]; t++) {
        const __m128i *v = set_of(uns[t].set);
        for (int x = 0; x < NI; x++) {
            __m128i r = uns[t].r(v[x]);
            px(uns[t].name, x, r);
            __m128i m = uns[t].m(&v[x]);
            if (!eq128(r, m))
                px("  memory form differs", x, m);
        }
    }
}

/* ROUND with imm bit 2 uses MXCSR.RC: run those forms under each rounding mode. */
static void run_mxcsr_rounding(void)
{
    static const unsigned modes[] = { _MM_ROUND_NEAREST, _MM_ROUND_DOWN, _MM_ROUND_UP, _MM_ROUND_TOWARD_ZERO };
    unsigned saved = _mm_getcsr();
    for (int md = 0; md < 4; md++) {
        __m128i out[4][NF];
        _mm_setcsr((saved & ~0x6000u) | modes[md]);
        for (int x = 0; x < NF; x++) {
            out[0][x] = roundps4_r(flts[x]);
            out[1][x] = roundpd12_m(&dbls[x]);
            out[2][x] = roundss4_rm(flts[(x + 3) % NF], &flts[x]);
            out[3][x] = roundsd4_rr(dbls[(x + 5) % ND], dbls[x]);
        }
        _mm_setcsr(saved);
        for (int x = 0; x < NF; x++) {
            printf("mxcsr-round mode %d:", md);
            px("", x, out[0][x]);
            px("   pd", x, out[1][x]);
            px("   ss", x, out[2][x]);
            px("   sd", x, out[3][x]);
        }
    }
}

/* ---- blendv (implicit XMM0), ptest, lddqu, movntdqa ---- */

static NOINL __m128i pblendvb_rr(__m128i a, __m128i b, __m128i m) { return _mm_blendv_epi8(a, b, m); }
static NOINL __m128i pblendvb_rm(__m128i a, const __m128i *b, __m128i m) { return _mm_blendv_epi8(a, *b, m); }
static NOINL __m128i blendvps_rr(__m128i a, __m128i b, __m128i m) { return IPS(_mm_blendv_ps(PS(a), PS(b), PS(m))); }
static NOINL __m128i blendvps_rm(__m128i a, const __m128i *b, __m128i m) { return IPS(_mm_blendv_ps(PS(a), PS(*b), PS(m))); }
static NOINL __m128i blendvpd_rr(__m128i a, __m128i b, __m128i m) { return IPD(_mm_blendv_pd(PD(a), PD(b), PD(m))); }
static NOINL __m128i blendvpd_rm(__m128i a, const __m128i *b, __m128i m) { return IPD(_mm_blendv_pd(PD(a), PD(*b), PD(m))); }

static NOINL int ptest_r(__m128i a, __m128i b)
{
    return _mm_testz_si128(a, b) | _mm_testc_si128(a, b) << 1 | _mm_testnzc_si128(a, b) << 2;
}
static NOINL int ptest_m(__m128i a, const __m128i *b)
{
    return _mm_testz_si128(a, *b) | _mm_testc_si128(a, *b) << 1 | _mm_testnzc_si128(a, *b) << 2;
}

/* The whole of RFLAGS after PTEST, set beforehand to all arithmetic flags on: AF PF SF OF must clear. */
static NOINL unsigned long ptest_flags(__m128i a, __m128i b)
{
    unsigned long fl;
    __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpushq $0x8d5\n\tpopfq\n\tptest %[b], %[a]\n\tpushfq\n\tpopq %[fl]\n\tlea 128(%%rsp), %%rsp"
                     : [fl] "=&r"(fl) : [a] "x"(a), [b] "x"(b) : "cc");
    return fl & 0x8d5;
}

static NOINL __m128i lddqu_at(const void *p) { return _mm_lddqu_si128((const __m128i *)p); }
static NOINL __m128i movntdqa_at(const void *p) { return _mm_stream_load_si128((__m128i *)p); }
static NOINL __m128i movddup_at(const void *p) { return IPD(_mm_loaddup_pd((const double *)p)); }

static void run_misc(void)
{
    int k = 0;
    for (int x = 0; x < NI; x++)
        for (int y = 0; y < 4; y++, k++) {
            int j = (x * 3 + y * 11 + 1) % NI, mi = (x + y * 5) % NI;
            __m128i m = ints[mi];
            __m128i r = pblendvb_rr(ints[x], ints[j], m);
            px("pblendvb", k, r);
            if (!eq128(r, pblendvb_rm(ints[x], &ints[j], m))) px("  memory form differs", k, pblendvb_rm(ints[x], &ints[j], m));
            r = blendvps_rr(flts[x], flts[j], m);
            px("blendvps", k, r);
            if (!eq128(r, blendvps_rm(flts[x], &flts[j], m))) px("  memory form differs", k, blendvps_rm(flts[x], &flts[j], m));
            r = blendvpd_rr(dbls[x], dbls[j], m);
            px("blendvpd", k, r);
            if (!eq128(r, blendvpd_rm(dbls[x], &dbls[j], m))) px("  memory form differs", k, blendvpd_rm(dbls[x], &dbls[j], m));
        }

    for (int x = 0; x < NI; x++)
        for (int y = 0; y < NI; y += 3) {
            __m128i a = ints[x], b = ints[y];
            if (y % 2) b = _mm_and_si128(b, a);          /* CF cases */
            if (y % 5 == 1) b = _mm_andnot_si128(a, b);   /* ZF cases */
            int r = ptest_r(a, b), m = ptest_m(a, &ints[y]), m2 = ptest_r(a, ints[y]);
            printf("ptest %d %d %x %lx %s\n", x, y, r, ptest_flags(a, b), m == m2 ? "" : "memory form differs");
        }

    static unsigned char buf[96] __attribute__((aligned(16)));
    for (int e = 0; e < 96; e++)
        buf[e] = (unsigned char)(rnd() >> 24);
    for (int off = 0; off < 17; off++) {
        px("lddqu", off, lddqu_at(buf + off));
        px("movddup-m64", off, movddup_at(buf + off));
    }
    for (int off = 0; off < 80; off += 16)
        px("movntdqa", off, movntdqa_at(buf + off));
}

/* ---- element insert/extract ---- */

#define EXTRACTS(n) \
    static NOINL void extract_##n(__m128i a, uint64_t *out, unsigned char *m8, uint16_t *m16, uint32_t *m32, uint64_t *m64) \
    { \
        out[0] = (uint32_t)_mm_extract_epi8(a, n); \
        out[1] = (uint32_t)_mm_extract_epi16(a, n & 7); \
        out[2] = (uint32_t)_mm_extract_epi32(a, n & 3); \
        out[3] = (uint64_t)_mm_extract_epi64(a, n & 1); \
        out[4] = (uint32_t)_mm_extract_ps(PS(a), n & 3); \
        *m8 = (unsigned char)_mm_extract_epi8(a, n); \
        *m16 = (uint16_t)_mm_extract_epi16(a, n & 7); \
        *m32 = (uint32_t)_mm_extract_epi32(a, n & 3); \
        *m64 = (uint64_t)_mm_extract_epi64(a, n & 1); \
        m32[1] = (uint32_t)_mm_extract_ps(PS(a), n & 3); \
    } \
    static NOINL __m128i insert_r_##n(__m128i a, int b8, int b32, long long b64) \
    { \
        a = _mm_insert_epi8(a, b8, n); \
        a = _mm_insert_epi32(a, b32, n & 3); \
        a = _mm_insert_epi16(a, b32 >> 7, (n + 3) & 7); \
        return _mm_insert_epi64(a, b64, n & 1); \
    } \
    static NOINL __m128i insert_m8_##n(__m128i a, const unsigned char *p) { return _mm_insert_epi8(a, *p, n); } \
    static NOINL __m128i insert_m16_##n(__m128i a, const uint16_t *p) { return _mm_insert_epi16(a, *p, n & 7); } \
    static NOINL __m128i insert_m32_##n(__m128i a, const int *p) { return _mm_insert_epi32(a, *p, n & 3); } \
    static NOINL __m128i insert_m64_##n(__m128i a, const long long *p) { return _mm_insert_epi64(a, *p, n & 1); } \
    static NOINL __m128i insertps_m_##n(__m128i a, const float *p) { return IPS(_mm_insert_ps(PS(a), _mm_load_ss(p), (n & 3) << 4 | (n >> 2))); }
EXTRACTS(0) EXTRACTS(1) EXTRACTS(2) EXTRACTS(3) EXTRACTS(4) EXTRACTS(5) EXTRACTS(6) EXTRACTS(7)
EXTRACTS(8) EXTRACTS(9) EXTRACTS(10) EXTRACTS(11) EXTRACTS(12) EXTRACTS(13) EXTRACTS(14) EXTRACTS(15)

typedef void (*extract_fn)(__m128i, uint64_t *, unsigned char *, uint16_t *, uint32_t *, uint64_t *);
#define EX(n) extract_##n
#define IR(n) insert_r_##n
static const extract_fn extracts[16] = { EX(0), EX(1), EX(2), EX(3), EX(4), EX(5), EX(6), EX(7), EX(8), EX(9), EX(10), EX(11), EX(12), EX(13), EX(14), EX(15) };
static __m128i (*const inserts[16])(__m128i, int, int, long long) = { IR(0), IR(1), IR(2), IR(3), IR(4), IR(5), IR(6), IR(7), IR(8), IR(9), IR(10), IR(11), IR(12), IR(13), IR(14), IR(15) };
#define IM(n) { insert_m8_##n, insert_m16_##n, insert_m32_##n, insert_m64_##n, insertps_m_##n }
struct insm {
    __m128i (*m8)(__m128i, const unsigned char *);
    __m128i (*m16)(__m128i, const uint16_t *);
    __m128i (*m32)(__m128i, const int *);
    __m128i (*m64)(__m128i, const long long *);
    __m128i (*ps)(__m128i, const float *);
};
static const struct insm insms[16] = { IM(0), IM(1), IM(2), IM(3), IM(4), IM(5), IM(6), IM(7), IM(8), IM(9), IM(10), IM(11), IM(12), IM(13), IM(14), IM(15) };

static void run_insert_extract(void)
{
    static unsigned char mem[64] __attribute__((aligned(16)));
    for (int x = 0; x < NI; x += 2)
        for (int n = 0; n < 16; n++) {
            uint64_t out[5], m64 = 0;
            unsigned char m8 = 0;
            uint16_t m16 = 0;
            uint32_t m32[2] = { 0, 0 };
            extracts[n](ints[x], out, &m8, &m16, m32, &m64);
            printf("extract %d %d %llx %llx %llx %llx %llx | %x %x %x %llx %x\n", x, n,
                   (unsigned long long)out[0], (unsigned long long)out[1], (unsigned long long)out[2],
                   (unsigned long long)out[3], (unsigned long long)out[4], m8, m16, m32[0], (unsigned long long)m64, m32[1]);
            uint64_t r = rnd();
            px("insert-r", n, inserts[n](ints[x], (int)r, (int)(r >> 16), (long long)rnd()));
            for (int e = 0; e < 64; e++)
                mem[e] = (unsigned char)rnd();
            int o = (int)(r % 40);
            px("insert-m8", n, insms[n].m8(ints[x], mem + o));
            px("insert-m16", n, insms[n].m16(ints[x], (const uint16_t *)(mem + o)));
            px("insert-m32", n, insms[n].m32(ints[x], (const int *)(mem + o)));
            px("insert-m64", n, insms[n].m64(ints[x], (const long long *)(mem + o)));
            px("insertps-m32", n, insms[n].ps(flts[x], (const float *)(mem + o)));
        }
}

/* ---- forms gcc does not emit from the intrinsics above, written out in asm ---- */

#define PMOVM(insn, width) \
    static NOINL __m128i asm_##insn(const void *p) \
    { \
        __m128i r; \
        __asm__(#insn " %1, %0" : "=x"(r) : "m"(*(const char(*)[width])p)); \
        return r; \
    }
PMOVM(pmovsxbw, 8) PMOVM(pmovsxbd, 4) PMOVM(pmovsxbq, 2) PMOVM(pmovsxwd, 8) PMOVM(pmovsxwq, 4) PMOVM(pmovsxdq, 8)
PMOVM(pmovzxbw, 8) PMOVM(pmovzxbd, 4) PMOVM(pmovzxbq, 2) PMOVM(pmovzxwd, 8) PMOVM(pmovzxwq, 4) PMOVM(pmovzxdq, 8)

#define PEXTRM(n) \
    static NOINL void asm_extract_m_##n(__m128i a, unsigned char *p) \
    { \
        __asm__("pextrb %2, %1, %0" : "=m"(p[0]) : "x"(a), "i"(n)); \
        __asm__("pextrw %2, %1, %0" : "=m"(*(uint16_t *)(p + 1)) : "x"(a), "i"(n & 7)); \
        __asm__("pextrd %2, %1, %0" : "=m"(*(uint32_t *)(p + 3)) : "x"(a), "i"(n & 3)); \
        __asm__("pextrq %2, %1, %0" : "=m"(*(uint64_t *)(p + 7)) : "x"(a), "i"(n & 1)); \
        __asm__("extractps %2, %1, %0" : "=m"(*(uint32_t *)(p + 15)) : "x"(a), "i"(n & 3)); \
    } \
    static NOINL void asm_extract_r64_##n(__m128i a, uint64_t *out) \
    { \
        uint64_t r0 = ~0ULL, r1 = ~0ULL, r2 = ~0ULL, r3 = ~0ULL; \
        /* the REX.W encodings (r64 destinations): 66 48 0F 3A 14 /r and 66 48 0F 3A 17 /r */ \
        __asm__(".byte 0x66, 0x48, 0x0f, 0x3a, 0x14, 0xc2, %c1" : "+d"(r0) : "i"(n), "Yz"(a)); \
        __asm__(".byte 0x66, 0x48, 0x0f, 0x3a, 0x17, 0xc1, %c1" : "+c"(r1) : "i"(n & 3), "Yz"(a)); \
        /* PEXTRW r32, xmm, imm8 in its SSE4.1 encoding 66 0F 3A 15 /r (register form) */ \
        __asm__(".byte 0x66, 0x0f, 0x3a, 0x15, 0xc0, %c1" : "+a"(r2) : "i"(n & 7), "Yz"(a)); \
        __asm__("pextrw %1, %2, %k0" : "+r"(r3) : "i"(n & 7), "x"(a)); \
        out[0] = r0; out[1] = r1; out[2] = r2; out[3] = r3; \
    }
PEXTRM(0) PEXTRM(3) PEXTRM(6) PEXTRM(9) PEXTRM(13) PEXTRM(15)

static NOINL __m128i asm_movddup_r(__m128i a)
{
    __m128i r;
    __asm__("movddup %1, %0" : "=x"(r) : "x"(a));
    return r;
}

#define PALIGNR_BIG(n) \
    static NOINL __m128i asm_palignr_##n(__m128i a, __m128i b) \
    { \
        __asm__("palignr %2, %1, %0" : "+x"(a) : "x"(b), "i"(n)); \
        return a; \
    }
PALIGNR_BIG(32) PALIGNR_BIG(33) PALIGNR_BIG(200) PALIGNR_BIG(255)

static void run_asm_forms(void)
{
    static unsigned char buf[64] __attribute__((aligned(16)));
    __m128i (*const pm[12])(const void *) = {
        asm_pmovsxbw, asm_pmovsxbd, asm_pmovsxbq, asm_pmovsxwd, asm_pmovsxwq, asm_pmovsxdq,
        asm_pmovzxbw, asm_pmovzxbd, asm_pmovzxbq, asm_pmovzxwd, asm_pmovzxwq, asm_pmovzxdq,
    };
    for (int e = 0; e < 64; e++)
        buf[e] = (unsigned char)(rnd() >> 40);
    for (int off = 0; off < 24; off += 3)
        for (int k = 0; k < 12; k++)
            px("pmov-m", off * 16 + k, pm[k](buf + off));
    void (*const em[6])(__m128i, unsigned char *) = {
        asm_extract_m_0, asm_extract_m_3, asm_extract_m_6, asm_extract_m_9, asm_extract_m_13, asm_extract_m_15,
    };
    void (*const er[6])(__m128i, uint64_t *) = {
        asm_extract_r64_0, asm_extract_r64_3, asm_extract_r64_6, asm_extract_r64_9, asm_extract_r64_13, asm_extract_r64_15,
    };
    for (int x = 0; x < NI; x += 3)
        for (int k = 0; k < 6; k++) {
            uint64_t out[4];
            memset(buf, 0xee, 32);
            em[k](ints[x], buf + 5);
            er[k](ints[x], out);
            printf("extract-asm %d %d", x, k);
            for (int e = 0; e < 24; e++) printf(" %02x", buf[e]);
            printf(" | %llx %llx %llx %llx\n", (unsigned long long)out[0], (unsigned long long)out[1],
                   (unsigned long long)out[2], (unsigned long long)out[3]);
        }
    for (int x = 0; x < ND; x++)
        px("movddup-r", x, asm_movddup_r(dbls[x]));
    for (int x = 0; x < 4; x++) {
        px("palignr-32", x, asm_palignr_32(ints[x + 10], ints[x + 16]));
        px("palignr-33", x, asm_palignr_33(ints[x + 10], ints[x + 16]));
        px("palignr-200", x, asm_palignr_200(ints[x + 10], ints[x + 16]));
        px("palignr-255", x, asm_palignr_255(ints[x + 10], ints[x + 16]));
    }
}

/* ---- CRC32 ---- */

static NOINL uint32_t crc_u8(uint32_t c, unsigned char v) { return _mm_crc32_u8(c, v); }
static NOINL uint32_t crc_u16(uint32_t c, uint16_t v) { return _mm_crc32_u16(c, v); }
static NOINL uint32_t crc_u32(uint32_t c, uint32_t v) { return _mm_crc32_u32(c, v); }
static NOINL uint64_t crc_u64(uint64_t c, uint64_t v) { return _mm_crc32_u64(c, v); }
static NOINL uint32_t crc_m8(uint32_t c, const unsigned char *p) { return _mm_crc32_u8(c, *p); }
static NOINL uint32_t crc_m16(uint32_t c, const uint16_t *p) { return _mm_crc32_u16(c, *p); }
static NOINL uint32_t crc_m32(uint32_t c, const uint32_t *p) { return _mm_crc32_u32(c, *p); }
static NOINL uint64_t crc_m64(uint64_t c, const uint64_t *p) { return _mm_crc32_u64(c, *p); }
/* crc32b into a 64-bit register (REX.W F2 0F 38 F0): upper bits of the accumulator are ignored and cleared. */
static NOINL uint64_t crc_q_b(uint64_t c, unsigned char v)
{
    __asm__("crc32b %1, %0" : "+r"(c) : "q"(v));
    return c;
}

static NOINL uint32_t crc_buffer(const unsigned char *p, size_t n)
{
    uint64_t c = 0xffffffff;
    while (n >= 8) { uint64_t q; memcpy(&q, p, 8); c = _mm_crc32_u64(c, q); p += 8; n -= 8; }
    uint32_t c32 = (uint32_t)c;
    if (n >= 4) { uint32_t d; memcpy(&d, p, 4); c32 = _mm_crc32_u32(c32, d); p += 4; n -= 4; }
    if (n >= 2) { uint16_t w; memcpy(&w, p, 2); c32 = _mm_crc32_u16(c32, w); p += 2; n -= 2; }
    if (n) c32 = _mm_crc32_u8(c32, *p);
    return ~c32;
}

static void run_crc(void)
{
    static unsigned char buf[300];
    for (int e = 0; e < 300; e++)
        buf[e] = (unsigned char)(rnd() >> 33);
    for (int n = 0; n < 300; n += 7)
        printf("crc-buffer %d %08x\n", n, crc_buffer(buf, n));
    static const char check[] = "123456789";
    printf("crc-check %08x\n", crc_buffer((const unsigned char *)check, 9)); /* CRC-32C: e3069283 */
    for (int k = 0; k < 40; k++) {
        uint64_t c = k < 4 ? (k < 2 ? 0 : ~0ULL) : rnd(), v = k & 1 ? ~0ULL : rnd();
        unsigned char b = (unsigned char)v;
        uint16_t w = (uint16_t)v;
        uint32_t d = (uint32_t)v;
        printf("crc %d %08x %08x %08x %016llx %08x %08x %08x %016llx %016llx\n", k,
               crc_u8((uint32_t)c, b), crc_u16((uint32_t)c, w), crc_u32((uint32_t)c, d),
               (unsigned long long)crc_u64(c, v), crc_m8((uint32_t)c, &b), crc_m16((uint32_t)c, &w),
               crc_m32((uint32_t)c, &d), (unsigned long long)crc_m64(c, &v), (unsigned long long)crc_q_b(c, b));
    }
}

/* ---- PCMPxSTRx for all 128 immediates ---- */

#define HEX8(F, hi) F(hi, 0) F(hi, 1) F(hi, 2) F(hi, 3) F(hi, 4) F(hi, 5) F(hi, 6) F(hi, 7) \
                    F(hi, 8) F(hi, 9) F(hi, a) F(hi, b) F(hi, c) F(hi, d) F(hi, e) F(hi, f)
#define ALL128(F) HEX8(F, 0) HEX8(F, 1) HEX8(F, 2) HEX8(F, 3) HEX8(F, 4) HEX8(F, 5) HEX8(F, 6) HEX8(F, 7)

/* Intrinsics, register operands: index plus the five flag predicates packed into one word. */
#define DEF_STR(hi, lo) \
    static NOINL unsigned istri_##hi##lo(__m128i a, __m128i b) \
    { \
        enum { I = 0x##hi##lo }; \
        return (unsigned)_mm_cmpistri(a, b, I) | _mm_cmpistrc(a, b, I) << 8 | _mm_cmpistrz(a, b, I) << 9 | \
               _mm_cmpistrs(a, b, I) << 10 | _mm_cmpistro(a, b, I) << 11 | _mm_cmpistra(a, b, I) << 12; \
    } \
    static NOINL unsigned estri_##hi##lo(__m128i a, int la, __m128i b, int lb) \
    { \
        enum { I = 0x##hi##lo }; \
        return (unsigned)_mm_cmpestri(a, la, b, lb, I) | _mm_cmpestrc(a, la, b, lb, I) << 8 | \
               _mm_cmpestrz(a, la, b, lb, I) << 9 | _mm_cmpestrs(a, la, b, lb, I) << 10 | \
               _mm_cmpestro(a, la, b, lb, I) << 11 | _mm_cmpestra(a, la, b, lb, I) << 12; \
    } \
    static NOINL __m128i istrm_##hi##lo(__m128i a, __m128i b) { return _mm_cmpistrm(a, b, 0x##hi##lo); } \
    static NOINL __m128i estrm_##hi##lo(__m128i a, int la, __m128i b, int lb) { return _mm_cmpestrm(a, la, b, lb, 0x##hi##lo); } \
    /* asm, unaligned memory operand, RCX preloaded with junk, all of RFLAGS captured */ \
    static NOINL unsigned long asm_istri_##hi##lo(__m128i a, const void *p) \
    { \
        unsigned long rcx = 0xdeadbeefdeadbeefUL, fl; \
        __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpushq $0x8d5\n\tpopfq\n\tpcmpistri %[imm], %[m], %[a]\n\t" \
                         "pushfq\n\tpopq %[fl]\n\tlea 128(%%rsp), %%rsp" \
                         : "+c"(rcx), [fl] "=&r"(fl) : [a] "x"(a), [m] "m"(*(const char(*)[16])p), [imm] "i"(0x##hi##lo) : "cc"); \
        return rcx | (fl & 0x8d5) << 32; \
    } \
    static NOINL unsigned long asm_estri_##hi##lo(__m128i a, long la, const void *p, long lb) \
    { \
        unsigned long rcx = 0xdeadbeefdeadbeefUL, fl; \
        __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpushq $0x8d5\n\tpopfq\n\tpcmpestri %[imm], %[m], %[a]\n\t" \
                         "pushfq\n\tpopq %[fl]\n\tlea 128(%%rsp), %%rsp" \
                         : "+c"(rcx), [fl] "=&r"(fl) : [a] "x"(a), [m] "m"(*(const char(*)[16])p), "a"(la), "d"(lb), \
                           [imm] "i"(0x##hi##lo) : "cc"); \
        return rcx | (fl & 0x8d5) << 32; \
    } \
    static NOINL unsigned long asm_estriq_##hi##lo(__m128i a, long la, __m128i b, long lb) \
    { \
        unsigned long rcx = 0xdeadbeefdeadbeefUL; \
        __asm__ volatile("pcmpestriq %[imm], %[b], %[a]" : "+c"(rcx) : [a] "x"(a), [b] "x"(b), "a"(la), "d"(lb), \
                         [imm] "i"(0x##hi##lo) : "cc"); \
        return rcx; \
    } \
    static NOINL __m128i asm_istrm_##hi##lo(__m128i a, const void *p) \
    { \
        __m128i r; \
        __asm__ volatile("pcmpistrm %[imm], %[m], %[a]" : "=Yz"(r) : [a] "x"(a), [m] "m"(*(const char(*)[16])p), \
                         [imm] "i"(0x##hi##lo) : "cc"); \
        return r; \
    } \
    static NOINL __m128i asm_estrmq_##hi##lo(__m128i a, long la, const void *p, long lb) \
    { \
        __m128i r; \
        __asm__ volatile("pcmpestrmq %[imm], %[m], %[a]" : "=Yz"(r) : [a] "x"(a), [m] "m"(*(const char(*)[16])p), \
                         "a"(la), "d"(lb), [imm] "i"(0x##hi##lo) : "cc"); \
        return r; \
    }
ALL128(DEF_STR)

struct strfns {
    unsigned (*istri)(__m128i, __m128i);
    unsigned (*estri)(__m128i, int, __m128i, int);
    __m128i (*istrm)(__m128i, __m128i);
    __m128i (*estrm)(__m128i, int, __m128i, int);
    unsigned long (*asm_istri)(__m128i, const void *);
    unsigned long (*asm_estri)(__m128i, long, const void *, long);
    unsigned long (*asm_estriq)(__m128i, long, __m128i, long);
    __m128i (*asm_istrm)(__m128i, const void *);
    __m128i (*asm_estrmq)(__m128i, long, const void *, long);
};
#define STR_ENTRY(hi, lo) { istri_##hi##lo, estri_##hi##lo, istrm_##hi##lo, estrm_##hi##lo, asm_istri_##hi##lo, \
                            asm_estri_##hi##lo, asm_estriq_##hi##lo, asm_istrm_##hi##lo, asm_estrmq_##hi##lo },
static const struct strfns strs[128] = { ALL128(STR_ENTRY) };

#define NSTR 36
static __m128i sa[NSTR], sb[NSTR];
static int la32[NSTR], lb32[NSTR];
static long la64[NSTR], lb64[NSTR];

static void make_string(__m128i *v, int kind)
{
    static const unsigned char bytes[] = { 0, 'a', 'b', 'c', 'z', 'A', 'Z', '0', 0x80, 0xff, 0x7f, 'a', 'b', 'a' };
    static const uint16_t words[] = { 0, 0x61, 0x62, 0x63, 0x7a, 0x8000, 0xffff, 0x7fff, 0x6100, 0x0061, 0x62, 0x61 };
    unsigned char b[16];
    uint64_t r = rnd();
    int zero_at = (int)(r % 24);   /* some strings have no terminator in the register */
    if (kind == 0) {
        for (int e = 0; e < 16; e++) {
            b[e] = bytes[1 + rnd() % (sizeof bytes - 1)];
            if (e == zero_at) b[e] = 0;
        }
    } else if (kind == 1) {
        for (int e = 0; e < 8; e++) {
            uint16_t w = words[1 + rnd() % (sizeof words / 2 - 1)];
            if (e == zero_at / 2) w = 0;
            memcpy(b + 2 * e, &w, 2);
        }
    } else {
        for (int e = 0; e < 16; e++)
            b[e] = (unsigned char)rnd();
    }
    memcpy(v, b, 16);
}

static void init_strings(void)
{
    static const long lens[] = { 0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 100, -1, -3, -8, -9, -16, -17, INT_MAX, INT_MIN };
    static const char *const texts[][2] = {
        { "az", "Hello, World! 42" }, { "llo", "Hello, World! 42" }, { "AZaz", "mixed CASE text." },
        { "o", "foo bar baz quux" }, { "09", "abc123def456ghi7" }, { "\x80\xff", "\x7f\x80\x81\xfe\xff" },
        { "World", "Hello, World" }, { "xyz", "xy" }, { "", "nonempty" }, { "abc", "" },
    };
    int k = 0;
    for (; k < (int)(sizeof texts / sizeof texts[0]); k++) {
        char a[17] = { 0 }, b[17] = { 0 };
        strncpy(a, texts[k][0], 16);
        strncpy(b, texts[k][1], 16);
        memcpy(&sa[k], a, 16);
        memcpy(&sb[k], b, 16);
    }
    for (; k < NSTR; k++) {
        int kind = k % 3;
        make_string(&sa[k], kind);
        make_string(&sb[k], kind);
        if (k % 4 == 0) {   /* needle taken from the haystack, so EQUAL_ORDERED has hits */
            unsigned char h[16], n[16] = { 0 };
            memcpy(h, &sb[k], 16);
            int at = (int)(rnd() % 16), len = 1 + (int)(rnd() % 5);
            for (int e = 0; e < len && at + e < 16; e++) n[e] = h[at + e];
            memcpy(&sa[k], n, 16);
        }
    }
    for (k = 0; k < NSTR; k++) {
        uint64_t r = rnd();
        la64[k] = lens[r % 20];
        lb64[k] = lens[(r >> 8) % 20];
        if (k % 5 == 4) { la64[k] = (long)rnd(); lb64[k] = -(long)(rnd() >> 1); }
        la32[k] = (int)la64[k];
        lb32[k] = (int)lb64[k];
    }
}

static uint32_t hash128(__m128i v)
{
    unsigned char b[16];
    memcpy(b, &v, 16);
    uint32_t h = 2166136261u;
    for (int e = 0; e < 16; e++) h = (h ^ b[e]) * 16777619u;
    return h;
}

static void run_strings(void)
{
    static unsigned char mem[64] __attribute__((aligned(16)));
    init_strings();
    for (int imm = 0; imm < 128; imm++) {
        const struct strfns *f = &strs[imm];
        printf("pcmpistri %02x:", imm);
        for (int k = 0; k < NSTR; k++) printf(" %x", f->istri(sa[k], sb[k]));
        printf("\npcmpestri %02x:", imm);
        for (int k = 0; k < NSTR; k++) printf(" %x", f->estri(sa[k], la32[k], sb[k], lb32[k]));
        printf("\npcmpistrm %02x:", imm);
        for (int k = 0; k < NSTR; k++) printf(" %08x", hash128(f->istrm(sa[k], sb[k])));
        printf("\npcmpestrm %02x:", imm);
        for (int k = 0; k < NSTR; k++) printf(" %08x", hash128(f->estrm(sa[k], la32[k], sb[k], lb32[k])));
        printf("\nasm-m %02x:", imm);
        for (int k = 0; k < NSTR; k++) {
            int off = 1 + (k * 7 + imm) % 40;
            memcpy(mem + off, &sb[k], 16);
            printf(" %lx/%lx/%lx/%08x/%08x", f->asm_istri(sa[k], mem + off), f->asm_estri(sa[k], la64[k], mem + off, lb64[k]),
                   f->asm_estriq(sa[k], la64[k], sb[k], lb64[k]), hash128(f->asm_istrm(sa[k], mem + off)),
                   hash128(f->asm_estrmq(sa[k], la64[k], mem + off, lb64[k])));
        }
        printf("\n");
    }
    /* A whole-register dump for a few cases, so a mask mismatch is readable. */
    for (int k = 0; k < 12; k++) {
        px("istrm-40", k, strs[0x40].istrm(sa[k], sb[k]));
        px("istrm-4c", k, strs[0x4c].istrm(sa[k], sb[k]));
        px("estrm-45", k, strs[0x45].estrm(sa[k], la32[k], sb[k], lb32[k]));
        px("istrm-0c", k, strs[0x0c].istrm(sa[k], sb[k]));
    }
}

int main(void)
{
    init_inputs();
    run_bins();
    run_uns();
    run_mxcsr_rounding();
    run_misc();
    run_insert_extract();
    run_asm_forms();
    run_crc();
    run_strings();
    printf("done\n");
    return 0;
}
