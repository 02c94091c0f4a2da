/* glibc's AVX2 string and memory routines, called directly (a static link reaches them by name), over
   many lengths and alignments, with strings that end right before an inaccessible page: the routines
   read whole vectors and must still never touch it. LegoEmu does not advertise AVX2 yet, so glibc
   would not pick these itself. One line per routine and alignment: a hash of every result. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

size_t __strlen_avx2(const char *);
size_t __strnlen_avx2(const char *, size_t);
void *__memchr_avx2(const void *, int, size_t);
void *__rawmemchr_avx2(const void *, int);
char *__strchr_avx2(const char *, int);
char *__strrchr_avx2(const char *, int);
int __strcmp_avx2(const char *, const char *);
int __memcmp_avx2_movbe(const void *, const void *, size_t);
char *__strcpy_avx2(char *, const char *);
char *__stpcpy_avx2(char *, const char *);
void *__memset_avx2_unaligned_erms(void *, int, size_t);
void *__memmove_avx_unaligned_erms(void *, const void *, size_t);

static uint64_t h;
static void mix(uint64_t v) { h = (h ^ v) * 0x100000001b3ULL; }
static int sign(int v) { return (v > 0) - (v < 0); }

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    char *area = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED || mprotect(area + 3 * page, page, PROT_NONE) != 0) return 1;
    char *end = area + 3 * page; /* the first inaccessible byte */
    static char other[8192] __attribute__((aligned(64)));
    static char big[70000] __attribute__((aligned(64)));
    for (int place = 0; place < 2; place++)
        for (int off = 0; off < 64; off++)
        {
            h = 0xcbf29ce484222325ULL;
            for (int len = 0; len < 600; len += len < 100 ? 1 : 23)
            {
                /* place 0: string at an offset from a 64-byte boundary; place 1: ending at the inaccessible page. */
                char *s = place == 0 ? area + page + off : end - len - 1 - (off & 7);
                for (int k = 0; k < len; k++) s[k] = (char)('a' + (k * 7 + off) % 23);
                s[len] = 0;
                if (len > 4) s[len / 3] = 'Z';
                mix(__strlen_avx2(s));
                mix(__strnlen_avx2(s, (size_t)len / 2));
                mix(__strnlen_avx2(s, (size_t)len + 5));
                char *p = __memchr_avx2(s, 'Z', (size_t)len);
                mix(p ? (uint64_t)(p - s) : 999999);
                p = __memchr_avx2(s, 'a' + 22, (size_t)len / 2);
                mix(p ? (uint64_t)(p - s) : 999999);
                mix((uint64_t)((char *)__rawmemchr_avx2(s, 0) - s));
                p = __strchr_avx2(s, 'Z');
                mix(p ? (uint64_t)(p - s) : 999999);
                p = __strchr_avx2(s, 0);
                mix((uint64_t)(p - s));
                p = __strrchr_avx2(s, 'b');
                mix(p ? (uint64_t)(p - s) : 999999);
                char *d = other + 64 + ((off * 5) & 63);
                memcpy(d, s, (size_t)len + 1);
                mix((uint64_t)sign(__strcmp_avx2(s, d)));
                mix((uint64_t)sign(__memcmp_avx2_movbe(s, d, (size_t)len)));
                if (len > 0)
                {
                    d[len - 1] ^= 0x40;
                    mix((uint64_t)sign(__strcmp_avx2(s, d)) + 7);
                    mix((uint64_t)sign(__memcmp_avx2_movbe(d, s, (size_t)len)) + 11);
                }
                mix((uint64_t)(__stpcpy_avx2(other + 4096 + off, s) - other));
                __strcpy_avx2(other + 4096 + 1, s);
                mix((uint64_t)strlen(other + 4096 + 1));
                __memset_avx2_unaligned_erms(other + off, 'q' + len % 5, (size_t)len);
                __memmove_avx_unaligned_erms(other + off + 3, other + off, (size_t)len);
                __memmove_avx_unaligned_erms(other + 2048 + off, s, (size_t)len);
                for (int k = 0; k < 2200; k += 37) mix((uint8_t)other[k * 3 + off]);
            }
            printf("place %d off %2d: %016llx\n", place, off, (unsigned long long)h);
        }
    /* Large copies and fills take the non-temporal and rep-movsb paths. */
    h = 0xcbf29ce484222325ULL;
    for (int k = 0; k < (int)sizeof big; k++) big[k] = (char)(k * 131 + (k >> 9));
    static char copy[70000] __attribute__((aligned(64)));
    for (int n = 1000; n <= 65536; n = n * 3 / 2 + 7)
    {
        __memmove_avx_unaligned_erms(copy + (n & 31), big + (n & 15), (size_t)n);
        for (int k = 0; k < n; k += 97) mix((uint8_t)copy[(n & 31) + k]);
        __memmove_avx_unaligned_erms(big + 1, big, (size_t)n); /* overlapping, backwards */
        __memset_avx2_unaligned_erms(copy, n & 0xff, (size_t)n);
        mix((uint64_t)__memcmp_avx2_movbe(copy, copy + 1, (size_t)n - 1));
        mix((uint64_t)__strlen_avx2(big + (n & 63)));
    }
    printf("large: %016llx\n", (unsigned long long)h);
    return 0;
}
