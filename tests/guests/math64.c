/* 64-bit integer arithmetic corner cases (div/idiv by negatives, shifts by
   large counts, flags from popcnt/bsr/bsf or lzcnt/tzcnt), 128-bit products
   (mul/imul with rdx), then a qsort that runs millions of indirect calls. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

static uint64_t hash = 0xcbf29ce484222325ULL;

static void mix(uint64_t v)
{
    hash ^= v;
    hash *= 0x100000001b3ULL;
    hash ^= hash >> 29;
}

/* volatile keeps gcc from folding the operations at compile time. */
static volatile int64_t sinputs[] = {
    0, 1, -1, 2, -2, 3, -3, 7, -7, 10, -10, 255, -256, 1000003, -1000003,
    INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1, 0x123456789abcdefLL,
    -0x123456789abcdefLL, INT64_MAX, INT64_MIN + 1, INT64_MIN,
};
#define NIN (sizeof sinputs / sizeof sinputs[0])

static uint64_t rotl(uint64_t x, unsigned r) { return (x << (r & 63)) | (x >> ((64 - r) & 63)); }
static uint64_t rotr(uint64_t x, unsigned r) { return (x >> (r & 63)) | (x << ((64 - r) & 63)); }

static uint64_t xs_state = 88172645463325252ULL;
static uint64_t xorshift64(void)
{
    xs_state ^= xs_state << 13;
    xs_state ^= xs_state >> 7;
    xs_state ^= xs_state << 17;
    return xs_state;
}

static uint32_t lcg_state = 12345;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return lcg_state;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

#define NSORT 100000
static int arr[NSORT];

int main(void)
{
    for (size_t i = 0; i < NIN; i++) {
        for (size_t j = 0; j < NIN; j++) {
            int64_t a = sinputs[i], b = sinputs[j];
            uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
            /* Signed overflow is UB in C; the builtins give the wrapped result and
               the overflow flag (imul/add + seto) instead. */
            int64_t r;
            mix((uint64_t)__builtin_mul_overflow(a, b, &r));
            mix((uint64_t)r);
            mix((uint64_t)__builtin_add_overflow(a, b, &r));
            mix((uint64_t)r);
            mix((uint64_t)__builtin_sub_overflow(a, b, &r));
            mix((uint64_t)r);
            mix(ua * ub);
            mix(ua + ub);
            mix(ua - ub);
            if (b != 0 && !(a == INT64_MIN && b == -1)) {
                mix((uint64_t)(a / b));
                mix((uint64_t)(a % b));
            }
            if (ub != 0) {
                mix(ua / ub);
                mix(ua % ub);
            }
            unsigned sh = (unsigned)(ub & 63);
            mix(ua << sh);
            mix(ua >> sh);
            mix((uint64_t)(a >> sh));
            mix(rotl(ua, sh));
            mix(rotr(ua, sh));
            unsigned __int128 p = (unsigned __int128)ua * ub;
            mix((uint64_t)p);
            mix((uint64_t)(p >> 64));
            __int128 sp = (__int128)a * b;
            mix((uint64_t)sp);
            mix((uint64_t)((unsigned __int128)sp >> 64));
            mix((uint64_t)(int32_t)a * (uint64_t)(int32_t)b);
            if ((int32_t)b != 0 && !((int32_t)a == INT32_MIN && (int32_t)b == -1))
                mix((uint64_t)(int64_t)((int32_t)a / (int32_t)b));
        }
        uint64_t u = (uint64_t)sinputs[i];
        mix((uint64_t)__builtin_popcountll(u));
        if (u != 0) {
            mix((uint64_t)__builtin_clzll(u));
            mix((uint64_t)__builtin_ctzll(u));
        }
        mix(__builtin_bswap64(u));
    }
    printf("arith checksum=%016llx\n", (unsigned long long)hash);

    printf("-7/2=%lld -7%%2=%lld 7/-2=%lld 7%%-2=%lld\n", (long long)(sinputs[8] / sinputs[3]),
           (long long)(sinputs[8] % sinputs[3]), (long long)(sinputs[7] / sinputs[4]),
           (long long)(sinputs[7] % sinputs[4]));
    printf("INT64_MIN/2=%lld UINT64_MAX/3=%llu\n", (long long)(sinputs[22] / 2),
           (unsigned long long)((uint64_t)sinputs[2] / 3));
    printf("popcount(0x123456789abcdef)=%d clz=%d ctz(256)=%d\n",
           __builtin_popcountll((uint64_t)sinputs[18]), __builtin_clzll((uint64_t)sinputs[18]),
           __builtin_ctzll(256));
    unsigned __int128 big = (unsigned __int128)UINT64_MAX * UINT64_MAX;
    printf("UINT64_MAX^2 = %016llx%016llx\n", (unsigned long long)(big >> 64), (unsigned long long)big);
    printf("rotl(0x8000000000000001,4)=%016llx\n", (unsigned long long)rotl(0x8000000000000001ULL, 4));

    uint64_t xs = 0;
    for (int i = 0; i < 1000; i++)
        xs ^= xorshift64();
    printf("xorshift fold=%016llx\n", (unsigned long long)xs);

    for (int i = 0; i < NSORT; i++)
        arr[i] = (int)(lcg() ^ (uint32_t)(xorshift64() >> 32));
    qsort(arr, NSORT, sizeof arr[0], cmp_int);
    int sorted = 1;
    uint64_t sum = 0;
    for (int i = 0; i < NSORT; i++) {
        if (i > 0 && arr[i - 1] > arr[i])
            sorted = 0;
        sum = sum * 1000003u + (uint32_t)arr[i];
    }
    printf("sorted=%d checksum=%016llx\n", sorted, (unsigned long long)sum);
    printf("min=%d median=%d max=%d\n", arr[0], arr[NSORT / 2], arr[NSORT - 1]);
    printf("arr[1000]=%d arr[99000]=%d\n", arr[1000], arr[99000]);
    return 0;
}
