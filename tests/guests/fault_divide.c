/* Integer division by zero raises #DE, which Linux delivers as SIGFPE (status 136). */
#include <stdio.h>
int main(int argc, char **argv)
{
    (void)argv;
    printf("dividing\n");
    fflush(stdout);
    volatile int zero = argc - 1;
    volatile int r = 100 / zero;
    printf("not reached %d\n", r);
    return 0;
}
