/* The start-up benchmark: a static hello world, so the time measured is the emulator's own start. */
#include <stdio.h>

int main(void)
{
    puts("hello");
    return 0;
}
