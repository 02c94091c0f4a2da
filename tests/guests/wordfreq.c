/* The sort of program a new user writes first: generate text, count words
   in a chained hash table, sort by frequency, print the top of the list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

static const char *const vocabulary[] = {
    "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "memory", "cache",
    "processor", "component", "network", "disaggregated", "kernel", "page", "line",
    "eviction", "policy", "fifo", "lru", "random", "region", "thread", "signal",
    "a", "an", "of", "to", "in", "and", "is", "it", "that", "for", "on", "with",
};
#define NVOCAB (sizeof vocabulary / sizeof vocabulary[0])

struct entry {
    char *word;
    unsigned count;
    struct entry *next;
};

#define NBUCKETS 1024
static struct entry *buckets[NBUCKETS];
static unsigned distinct;

static unsigned hash_word(const char *s)
{
    unsigned h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

static void add_word(const char *w)
{
    unsigned b = hash_word(w) % NBUCKETS;
    for (struct entry *e = buckets[b]; e; e = e->next)
        if (strcmp(e->word, w) == 0) {
            e->count++;
            return;
        }
    struct entry *e = malloc(sizeof *e);
    e->word = strdup(w);
    e->count = 1;
    e->next = buckets[b];
    buckets[b] = e;
    distinct++;
}

static int by_count_then_word(const void *a, const void *b)
{
    const struct entry *x = *(const struct entry *const *)a;
    const struct entry *y = *(const struct entry *const *)b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->word, y->word);
}

static unsigned long seed = 1;
static unsigned rnd(void)
{
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)(seed >> 33);
}

int main(void)
{
    /* Build a text with punctuation and capitals, as real input would have. */
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    for (int i = 0; i < 30000; i++) {
        unsigned r = rnd();
        /* Skewed choice so the frequency table has a clear order. */
        unsigned idx = (r % NVOCAB) * ((r >> 8) % NVOCAB) / NVOCAB;
        const char *w = vocabulary[idx];
        char word[64];
        snprintf(word, sizeof word, "%s", w);
        if ((r >> 20) % 11 == 0)
            word[0] = (char)toupper((unsigned char)word[0]);
        if ((r >> 24) % 37 == 0) /* invent rare words */
            snprintf(word, sizeof word, "%s%u", w, (r >> 4) % 50);
        size_t wl = strlen(word);
        if (len + wl + 3 >= cap) {
            cap *= 2;
            text = realloc(text, cap);
        }
        memcpy(text + len, word, wl);
        len += wl;
        text[len++] = ((r >> 28) % 9 == 0) ? ',' : ((r >> 28) % 13 == 1 ? '.' : ' ');
        if ((r >> 16) % 17 == 0)
            text[len++] = '\n';
    }
    text[len] = '\0';

    unsigned long total = 0;
    char word[64];
    size_t wl = 0;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (isalnum(c)) {
            if (wl < sizeof word - 1)
                word[wl++] = (char)tolower(c);
        } else if (wl > 0) {
            word[wl] = '\0';
            add_word(word);
            total++;
            wl = 0;
        }
    }

    struct entry **all = malloc(distinct * sizeof *all);
    unsigned n = 0;
    for (int b = 0; b < NBUCKETS; b++)
        for (struct entry *e = buckets[b]; e; e = e->next)
            all[n++] = e;
    qsort(all, n, sizeof *all, by_count_then_word);

    printf("text bytes: %zu, words: %lu, distinct: %u\n", len, total, distinct);
    printf("top 15:\n");
    for (unsigned i = 0; i < 15 && i < n; i++)
        printf("%4u  %-16s %6u  %5.2f%%\n", i + 1, all[i]->word, all[i]->count,
               100.0 * all[i]->count / (double)total);
    printf("rarest: %s (%u)\n", all[n - 1]->word, all[n - 1]->count);

    for (unsigned i = 0; i < n; i++) {
        free(all[i]->word);
        free(all[i]);
    }
    free(all);
    free(text);
    return 0;
}
