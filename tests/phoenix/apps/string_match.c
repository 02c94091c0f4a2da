/* string_match: for each key word, how often it occurs as a whole word (case folded) in a text
 * file and the byte offset of its first occurrence. */
#include "../runtime/mapreduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_KEYS = 16 };

static char *keys[MAX_KEYS];
static size_t key_len[MAX_KEYS];
static int nkeys;
static const char *base; /* start of the input, to turn split pointers into file offsets */

typedef struct match {
    long count;
    long first; /* offset + 1 of the first occurrence; 0: none (the combiner's zero) */
} match;

static void combine(void *acc, const void *val)
{
    match *a = acc;
    const match *v = val;
    a->count += v->count;
    if (v->first && (!a->first || v->first < a->first)) a->first = v->first;
}

static void map(mr_ctx *ctx, const void *data, size_t len)
{
    const char *s = data;
    match local[MAX_KEYS] = {{0, 0}};
    char word[256];
    size_t i = 0;
    while (i < len) {
        while (i < len && !((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')) i++;
        size_t start = i, n = 0;
        while (i < len && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')) {
            if (n < sizeof word) word[n++] = (char)(s[i] | 0x20);
            i++;
        }
        if (!n) continue;
        for (int k = 0; k < nkeys; k++) {
            if (key_len[k] == n && memcmp(keys[k], word, n) == 0) {
                if (!local[k].count) local[k].first = (long)(s + start - base) + 1;
                local[k].count++;
            }
        }
    }
    /* One pair per key and split (the combiner step), not one per word. */
    for (int k = 0; k < nkeys; k++) {
        unsigned char key[4];
        mr_put_be32(key, (uint32_t)k);
        mr_emit(ctx, key, 4, &local[k]);
    }
}

int main(int argc, char **argv)
{
    mr_init(&argc, argv);
    if (argc < 3) {
        fprintf(stderr, "usage: string_match TEXT KEYS [--sequential]\n");
        return 2;
    }
    size_t klen;
    char *kt = mr_read_file(argv[2], &klen);
    for (char *line = strtok(kt, "\n"); line && nkeys < MAX_KEYS; line = strtok(NULL, "\n")) {
        keys[nkeys] = line;
        key_len[nkeys] = strlen(line);
        nkeys++;
    }
    size_t len;
    char *text = mr_read_file(argv[1], &len);
    base = text;
    mr_app app = {.val_size = sizeof(match), .combine = combine, .map = map, .split_end = mr_text_split_end};
    mr_result res;
    mr_run(&app, text, len, &res);
    printf("string_match: %d keys over %zu bytes\n", nkeys, len);
    for (size_t i = 0; i < res.n; i++) {
        int k = (int)mr_get_be32(res.pairs[i].key);
        match *m = res.pairs[i].val;
        if (m->count) printf("%-20s %8ld matches, first at byte %ld\n", keys[k], m->count, m->first - 1);
        else printf("%-20s %8ld matches\n", keys[k], m->count);
    }
    mr_free(&res);
    free(text);
    free(kt);
    return 0;
}
