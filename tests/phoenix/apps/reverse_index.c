/* reverse_index: for every link (<a href="...">) in a tree of HTML files, the files that
 * contain it. Prints the most linked targets and a digest of the whole index. */
#define _GNU_SOURCE
#include "../runtime/mapreduce.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char **files;
static int nfiles, cap_files;

/* A growable list of file indices; the combiner's zero is the empty list. */
typedef struct list {
    int32_t *ids;
    int32_t n, cap;
} list;

static void combine(void *acc, const void *val)
{
    list *a = acc;
    const list *v = val;
    if (a->n + v->n > a->cap) {
        a->cap = (a->n + v->n) * 2;
        a->ids = realloc(a->ids, sizeof(int32_t) * a->cap);
        if (!a->ids) {
            fprintf(stderr, "reverse_index: out of memory\n");
            exit(2);
        }
    }
    memcpy(a->ids + a->n, v->ids, sizeof(int32_t) * v->n);
    a->n += v->n;
}

static int cmp_id(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* Final form: sorted, without duplicates (a file may link to the same target twice). */
static void reduce(mr_pair *p)
{
    list *l = p->val;
    qsort(l->ids, l->n, sizeof(int32_t), cmp_id);
    int32_t o = 0;
    for (int32_t i = 0; i < l->n; i++)
        if (o == 0 || l->ids[o - 1] != l->ids[i]) l->ids[o++] = l->ids[i];
    l->n = o;
}

static int by_files(const mr_pair *a, const mr_pair *b)
{
    int32_t x = ((list *)a->val)->n, y = ((list *)b->val)->n;
    return x > y ? -1 : x < y;
}

static void map(mr_ctx *ctx, const void *data, size_t len)
{
    const int32_t *ids = data;
    for (size_t f = 0; f < len / sizeof(int32_t); f++) {
        int32_t id = ids[f];
        size_t n;
        char *text = mr_read_file(files[id], &n);
        static const char tag[] = "<a href=\"";
        for (char *p = text; (p = strstr(p, tag)) != NULL;) {
            p += sizeof tag - 1;
            char *end = strchr(p, '"');
            if (!end) break;
            list one = {&id, 1, 1};
            mr_emit(ctx, p, (size_t)(end - p), &one);
            p = end + 1;
        }
        free(text);
    }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Collects regular files under dir, depth first, in name order (readdir order is not stable). */
static void walk(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        exit(1);
    }
    char **names = NULL;
    int n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, sizeof(char *) * cap);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(char *), cmp_str);
    for (int i = 0; i < n; i++) {
        char *path;
        if (asprintf(&path, "%s/%s", dir, names[i]) < 0) exit(2);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            walk(path);
            free(path);
        } else {
            if (nfiles == cap_files) {
                cap_files = cap_files ? cap_files * 2 : 256;
                files = realloc(files, sizeof(char *) * cap_files);
            }
            files[nfiles++] = path;
        }
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    mr_init(&argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: reverse_index DIR [TOP] [--sequential]\n");
        return 2;
    }
    int top = argc > 2 ? atoi(argv[2]) : 20;
    walk(argv[1]);
    int32_t *ids = mr_xmalloc(sizeof(int32_t) * (nfiles ? nfiles : 1));
    for (int i = 0; i < nfiles; i++) ids[i] = i;
    mr_app app = {.val_size = sizeof(list), .combine = combine, .reduce = reduce, .cmp = by_files, .map = map, .unit = 4, .split_size = 4 * 8};
    mr_result res;
    mr_run(&app, ids, sizeof(int32_t) * nfiles, &res);
    size_t root = strlen(argv[1]) + 1;
    uint64_t h = MR_DIGEST_INIT;
    long refs = 0;
    for (size_t i = 0; i < res.n; i++) {
        list *l = res.pairs[i].val;
        refs += l->n;
        h = mr_digest(h, res.pairs[i].key, res.pairs[i].klen + 1);
        for (int32_t j = 0; j < l->n; j++) h = mr_digest(h, files[l->ids[j]] + root, strlen(files[l->ids[j]] + root) + 1);
    }
    printf("reverse_index: %d files, %zu links, %ld (link, file) pairs\n", nfiles, res.n, refs);
    for (size_t i = 0; i < res.n && i < (size_t)top; i++) {
        list *l = res.pairs[i].val;
        printf("%s %d:", (char *)res.pairs[i].key, l->n);
        for (int32_t j = 0; j < l->n && j < 3; j++) printf(" %s", files[l->ids[j]] + root);
        printf("%s\n", l->n > 3 ? " ..." : "");
    }
    printf("digest %016llx\n", (unsigned long long)h);
    mr_free(&res);
    return 0;
}
