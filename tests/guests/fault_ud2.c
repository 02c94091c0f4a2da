/* __builtin_trap compiles to UD2: SIGILL (status 132). */
#include <stdio.h>
int main(void)
{
    printf("trapping\n");
    fflush(stdout);
    __builtin_trap();
}
