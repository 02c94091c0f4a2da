/* Hash functions with fully unrolled rounds, as coreutils' sha256sum and md5sum have them: long straight-line
 * blocks of 32-bit rotates, adds and logic on most of the general registers, with the message schedule on the
 * stack. The decoder cuts such code into many blocks that the translator plans as one region (a chain); the
 * digests of a few hundred KiB must match the native run's. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define ROL32(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define S0(x) (ROR32(x, 2) ^ ROR32(x, 13) ^ ROR32(x, 22))
#define S1(x) (ROR32(x, 6) ^ ROR32(x, 11) ^ ROR32(x, 25))
#define s0(x) (ROR32(x, 7) ^ ROR32(x, 18) ^ ((x) >> 3))
#define s1(x) (ROR32(x, 17) ^ ROR32(x, 19) ^ ((x) >> 10))
#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define W(t) (w[(t) & 15] += s1(w[((t) - 2) & 15]) + w[((t) - 7) & 15] + s0(w[((t) - 15) & 15]))
#define R(a, b, c, d, e, f, g, h, k, x)                \
    do {                                               \
        uint32_t t1 = h + S1(e) + CH(e, f, g) + k + x; \
        uint32_t t2 = S0(a) + MAJ(a, b, c);            \
        d += t1;                                       \
        h = t1 + t2;                                   \
    } while (0)
#define R8(i, x0, x1, x2, x3, x4, x5, x6, x7)              \
    R(a, b, c, d, e, f, g, h, K256[(i) + 0], x0);          \
    R(h, a, b, c, d, e, f, g, K256[(i) + 1], x1);          \
    R(g, h, a, b, c, d, e, f, K256[(i) + 2], x2);          \
    R(f, g, h, a, b, c, d, e, K256[(i) + 3], x3);          \
    R(e, f, g, h, a, b, c, d, K256[(i) + 4], x4);          \
    R(d, e, f, g, h, a, b, c, K256[(i) + 5], x5);          \
    R(c, d, e, f, g, h, a, b, K256[(i) + 6], x6);          \
    R(b, c, d, e, f, g, h, a, K256[(i) + 7], x7)

static void sha256_blocks(uint32_t st[8], const unsigned char *p, size_t n)
{
    for (; n--; p += 64) {
        uint32_t w[16];
        for (int t = 0; t < 16; t++)
            w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
        uint32_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
        R8(0, w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
        R8(8, w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]);
        R8(16, W(16), W(17), W(18), W(19), W(20), W(21), W(22), W(23));
        R8(24, W(24), W(25), W(26), W(27), W(28), W(29), W(30), W(31));
        R8(32, W(32), W(33), W(34), W(35), W(36), W(37), W(38), W(39));
        R8(40, W(40), W(41), W(42), W(43), W(44), W(45), W(46), W(47));
        R8(48, W(48), W(49), W(50), W(51), W(52), W(53), W(54), W(55));
        R8(56, W(56), W(57), W(58), W(59), W(60), W(61), W(62), W(63));
        st[0] += a; st[1] += b; st[2] += c; st[3] += d; st[4] += e; st[5] += f; st[6] += g; st[7] += h;
    }
}

/* The last one or two blocks of both hashes: the message's tail, 0x80, zeros, and the length in bits in the last 8
   bytes (big-endian for SHA-256, little-endian for MD5). Returns the number of blocks. */
static size_t final_blocks(unsigned char tail[128], const unsigned char *msg, size_t len, int big_endian)
{
    size_t rest = len % 64, pad = rest < 56 ? 64 : 128;
    memset(tail, 0, 128);
    memcpy(tail, msg + len - rest, rest);
    tail[rest] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int k = 0; k < 8; k++) tail[big_endian ? pad - 1 - k : pad - 8 + k] = (unsigned char)(bits >> (8 * k));
    return pad / 64;
}

