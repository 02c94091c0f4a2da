/* AVX, FMA and F16C floating point through <immintrin.h> (built with -mavx2 -mfma -mf16c): packed and
   scalar arithmetic, all 32 compare predicates, fused multiply-add in its forms, horizontal adds, blends,
   permutes, shuffles, conversions, rounding, dot products and half-precision conversions, on edge values
   (zeros, denormals, infinities, NaNs) and seeded random ones, under each rounding mode and with FTZ/DAZ.
   Every result is printed in hex with the MXCSR flags it raised. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t rng = 0x853c49e6748fea9bULL;
static uint64_t rnd(void) { rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27; return rng * 2685821657736338717ULL; }

static const uint32_t edge32[] = { 0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001,
    0x7f800001, 0x00000001, 0x807fffff, 0x7f7fffff, 0x00800000, 0x4b000000, 0x3effffff, 0x40490fdb };
static const uint64_t edge64[] = { 0, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0xbff0000000000000ULL, 0x7ff0000000000000ULL,
    0xfff0000000000000ULL, 0x7ff8000000000000ULL, 0xfff8000000000001ULL, 0x7ff0000000000001ULL, 1, 0x800fffffffffffffULL,
    0x7fefffffffffffffULL, 0x0010000000000000ULL, 0x4330000000000000ULL, 0x3fdfffffffffffffULL, 0x400921fb54442d18ULL };

static __m256 ps(int k)
{
    uint32_t v[8];
    for (int j = 0; j < 8; j++) v[j] = (rnd() & 3) == 0 ? edge32[(k + j * 5 + (int)(rnd() & 15)) & 15] : (uint32_t)rnd() & 0xc7ffffffu;
    __m256 r; memcpy(&r, v, 32); return r;
}
static __m256d pd(int k)
{
    uint64_t v[4];
    for (int j = 0; j < 4; j++) v[j] = (rnd() & 3) == 0 ? edge64[(k + j * 3 + (int)(rnd() & 15)) & 15] : rnd() & 0xc7ffffffffffffffULL;
    __m256d r; memcpy(&r, v, 32); return r;
}

static unsigned flags(void) { unsigned m = _mm_getcsr(); _mm_setcsr(m & ~0x3fu); return m & 0x3f; }
static void p8(const char *t, __m256 v) { uint32_t q[8]; memcpy(q, &v, 32); printf("%s %08x%08x%08x%08x%08x%08x%08x%08x f%02x\n", t, q[7], q[6], q[5], q[4], q[3], q[2], q[1], q[0], flags()); }
static void p4(const char *t, __m256d v) { uint64_t q[4]; memcpy(q, &v, 32); printf("%s %016llx%016llx%016llx%016llx f%02x\n", t, (unsigned long long)q[3], (unsigned long long)q[2], (unsigned long long)q[1], (unsigned long long)q[0], flags()); }
static void px(const char *t, __m128i v) { uint64_t q[2]; memcpy(q, &v, 16); printf("%s %016llx%016llx f%02x\n", t, (unsigned long long)q[1], (unsigned long long)q[0], flags()); }
static void p4i(const char *t, __m256i v) { uint64_t q[4]; memcpy(q, &v, 32); printf("%s %016llx%016llx%016llx%016llx f%02x\n", t, (unsigned long long)q[3], (unsigned long long)q[2], (unsigned long long)q[1], (unsigned long long)q[0], flags()); }

#define CMP8(p) p8("cmpps" #p, _mm256_cmp_ps(a, b, p)); p4("cmppd" #p, _mm256_cmp_pd(c, d, p));

/* The immediates must be constants: one case per rounding control. */
#define EACH8(f, x) switch (imm) { case 0: return f(x, 0); case 1: return f(x, 1); case 2: return f(x, 2); case 3: return f(x, 3); \
    case 4: return f(x, 4); case 5: return f(x, 5); case 6: return f(x, 6); default: return f(x, 7); }
