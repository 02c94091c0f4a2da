/* Attribution (args: BYTES REPS): the region is read from /dev/zero by a system call, written once by
   cold_fill (one store per 8 bytes) and scanned REPS times by hot_sum (one load per 64-byte line). With 64-byte
   lines a report charges BYTES/64*REPS loads to hot_sum, BYTES/8 stores to cold_fill and BYTES/64 stores to the
   kernel. hot_sum sits on one source line so its DWARF line is known. */
#include "common.h"
#include <fcntl.h>
#include <unistd.h>

__attribute__((noinline)) static uint64_t hot_sum(volatile uint64_t *p, size_t n, int reps) { uint64_t s = 0; for (int r = 0; r < reps; r++) for (size_t i = 0; i < n; i += 8) s += p[i]; return s; } /* HOT LINE */

__attribute__((noinline)) static void cold_fill(volatile uint64_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = i;
}

int main(int argc, char **argv)
{
    size_t bytes = (size_t)arg_or(argc, argv, 1, 1 << 18);
    int reps = (int)arg_or(argc, argv, 2, 4);
    volatile uint8_t *r = map_region(bytes);
    int fd = open("/dev/zero", O_RDONLY);
    if (fd < 0 || read(fd, (void *)r, bytes) != (ssize_t)bytes) {
        perror("read");
        return 1;
    }
    close(fd);
    cold_fill((volatile uint64_t *)r, bytes / 8);
    printf("hotfn %zu bytes x %d: %llu\n", bytes, reps, (unsigned long long)hot_sum((volatile uint64_t *)r, bytes / 8, reps));
    return 0;
}