static void sha256(const unsigned char *msg, size_t len, unsigned char out[32])
{
    uint32_t st[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    sha256_blocks(st, msg, len / 64);
    unsigned char tail[128];
    sha256_blocks(st, tail, final_blocks(tail, msg, len, 1));
    for (int k = 0; k < 32; k++) out[k] = (unsigned char)(st[k / 4] >> (24 - 8 * (k % 4)));
}

#define MF(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MG(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define MH(x, y, z) ((x) ^ (y) ^ (z))
#define MI(x, y, z) ((y) ^ ((x) | ~(z)))
#define STEP(f, a, b, c, d, x, t, s)      \
    do {                                  \
        a += f(b, c, d) + (x) + (t);      \
        a = ROL32(a, s);                  \
        a += b;                           \
    } while (0)

static void md5_blocks(uint32_t st[4], const unsigned char *p, size_t n)
{
    for (; n--; p += 64) {
        uint32_t x[16];
        memcpy(x, p, 64); /* little-endian host and guest */
        uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
        STEP(MF, a, b, c, d, x[0], 0xd76aa478, 7);   STEP(MF, d, a, b, c, x[1], 0xe8c7b756, 12);
        STEP(MF, c, d, a, b, x[2], 0x242070db, 17);  STEP(MF, b, c, d, a, x[3], 0xc1bdceee, 22);
        STEP(MF, a, b, c, d, x[4], 0xf57c0faf, 7);   STEP(MF, d, a, b, c, x[5], 0x4787c62a, 12);
        STEP(MF, c, d, a, b, x[6], 0xa8304613, 17);  STEP(MF, b, c, d, a, x[7], 0xfd469501, 22);
        STEP(MF, a, b, c, d, x[8], 0x698098d8, 7);   STEP(MF, d, a, b, c, x[9], 0x8b44f7af, 12);
        STEP(MF, c, d, a, b, x[10], 0xffff5bb1, 17); STEP(MF, b, c, d, a, x[11], 0x895cd7be, 22);
        STEP(MF, a, b, c, d, x[12], 0x6b901122, 7);  STEP(MF, d, a, b, c, x[13], 0xfd987193, 12);
        STEP(MF, c, d, a, b, x[14], 0xa679438e, 17); STEP(MF, b, c, d, a, x[15], 0x49b40821, 22);
        STEP(MG, a, b, c, d, x[1], 0xf61e2562, 5);   STEP(MG, d, a, b, c, x[6], 0xc040b340, 9);
        STEP(MG, c, d, a, b, x[11], 0x265e5a51, 14); STEP(MG, b, c, d, a, x[0], 0xe9b6c7aa, 20);
        STEP(MG, a, b, c, d, x[5], 0xd62f105d, 5);   STEP(MG, d, a, b, c, x[10], 0x02441453, 9);
        STEP(MG, c, d, a, b, x[15], 0xd8a1e681, 14); STEP(MG, b, c, d, a, x[4], 0xe7d3fbc8, 20);
        STEP(MG, a, b, c, d, x[9], 0x21e1cde6, 5);   STEP(MG, d, a, b, c, x[14], 0xc33707d6, 9);
        STEP(MG, c, d, a, b, x[3], 0xf4d50d87, 14);  STEP(MG, b, c, d, a, x[8], 0x455a14ed, 20);
        STEP(MG, a, b, c, d, x[13], 0xa9e3e905, 5);  STEP(MG, d, a, b, c, x[2], 0xfcefa3f8, 9);
        STEP(MG, c, d, a, b, x[7], 0x676f02d9, 14);  STEP(MG, b, c, d, a, x[12], 0x8d2a4c8a, 20);
        STEP(MH, a, b, c, d, x[5], 0xfffa3942, 4);   STEP(MH, d, a, b, c, x[8], 0x8771f681, 11);
        STEP(MH, c, d, a, b, x[11], 0x6d9d6122, 16); STEP(MH, b, c, d, a, x[14], 0xfde5380c, 23);
        STEP(MH, a, b, c, d, x[1], 0xa4beea44, 4);   STEP(MH, d, a, b, c, x[4], 0x4bdecfa9, 11);
        STEP(MH, c, d, a, b, x[7], 0xf6bb4b60, 16);  STEP(MH, b, c, d, a, x[10], 0xbebfbc70, 23);
        STEP(MH, a, b, c, d, x[13], 0x289b7ec6, 4);  STEP(MH, d, a, b, c, x[0], 0xeaa127fa, 11);
        STEP(MH, c, d, a, b, x[3], 0xd4ef3085, 16);  STEP(MH, b, c, d, a, x[6], 0x04881d05, 23);
        STEP(MH, a, b, c, d, x[9], 0xd9d4d039, 4);   STEP(MH, d, a, b, c, x[12], 0xe6db99e5, 11);
        STEP(MH, c, d, a, b, x[15], 0x1fa27cf8, 16); STEP(MH, b, c, d, a, x[2], 0xc4ac5665, 23);
        STEP(MI, a, b, c, d, x[0], 0xf4292244, 6);   STEP(MI, d, a, b, c, x[7], 0x432aff97, 10);
        STEP(MI, c, d, a, b, x[14], 0xab9423a7, 15); STEP(MI, b, c, d, a, x[5], 0xfc93a039, 21);
        STEP(MI, a, b, c, d, x[12], 0x655b59c3, 6);  STEP(MI, d, a, b, c, x[3], 0x8f0ccc92, 10);
        STEP(MI, c, d, a, b, x[10], 0xffeff47d, 15); STEP(MI, b, c, d, a, x[1], 0x85845dd1, 21);
        STEP(MI, a, b, c, d, x[8], 0x6fa87e4f, 6);   STEP(MI, d, a, b, c, x[15], 0xfe2ce6e0, 10);
        STEP(MI, c, d, a, b, x[6], 0xa3014314, 15);  STEP(MI, b, c, d, a, x[13], 0x4e0811a1, 21);
        STEP(MI, a, b, c, d, x[4], 0xf7537e82, 6);   STEP(MI, d, a, b, c, x[11], 0xbd3af235, 10);
        STEP(MI, c, d, a, b, x[2], 0x2ad7d2bb, 15);  STEP(MI, b, c, d, a, x[9], 0xeb86d391, 21);
        st[0] += a; st[1] += b; st[2] += c; st[3] += d;
    }
}

static void md5(const unsigned char *msg, size_t len, unsigned char out[16])
{
    uint32_t st[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    md5_blocks(st, msg, len / 64);
    unsigned char tail[128];
    md5_blocks(st, tail, final_blocks(tail, msg, len, 0));
    memcpy(out, st, 16);
}

static void hex(const char *name, size_t len, const unsigned char *d, int n)
{
    printf("%s(%zu) = ", name, len);
    for (int k = 0; k < n; k++) printf("%02x", d[k]);
    printf("\n");
}

static unsigned char data[3 << 17];

int main(void)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t k = 0; k < sizeof data; k++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        data[k] = (unsigned char)(s >> 24);
    }
    unsigned char d[32];
    /* Known answers first: the empty string and "abc". */
    sha256((const unsigned char *)"abc", 3, d);
    hex("sha256", 3, d, 32);
    md5((const unsigned char *)"", 0, d);
    hex("md5", 0, d, 16);
    /* Then lengths around the padding boundaries and a large one, long enough for the rounds to get hot. */
    size_t lengths[] = {55, 56, 63, 64, 119, 4095, sizeof data - 17, sizeof data};
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        sha256(data, lengths[k], d);
        hex("sha256", lengths[k], d, 32);
        md5(data, lengths[k], d);
        hex("md5", lengths[k], d, 16);
    }
    return 0;
}
