/* Prints, then stores through a wild pointer: the status must be SIGSEGV's (139) natively and emulated. */
#include <stdio.h>
int main(void)
{
    printf("before the fault\n");
    fflush(stdout);
    volatile int *p = (volatile int *)(unsigned long)0x1000;
    *p = 42;
    printf("not reached\n");
    return 0;
}
