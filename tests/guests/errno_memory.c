/* Memory calls on good and error paths: mmap argument checks, MAP_FIXED_NOREPLACE, munmap/mprotect of
   odd ranges, mremap (grow in place, move, fixed, shrink), madvise(MADV_DONTNEED) zeroing private
   anonymous pages, mincore, msync, and EFAULT from system calls handed unmapped or read-only memory. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errno_check.h"

#define FAILED(p) ((p) == MAP_FAILED ? -1L : 0L)

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    long pg = sysconf(_SC_PAGESIZE);
    T(FAILED(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)));
    T(FAILED(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 999, 0)));
    T(FAILED(mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0)));
    T(FAILED(mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1)));
    T(FAILED(mmap((void *)1, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)));
    char *a = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T(FAILED(a));
    T(FAILED(mmap(a + pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)));
    T(FAILED(mmap(a + pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)));
    T(munmap(a + 1, pg));
    T(munmap(a, 0));
    T(mprotect(a + 1, pg, PROT_READ));
    T(mprotect(a, pg, 0x1000));
    T(mprotect((void *)(1UL << 46), pg, PROT_READ));

    /* MADV_DONTNEED: private anonymous pages read back as zero. */
    memset(a, 0x5a, 4 * pg);
    T(madvise(a, 2 * pg, MADV_DONTNEED));
    T(a[0] + a[pg] + a[2 * pg] / 0x5a);
    T(madvise(a + 1, pg, MADV_DONTNEED));
    T(madvise(a, pg, 12345));
    T(madvise((void *)(1UL << 46), pg, MADV_DONTNEED));
    T(madvise(a, pg, MADV_WILLNEED));

    /* mincore: in-core bits for touched pages; errors for unaligned or unmapped ranges. */
    unsigned char vec[4];
    a[0] = 1;
    T(mincore(a, 4 * pg, vec));
    T(vec[0] & 1);
    T(mincore(a + 1, pg, vec));
    T(mincore((void *)(1UL << 46), pg, vec));
    T(mincore(a, pg, BAD));

    /* mremap: grow in place or move, MREMAP_FIXED, shrink, and refusals. */
    char *b = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(b, "kept across mremap");
    char *c = mremap(b, pg, 16 * pg, MREMAP_MAYMOVE);
    T(FAILED(c));
    T(strcmp(c, "kept across mremap"));
    c[15 * pg] = 7;
    char *d = mremap(c, 16 * pg, pg, 0);
    T(d == c);
    T(FAILED(mremap(c, pg, 2 * pg, 0)) == -1 ? 0 : 0);
    T(FAILED(mremap(c + 1, pg, 2 * pg, MREMAP_MAYMOVE)));
    T(FAILED(mremap(c, 0, pg, MREMAP_MAYMOVE)));
    T(FAILED(mremap(c, pg, 2 * pg, MREMAP_FIXED)));
    T(FAILED(mremap((void *)(1UL << 46), pg, 2 * pg, MREMAP_MAYMOVE)));
    char *e = mremap(c, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED, a + 2 * pg);
    T(e == a + 2 * pg);
    T(strcmp(e, "kept across mremap"));

    /* msync: whole pages of a mapping. */
    T(msync(a, pg, MS_SYNC));
    T(msync(a + 1, pg, MS_SYNC));
    T(msync(a, pg, MS_SYNC | MS_ASYNC));
    T(msync((void *)(1UL << 46), pg, MS_SYNC));

    /* A file mapping: pages past the end of the file, a read-only mapping of a write-only file. */
    char path[] = "/tmp/legoemu-errno-mem-XXXXXX";
    int fd = mkstemp(path);
    T(write(fd, "0123456789", 10));
    char *f = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
    T(FAILED(f));
    T(f[3] - '0');
    T(f[20]);
    int wo = open(path, O_WRONLY);
    T(FAILED(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, wo, 0)));
    T(FAILED(mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, open(path, O_RDONLY), 0)));
    T(FAILED(mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, pg / 2)));
    unlink(path);

    /* System calls handed unmapped, read-only or PROT_NONE memory fail with EFAULT. */
    int p[2];
    pipe(p);
    T(write(p[1], "x", 1));
    T(read(p[0], RO, 1));
    T(write(p[1], "y", 1));
    T(mprotect(a, pg, PROT_NONE));
    T(read(p[0], a, 1));
    T(write(p[1], a, 1));
    T(munmap(a, 4 * pg));
    T(read(p[0], a + pg, 1));
    T(munmap(a, 4 * pg));
    T(brk(NULL) == 0 ? 0 : 1);
    return 0;
}
