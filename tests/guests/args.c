/* Echoes the argument vector and the LEGO_* environment, so the initial
   stack the loader builds (argc, argv, envp) is checked byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv, char **envp)
{
    printf("argc=%d\n", argc);
    /* The harness gives the same absolute path natively and to legoemu, so
       argv[0] must match as well. */
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=[%s] len=%zu\n", i, argv[i], strlen(argv[i]));
    printf("argv[argc]=%s\n", argv[argc] == NULL ? "NULL" : "non-NULL");
    /* The order of envp is up to whoever builds it (the .NET Process API, the
       emulator), so only the set of entries is compared: sort them. */
    int count = 0, total = 0;
    for (char **e = envp; *e != NULL; e++)
        total++;
    char **lego = malloc(sizeof(char *) * (size_t)(total + 1));
    for (char **e = envp; *e != NULL; e++)
        if (strncmp(*e, "LEGO_", 5) == 0)
            lego[count++] = *e;
    qsort(lego, (size_t)count, sizeof lego[0], by_string);
    for (int i = 0; i < count; i++)
        printf("env: [%s]\n", lego[i]);
    printf("lego env count=%d\n", count);
    free(lego);
    return 0;
}
