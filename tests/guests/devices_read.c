/* Reads of the memory devices (/dev/zero, /dev/urandom) return every byte asked for: only a signal the program
 * receives could cut them short, and the emulator's own runtime signals must not. Large reads, repeated, so a
 * stray host signal would land inside one. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

static int shorts(const char *path, size_t bytes, int rounds)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); exit(1); }
    char *buf = malloc(bytes);
    int n = 0;
    for (int i = 0; i < rounds; i++)
        if (read(fd, buf, bytes) != (ssize_t)bytes) n++;
    for (size_t i = 0; path[5] == 'z' && i < bytes; i++)
        if (buf[i] != 0) { puts("nonzero byte from /dev/zero"); exit(1); }
    free(buf);
    close(fd);
    return n;
}

/* The same through readv, two halves. */
static int vector_shorts(int rounds)
{
    int fd = open("/dev/zero", O_RDONLY);
    if (fd < 0) { perror("/dev/zero"); exit(1); }
    size_t half = 1 << 19;
    char *buf = malloc(2 * half);
    int n = 0;
    for (int i = 0; i < rounds; i++) {
        struct iovec iov[2] = { { buf, half }, { buf + half, half } };
        if (readv(fd, iov, 2) != (ssize_t)(2 * half)) n++;
    }
    free(buf);
    close(fd);
    return n;
}

int main(void)
{
    printf("/dev/zero short reads: %d\n", shorts("/dev/zero", 1 << 20, 48));
    printf("/dev/urandom short reads: %d\n", shorts("/dev/urandom", 1 << 16, 16));
    printf("/dev/zero short readv: %d\n", vector_shorts(32));
    return 0;
}
