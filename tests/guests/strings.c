/* The string functions in static glibc are hand-written SSE2/AVX2 code picked
   by IFUNC at startup (using CPUID), with separate paths for each alignment
   and tail length, so they are swept over lengths 0..300 and offsets 0..31. */
#include <stdio.h>
#include <string.h>
#include <stdint.h>

#define MAXLEN 300
#define MAXOFF 32
#define BUFSZ (MAXLEN + 2 * MAXOFF + 64)

static char src_buf[BUFSZ] __attribute__((aligned(64)));
static char dst_buf[BUFSZ] __attribute__((aligned(64)));
static char big_buf[2 * BUFSZ] __attribute__((aligned(64)));

static uint64_t hash = 14695981039346656037ULL;

static void mix(uint64_t v)
{
    hash ^= v;
    hash *= 1099511628211ULL;
}

static int sign(int v) { return (v > 0) - (v < 0); }

/* Pointers are folded into the checksum only as offsets from their buffer. */
static long off_or_neg(const char *p, const char *base) { return p ? (long)(p - base) : -1L; }

static void fill_src(char *s, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        s[i] = (char)('a' + (i * 7 + seed) % 26);
    s[len] = '\0';
}

int main(void)
{
    for (size_t len = 0; len <= MAXLEN; len++) {
        /* All 32x32 offset pairs for every length would take too long; step. */
        for (size_t so = 0; so < MAXOFF; so += (len < 40 ? 1 : 9)) {
            for (size_t d_o = 0; d_o < MAXOFF; d_o += (len < 40 ? 5 : 11)) {
                char *s = src_buf + so;
                char *d = dst_buf + d_o;
                memset(src_buf, 'X', sizeof src_buf);
                memset(dst_buf, 'Y', sizeof dst_buf);
                fill_src(s, len, (unsigned)(so + d_o));

                mix(strlen(s));
                strcpy(d, s);
                mix((uint64_t)memcmp(d, s, len + 1) == 0);
                mix((uint64_t)(unsigned char)d[len + 1]); /* must still be 'Y' */
                mix((uint64_t)sign(strcmp(d, s)) + 3);

                if (len > 0) {
                    d[len / 2] = (char)(d[len / 2] + 1);
                    mix((uint64_t)sign(strcmp(d, s)) + 5);
                    mix((uint64_t)sign(strncmp(d, s, len / 2)) + 7);
                    mix((uint64_t)sign(strncmp(d, s, len / 2 + 1)) + 9);
                    mix((uint64_t)sign(memcmp(s, d, len)) + 11);
                    d[len / 2] = (char)(d[len / 2] - 1);
                }

                memset(dst_buf, 'Y', sizeof dst_buf);
                strncpy(d, s, len + 5); /* pads with NULs */
                for (size_t i = 0; i < len + 7; i++)
                    mix((unsigned char)d[i]);
                strncpy(d, s, len / 2); /* no terminator written */
                mix((unsigned char)d[len / 2]);

                memset(d, 0x5a, len);
                mix((uint64_t)(unsigned char)d[len]);
                for (size_t i = 0; i < len; i++)
                    if ((unsigned char)d[i] != 0x5a) { mix(0xbad); break; }

                memcpy(d, s, len);
                mix((uint64_t)memcmp(d, s, len) == 0);

                int c = len ? s[len / 3] : 'q';
                mix((uint64_t)off_or_neg(strchr(s, c), s));
                mix((uint64_t)off_or_neg(strrchr(s, c), s));
                mix((uint64_t)off_or_neg(strchr(s, '\0'), s));
                mix((uint64_t)off_or_neg(strchr(s, '#'), s));
                mix((uint64_t)off_or_neg(memchr(s, c, len), s));
                mix((uint64_t)off_or_neg(memchr(s, '#', len), s));
                if (len >= 4)
                    mix((uint64_t)off_or_neg(strstr(s, s + len - 4), s));
                mix((uint64_t)off_or_neg(strstr(s, "zzq"), s));

                d[0] = '\0';
                strcat(d, "pre:");
                strcat(d, s);
                mix(strlen(d));
                mix((unsigned char)d[len + 3]);
            }
        }
    }
    printf("sweep checksum=%016llx\n", (unsigned long long)hash);

    /* Overlapping moves in both directions. */
    for (size_t len = 0; len <= MAXLEN; len += 3) {
        for (size_t shift = 1; shift < 40; shift += 3) {
            for (size_t i = 0; i < sizeof big_buf; i++)
                big_buf[i] = (char)(i * 13 + shift);
            memmove(big_buf + 17 + shift, big_buf + 17, len);
            for (size_t i = 0; i < len + shift + 20; i++)
                mix((unsigned char)big_buf[i]);
            for (size_t i = 0; i < sizeof big_buf; i++)
                big_buf[i] = (char)(i * 11 + shift);
            memmove(big_buf + 17, big_buf + 17 + shift, len);
            for (size_t i = 0; i < len + shift + 20; i++)
                mix((unsigned char)big_buf[i]);
        }
    }
    printf("memmove checksum=%016llx\n", (unsigned long long)hash);

    char buf[128];
    strcpy(buf, "The quick brown fox");
    strcat(buf, " jumps over the lazy dog");
    printf("concat: [%s] len=%zu\n", buf, strlen(buf));
    printf("strchr 'q' at %ld, strrchr 'o' at %ld, strstr \"lazy\" at %ld\n",
           off_or_neg(strchr(buf, 'q'), buf), off_or_neg(strrchr(buf, 'o'), buf),
           off_or_neg(strstr(buf, "lazy"), buf));
    printf("strcmp signs: %d %d %d\n", sign(strcmp("abc", "abd")), sign(strcmp("abc", "abc")),
           sign(strcmp("b", "abc")));
    printf("memcmp high byte: %d\n", sign(memcmp("\x80", "\x01", 1)));
    memmove(buf + 4, buf, 15);
    buf[19] = '\0';
    printf("memmove overlap: [%s]\n", buf);
    return 0;
}
