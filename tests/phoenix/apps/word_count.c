/* word_count: occurrences of each word (letters only, case folded) in a text file; prints the
 * most frequent words Phoenix-style ("%15s - %d") and a digest of the full count table. */
#include "../runtime/mapreduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void combine(void *acc, const void *val) { *(long *)acc += *(const long *)val; }

/* Most frequent first; equal counts in key order (the runtime breaks ties by key bytes). */
static int by_count(const mr_pair *a, const mr_pair *b)
{
    long x = *(long *)a->val, y = *(long *)b->val;
    return x > y ? -1 : x < y;
}

static void map(mr_ctx *ctx, const void *data, size_t len)
{
    const char *s = data;
    char word[256];
    size_t i = 0;
    static const long one = 1;
    while (i < len) {
        while (i < len && !((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')) i++;
        size_t n = 0;
        while (i < len && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')) {
            if (n < sizeof word) word[n++] = (char)(s[i] | 0x20);
            i++;
        }
        if (n) mr_emit(ctx, word, n, &one);
    }
}

int main(int argc, char **argv)
{
    mr_init(&argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: word_count FILE [TOP] [--sequential]\n");
        return 2;
    }
    int top = argc > 2 ? atoi(argv[2]) : 20;
    size_t len;
    char *text = mr_read_file(argv[1], &len);
    mr_app app = {.val_size = sizeof(long), .combine = combine, .cmp = by_count, .map = map, .split_end = mr_text_split_end};
    mr_result res;
    mr_run(&app, text, len, &res);

    long total = 0;
    uint64_t h = MR_DIGEST_INIT;
    for (size_t i = 0; i < res.n; i++) {
        long c = *(long *)res.pairs[i].val;
        total += c;
        h = mr_digest(h, res.pairs[i].key, res.pairs[i].klen + 1);
        h = mr_digest(h, &c, sizeof c);
    }
    printf("word_count: %zu distinct words, %ld words\n", res.n, total);
    for (size_t i = 0; i < res.n && i < (size_t)top; i++) printf("%15s - %ld\n", (char *)res.pairs[i].key, *(long *)res.pairs[i].val);
    printf("digest %016llx\n", (unsigned long long)h);
    mr_free(&res);
    free(text);
    return 0;
}
