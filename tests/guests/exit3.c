/* A non-zero exit status must survive the trip through exit_group. */
#include <stdio.h>

int main(void)
{
    printf("about to exit with status 3\n");
    return 3;
}
