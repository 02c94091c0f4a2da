/* AES-NI through <wmmintrin.h>: AES-128 and AES-256 key expansion with AESKEYGENASSIST, the decryption
   schedule with AESIMC, ECB encryption and decryption of several blocks with AESENC/AESENCLAST and
   AESDEC/AESDECLAST. The same code is built twice, with the legacy SSE encodings and (target "avx") with the
   VEX.128 ones; inline assembly adds memory operands, several round constants, and the YMM upper half a
   VEX.128 write clears while a legacy one keeps it. Built with -maes, run under --cpu v3. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wmmintrin.h>

static void show(const char *what, __m128i v)
{
    uint8_t b[16];
    memcpy(b, &v, 16);
    printf("%-14s", what);
    for (int k = 0; k < 16; k++) printf("%02x", b[k]);
    printf("\n");
}

#define AES_ROUTINES(SUFFIX, ATTR)                                                                          \
    ATTR static __m128i expand128_step(__m128i key, __m128i assist)                                        \
    {                                                                                                       \
        assist = _mm_shuffle_epi32(assist, 0xff);                                                           \
        key = _mm_xor_si128(key, _mm_slli_si128(key, 4));                                                   \
        key = _mm_xor_si128(key, _mm_slli_si128(key, 4));                                                   \
        key = _mm_xor_si128(key, _mm_slli_si128(key, 4));                                                   \
        return _mm_xor_si128(key, assist);                                                                  \
    }                                                                                                       \
    ATTR static void expand128##SUFFIX(const uint8_t *user, __m128i *k)                                    \
    {                                                                                                       \
        k[0] = _mm_loadu_si128((const __m128i *)user);                                                      \
        k[1] = expand128_step(k[0], _mm_aeskeygenassist_si128(k[0], 0x01));                                 \
        k[2] = expand128_step(k[1], _mm_aeskeygenassist_si128(k[1], 0x02));                                 \
        k[3] = expand128_step(k[2], _mm_aeskeygenassist_si128(k[2], 0x04));                                 \
        k[4] = expand128_step(k[3], _mm_aeskeygenassist_si128(k[3], 0x08));                                 \
        k[5] = expand128_step(k[4], _mm_aeskeygenassist_si128(k[4], 0x10));                                 \
        k[6] = expand128_step(k[5], _mm_aeskeygenassist_si128(k[5], 0x20));                                 \
        k[7] = expand128_step(k[6], _mm_aeskeygenassist_si128(k[6], 0x40));                                 \
        k[8] = expand128_step(k[7], _mm_aeskeygenassist_si128(k[7], 0x80));                                 \
        k[9] = expand128_step(k[8], _mm_aeskeygenassist_si128(k[8], 0x1b));                                 \
        k[10] = expand128_step(k[9], _mm_aeskeygenassist_si128(k[9], 0x36));                                \
    }                                                                                                       \
    ATTR static __m128i expand256_odd(__m128i prev, __m128i key)                                           \
    {                                                                                                       \
        __m128i t = _mm_shuffle_epi32(_mm_aeskeygenassist_si128(key, 0x00), 0xaa);                          \
        prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));                                                \
        prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));                                                \
        prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));                                                \
        return _mm_xor_si128(prev, t);                                                                      \
    }                                                                                                       \
    ATTR static void expand256##SUFFIX(const uint8_t *user, __m128i *k)                                    \
    {                                                                                                       \
        k[0] = _mm_loadu_si128((const __m128i *)user);                                                      \
        k[1] = _mm_loadu_si128((const __m128i *)(user + 16));                                               \
        k[2] = expand128_step(k[0], _mm_aeskeygenassist_si128(k[1], 0x01));                                 \
        k[3] = expand256_odd(k[1], k[2]);                                                                   \
        k[4] = expand128_step(k[2], _mm_aeskeygenassist_si128(k[3], 0x02));                                 \
        k[5] = expand256_odd(k[3], k[4]);                                                                   \
        k[6] = expand128_step(k[4], _mm_aeskeygenassist_si128(k[5], 0x04));                                 \
        k[7] = expand256_odd(k[5], k[6]);                                                                   \
        k[8] = expand128_step(k[6], _mm_aeskeygenassist_si128(k[7], 0x08));                                 \
        k[9] = expand256_odd(k[7], k[8]);                                                                   \
        k[10] = expand128_step(k[8], _mm_aeskeygenassist_si128(k[9], 0x10));                                \
        k[11] = expand256_odd(k[9], k[10]);                                                                 \
        k[12] = expand128_step(k[10], _mm_aeskeygenassist_si128(k[11], 0x20));                              \
        k[13] = expand256_odd(k[11], k[12]);                                                                \
        k[14] = expand128_step(k[12], _mm_aeskeygenassist_si128(k[13], 0x40));                              \
    }                                                                                                       \
    ATTR static void decryption_keys##SUFFIX(const __m128i *k, __m128i *d, int rounds)                     \
    {                                                                                                       \
        d[0] = k[rounds];                                                                                   \
        for (int r = 1; r < rounds; r++) d[r] = _mm_aesimc_si128(k[rounds - r]);                            \
        d[rounds] = k[0];                                                                                   \
    }                                                                                                       \
    ATTR static void encrypt##SUFFIX(const __m128i *k, int rounds, const uint8_t *in, uint8_t *out, int n) \
    {                                                                                                       \
        for (int b = 0; b < n; b++)                                                                         \
        {                                                                                                   \
            __m128i s = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(in + 16 * b)), k[0]);               \
            for (int r = 1; r < rounds; r++) s = _mm_aesenc_si128(s, k[r]);                                 \
            _mm_storeu_si128((__m128i *)(out + 16 * b), _mm_aesenclast_si128(s, k[rounds]));               \
        }                                                                                                   \
    }                                                                                                       \
    ATTR static void decrypt##SUFFIX(const __m128i *d, int rounds, const uint8_t *in, uint8_t *out, int n) \
    {                                                                                                       \
        for (int b = 0; b < n; b++)                                                                         \
        {                                                                                                   \
            __m128i s = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(in + 16 * b)), d[0]);               \
            for (int r = 1; r < rounds; r++) s = _mm_aesdec_si128(s, d[r]);                                 \
            _mm_storeu_si128((__m128i *)(out + 16 * b), _mm_aesdeclast_si128(s, d[rounds]));               \
        }                                                                                                   \
    }

AES_ROUTINES(_sse, __attribute__((noinline)))
#define expand128_step expand128_step_avx
#define expand256_odd expand256_odd_avx
AES_ROUTINES(_avx, __attribute__((noinline, target("avx,aes"))))

enum { Blocks = 37 };

static void run(const char *name, int bits,
                void (*expand)(const uint8_t *, __m128i *), void (*keys)(const __m128i *, __m128i *, int),
                void (*enc)(const __m128i *, int, const uint8_t *, uint8_t *, int),
                void (*dec)(const __m128i *, int, const uint8_t *, uint8_t *, int))
{
    static uint8_t plain[16 * Blocks], cipher[16 * Blocks], back[16 * Blocks];
    uint8_t user[32];
    __m128i k[15], d[15];
    int rounds = bits == 128 ? 10 : 14;
    uint32_t x = 0x12345678u ^ (uint32_t)bits;
    for (int i = 0; i < 32; i++) { x = x * 1103515245u + 12345u; user[i] = (uint8_t)(x >> 16); }
    for (int i = 0; i < 16 * Blocks; i++) { x = x * 1103515245u + 12345u; plain[i] = (uint8_t)(x >> 13); }
    /* FIPS-197 appendix C's key and block lead, so the first line can be checked against the standard. */
    for (int i = 0; i < 32; i++) user[i] = i < bits / 8 ? (uint8_t)i : 0;
    for (int i = 0; i < 16; i++) plain[i] = (uint8_t)(i * 0x11);
    expand(user, k);
    keys(k, d, rounds);
    enc(k, rounds, plain, cipher, Blocks);
    dec(d, rounds, cipher, back, Blocks);
    char label[64];
    for (int r = 0; r <= rounds; r++)
    {
        snprintf(label, sizeof label, "%s.%d k%d", name, bits, r);
        show(label, k[r]);
        snprintf(label, sizeof label, "%s.%d d%d", name, bits, r);
        show(label, d[r]);
    }
    uint32_t sum = 0;
    for (int b = 0; b < Blocks; b++)
    {
        __m128i c;
        memcpy(&c, cipher + 16 * b, 16);
        if (b < 4 || b == Blocks - 1)
        {
            snprintf(label, sizeof label, "%s.%d c%d", name, bits, b);
            show(label, c);
        }
        for (int i = 0; i < 16; i++) sum = sum * 31 + cipher[16 * b + i];
    }
    printf("%s.%d cipher sum %08x, round trip %s\n", name, bits, sum, memcmp(plain, back, sizeof plain) ? "differs" : "ok");
}

