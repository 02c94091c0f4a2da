/* Built with -static-pie: the loader must pick a load base and the
   startup code relocates itself, so this differs from the plain static case. */
#include <stdio.h>
#include <string.h>

static const char *const words[] = { "position", "independent", "static", "executable" };
static const char *const *table = words; /* needs a RELATIVE relocation */

int main(void)
{
    printf("Hello from a static PIE\n");
    size_t total = 0;
    for (int i = 0; i < 4; i++) {
        printf("%d: %s\n", i, table[i]);
        total += strlen(table[i]);
    }
    printf("total length %zu\n", total);
    return 0;
}