static __m256 round_ps(__m256 x, int imm) { EACH8(_mm256_round_ps, x) }
static __m256d round_pd(__m256d x, int imm) { EACH8(_mm256_round_pd, x) }
static __m128i cvtps_ph(__m256 x, int imm) { EACH8(_mm256_cvtps_ph, x) }

static float mem32[64] __attribute__((aligned(32)));

int main(void)
{
    for (int k = 0; k < 16; k++) mem32[k] = (float)k * 0.75f - 3.0f;
    for (int mode = 0; mode < 6; mode++)
    {
        unsigned csr = 0x1f80 | (unsigned)(mode & 3) << 13 | (mode == 4 ? 0x8040u : 0) | (mode == 5 ? 0x40u : 0);
        _mm_setcsr(csr);
        printf("mxcsr %04x\n", csr);
        for (int k = 0; k < 40; k++)
        {
            __m256 a = ps(k), b = ps(k + 1), e = ps(k + 2);
            __m256d c = pd(k), d = pd(k + 1), g = pd(k + 2);
            if (k % 9 == 0) b = a;
            p8("add", _mm256_add_ps(a, b)); p8("sub", _mm256_sub_ps(a, b)); p8("mul", _mm256_mul_ps(a, b)); p8("div", _mm256_div_ps(a, b));
            p8("min", _mm256_min_ps(a, b)); p8("max", _mm256_max_ps(a, b)); p8("sqrt", _mm256_sqrt_ps(a));
            p4("addpd", _mm256_add_pd(c, d)); p4("mulpd", _mm256_mul_pd(c, d)); p4("divpd", _mm256_div_pd(c, d)); p4("sqrtpd", _mm256_sqrt_pd(c));
            p8("addsub", _mm256_addsub_ps(a, b)); p8("hadd", _mm256_hadd_ps(a, b)); p4("haddpd", _mm256_hadd_pd(c, d));
            p8("fmadd", _mm256_fmadd_ps(a, b, e)); p8("fmsub", _mm256_fmsub_ps(a, b, e)); p8("fnmadd", _mm256_fnmadd_ps(a, b, e));
            p8("fnmsub", _mm256_fnmsub_ps(a, b, e)); p8("fmaddsub", _mm256_fmaddsub_ps(a, b, e)); p8("fmsubadd", _mm256_fmsubadd_ps(a, b, e));
            p4("fmaddpd", _mm256_fmadd_pd(c, d, g)); p4("fnmsubpd", _mm256_fnmsub_pd(c, d, g));
            __m128 s = _mm256_castps256_ps128(a), t = _mm256_castps256_ps128(b), u = _mm256_castps256_ps128(e);
            p8("fmaddss", _mm256_castps128_ps256(_mm_fmadd_ss(s, t, u)));
            p4("fmaddsd", _mm256_castpd128_pd256(_mm_fmadd_sd(_mm256_castpd256_pd128(c), _mm256_castpd256_pd128(d), _mm256_castpd256_pd128(g))));
            p8("addss", _mm256_castps128_ps256(_mm_add_ss(s, t))); p8("divss", _mm256_castps128_ps256(_mm_div_ss(s, t)));
            p8("sqrtss", _mm256_castps128_ps256(_mm_sqrt_ss(s)));
            CMP8(0) CMP8(1) CMP8(2) CMP8(3) CMP8(4) CMP8(5) CMP8(6) CMP8(7) CMP8(8) CMP8(9) CMP8(10) CMP8(11) CMP8(12) CMP8(13) CMP8(14) CMP8(15)
            CMP8(16) CMP8(17) CMP8(18) CMP8(19) CMP8(20) CMP8(21) CMP8(22) CMP8(23) CMP8(24) CMP8(25) CMP8(26) CMP8(27) CMP8(28) CMP8(29) CMP8(30) CMP8(31)
            printf("comi %d %d %d ucomi %d %d f%02x\n", _mm_comieq_ss(s, t), _mm_comilt_ss(s, t), _mm_comige_sd(_mm256_castpd256_pd128(c), _mm256_castpd256_pd128(d)),
                   _mm_ucomieq_ss(s, t), _mm_ucomigt_sd(_mm256_castpd256_pd128(c), _mm256_castpd256_pd128(d)), flags());
            printf("testz %d %d testc %d f%02x\n", _mm256_testz_ps(a, b), _mm256_testz_pd(c, d), _mm256_testc_ps(a, b), flags());
            p8("blend", _mm256_blend_ps(a, b, 0xa5)); p8("blendv", _mm256_blendv_ps(a, b, e)); p4("blendvpd", _mm256_blendv_pd(c, d, g));
            p8("shuf", _mm256_shuffle_ps(a, b, 0x1b)); p4("shufpd", _mm256_shuffle_pd(c, d, 0x5)); p8("unpckl", _mm256_unpacklo_ps(a, b));
            p8("permil", _mm256_permute_ps(a, 0x93)); p8("permilv", _mm256_permutevar_ps(a, _mm256_castps_si256(b)));
            p8("perm2f", _mm256_permute2f128_ps(a, b, 0x21)); p8("permps", _mm256_permutevar8x32_ps(a, _mm256_castps_si256(b)));
            p4("permpd", _mm256_permute4x64_pd(c, 0x4e)); p8("movsldup", _mm256_moveldup_ps(a)); p4("movddup", _mm256_movedup_pd(c));
            p8("round", round_ps(a, k & 7)); p4("roundpd", round_pd(c, (k + 1) & 7)); p8("dp", _mm256_dp_ps(a, b, 0xf1)); p8("dp2", _mm256_dp_ps(a, b, 0x3c));
            p8("rcp", _mm256_and_ps(_mm256_rcp_ps(a), _mm256_castsi256_ps(_mm256_set1_epi32(0)))); /* host-specific precision: flags only */
            p4i("cvtps2dq", _mm256_cvtps_epi32(a)); p4i("cvttps2dq", _mm256_cvttps_epi32(a)); p8("cvtdq2ps", _mm256_cvtepi32_ps(_mm256_castps_si256(a)));
            p4("cvtps2pd", _mm256_cvtps_pd(s)); px("cvtpd2ps", _mm_castps_si128(_mm256_cvtpd_ps(c))); px("cvtpd2dq", _mm256_cvtpd_epi32(c));
            px("cvtps2ph", cvtps_ph(a, k & 7)); p8("cvtph2ps", _mm256_cvtph_ps(_mm256_castsi256_si128(_mm256_castps_si256(b))));
            printf("cvtss2si %d %lld %d f%02x\n", _mm_cvtss_si32(s), (long long)_mm_cvttsd_si64(_mm256_castpd256_pd128(c)), _mm_cvt_ss2si(t), flags());
            p8("cvtsi2ss", _mm256_castps128_ps256(_mm_cvtsi64_ss(s, (long long)rnd())));
            p4("cvtsi2sd", _mm256_castpd128_pd256(_mm_cvtsi32_sd(_mm256_castpd256_pd128(c), (int)rnd())));
            p8("bcast", _mm256_broadcast_ss(&mem32[k & 15])); p8("maskload", _mm256_maskload_ps(mem32 + (k & 7), _mm256_castps_si256(b)));
            _mm256_maskstore_ps(mem32 + 16 + (k & 7), _mm256_castps_si256(a), e);
            p8("gather", _mm256_i32gather_ps(mem32, _mm256_and_si256(_mm256_castps_si256(b), _mm256_set1_epi32(31)), 4));
            p4("maskgather", _mm256_mask_i64gather_pd(c, (const double *)mem32, _mm256_and_si256(_mm256_castpd_si256(d), _mm256_set1_epi64x(15)), g, 8));
            printf("movmsk %x %x\n", _mm256_movemask_ps(a), _mm256_movemask_pd(c));
        }
    }
    uint32_t h = 0;
    for (int k = 0; k < 64; k++) { uint32_t v; memcpy(&v, &mem32[k], 4); h = h * 31 + v; }
    printf("mem %08x\n", h);
    return 0;
}