/* Every round constant through the immediate, each also in the VEX form. */
#define ASSIST(imm) do { \
        __m128i a_ = src, v_; \
        __asm__("aeskeygenassist $" #imm ", %1, %0" : "=x"(a_) : "x"(src)); \
        __asm__("vaeskeygenassist $" #imm ", %1, %0" : "=x"(v_) : "m"(src)); \
        show("assist " #imm, a_); show("vassist " #imm, v_); \
    } while (0)

int main(void)
{
    run("sse", 128, expand128_sse, decryption_keys_sse, encrypt_sse, decrypt_sse);
    run("sse", 256, expand256_sse, decryption_keys_sse, encrypt_sse, decrypt_sse);
    run("avx", 128, expand128_avx, decryption_keys_avx, encrypt_avx, decrypt_avx);
    run("avx", 256, expand256_avx, decryption_keys_avx, encrypt_avx, decrypt_avx);

    __m128i src = _mm_set_epi32(0x01234567, (int)0x89abcdef, 0x0f1e2d3c, 0x4b5a6978);
    ASSIST(0x00); ASSIST(0x01); ASSIST(0x1b); ASSIST(0x36); ASSIST(0x80); ASSIST(0xff);

    /* Memory operands: aligned for the legacy forms, misaligned for the VEX ones, which have no alignment rule. */
    static __attribute__((aligned(16))) uint8_t area[64];
    for (int i = 0; i < 64; i++) area[i] = (uint8_t)(i * 37 + 5);
    __m128i s = _mm_set_epi64x(0x0011223344556677LL, (long long)0x8899aabbccddeeffULL), r;
    const char *legacy[] = { "aesenc.m", "aesenclast.m", "aesdec.m", "aesdeclast.m", "aesimc.m" };
    r = s; __asm__("aesenc %1, %0" : "+x"(r) : "m"(*(__m128i *)area)); show(legacy[0], r);
    r = s; __asm__("aesenclast %1, %0" : "+x"(r) : "m"(*(__m128i *)area)); show(legacy[1], r);
    r = s; __asm__("aesdec %1, %0" : "+x"(r) : "m"(*(__m128i *)area)); show(legacy[2], r);
    r = s; __asm__("aesdeclast %1, %0" : "+x"(r) : "m"(*(__m128i *)area)); show(legacy[3], r);
    __asm__("aesimc %1, %0" : "=x"(r) : "m"(*(__m128i *)(area + 16))); show(legacy[4], r);
    __asm__("vaesenc %2, %1, %0" : "=x"(r) : "x"(s), "m"(*(__m128i_u *)(area + 3))); show("vaesenc.m", r);
    __asm__("vaesenclast %2, %1, %0" : "=x"(r) : "x"(s), "m"(*(__m128i_u *)(area + 5))); show("vaesenclast.m", r);
    __asm__("vaesdec %2, %1, %0" : "=x"(r) : "x"(s), "m"(*(__m128i_u *)(area + 7))); show("vaesdec.m", r);
    __asm__("vaesdeclast %2, %1, %0" : "=x"(r) : "x"(s), "m"(*(__m128i_u *)(area + 9))); show("vaesdeclast.m", r);
    __asm__("vaesimc %1, %0" : "=x"(r) : "m"(*(__m128i_u *)(area + 11))); show("vaesimc.m", r);

    /* The YMM upper half: a VEX.128 AES instruction zeroes it, a legacy one leaves it. */
    uint64_t upper[2][4];
    __asm__ volatile("vpcmpeqd %%ymm3, %%ymm3, %%ymm3\n vaesenc %%xmm1, %%xmm2, %%xmm3\n vmovdqu %%ymm3, %0\n"
                     "vpcmpeqd %%ymm3, %%ymm3, %%ymm3\n aesdec %%xmm1, %%xmm3\n vmovdqu %%ymm3, %1\n vzeroupper"
                     : "=m"(upper[0]), "=m"(upper[1]) : : "xmm1", "xmm2", "xmm3");
    for (int k = 0; k < 2; k++)
        printf("%s upper %016llx %016llx\n", k ? "aesdec" : "vaesenc", (unsigned long long)upper[k][2], (unsigned long long)upper[k][3]);
    return 0;
}
