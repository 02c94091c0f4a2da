/* Files and directories on their error paths: EBADF, ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY,
   EINVAL, ESPIPE and EFAULT for bad guest pointers (never an emulator crash), next to the good paths. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "errno_check.h"

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/tmp/legoemu-errno-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) return 1;
    char buf[256];
    struct stat st;

    T(open("missing", O_RDONLY));
    T(open("missing/x", O_RDONLY));
    T(open(BAD, O_RDONLY));
    T(open("f", O_CREAT | O_WRONLY, 0644));
    T(open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
    T(open("f/x", O_RDONLY));
    T(open(".", O_WRONLY));
    T(open("f", O_RDONLY | O_DIRECTORY));
    T(openat(999, "f", O_RDONLY));
    T(openat(3, "f", O_RDONLY));
    T(write(3, "abc", 3));
    T(write(3, BAD, 3));
    T(write(3, "abc", 0));
    T(read(3, buf, 1));
    T(read(999, buf, 1));
    T(write(-1, "x", 1));
    T(close(999));
    T(close(-1));
    T(pread(3, buf, 1, -1));
    T(pwrite(3, "x", 1, -1));
    T(lseek(3, 0, 99));
    T(lseek(3, -10, SEEK_SET));
    T(lseek(3, 1, SEEK_SET));
    T(close(3));
    T(open("f", O_RDONLY));
    T(read(3, BAD, 2));
    T(read(3, RO, 2));
    T(read(3, buf, 0));
    T(pread(3, buf, 3, 0));
    T(pread(3, BAD, 3, 0));
    struct iovec iov[2] = {{buf, 1}, {BAD, 2}};
    T(readv(3, iov, -1));
    T(readv(3, BAD, 1));
    T(writev(3, iov, 1));
    T(dup(999));
    T(dup2(3, -1));
    T(dup2(3, 3));
    T(dup2(999, 3));
    T(dup3(3, 3, 0));
    T(dup3(3, 10, 0x1234));
    T(fcntl(999, F_GETFD));
    T(fcntl(3, 99999));
    T(fcntl(3, F_DUPFD, 100));
    T(fcntl(3, F_GETFD));
    T(close(100));
    T(fstat(999, &st));
    T(fstat(3, BAD));
    T(stat("missing", &st));
    T(stat(BAD, &st));
    T(stat("f", BAD));
    T(lstat("f/x", &st));
    T(fstatat(999, "f", &st, 0));
    T(fstatat(AT_FDCWD, "f", &st, 0x9999));
    T(ftruncate(999, 0));
    T(ftruncate(3, 10));
    T(ftruncate(3, -1));
    T(truncate("missing", 0));
    T(truncate("f", 5));
    T(access("missing", F_OK));
    T(access("f", 0x77));
    T(access(BAD, F_OK));
    T(mkdir("d", 0755));
    T(mkdir("d", 0755));
    T(mkdir("f/d", 0755));
    T(mkdir("missing/d", 0755));
    T(mkdir(BAD, 0755));
    T(open("d/g", O_CREAT | O_WRONLY, 0644));
    T(rmdir("d"));
    T(rmdir("f"));
    T(rmdir("missing"));
    T(rmdir("."));
    T(unlink("d"));
    T(unlink("missing"));
    T(unlink(BAD));
    T(rename("missing", "x"));
    T(rename("f", "d"));
    T(rename("d", "f"));
    T(rename("d", "d/sub"));
    T(link("f", "d/g"));
    T(link("missing", "h"));
    T(link("f", "h"));
    T(symlink("f", "h"));
    T(symlink("target", "s"));
    T(readlink("s", buf, sizeof buf));
    T(readlink("f", buf, sizeof buf));
    T(readlink("missing", buf, sizeof buf));
    T(readlink("s", buf, 0));
    T(readlink("s", BAD, sizeof buf));
    T(chdir("missing"));
    T(chdir("f"));
    T(chdir(BAD));
    T(fchdir(999));
    T(fchdir(3));
    T(getcwd(buf, 1) == NULL);
    T(syscall(SYS_getcwd, buf, 1));
    T(syscall(SYS_getcwd, BAD, sizeof buf));
    T(chmod("missing", 0644));
    T(fchmod(999, 0644));
    T(utimensat(AT_FDCWD, "missing", NULL, 0));
    T(utimensat(AT_FDCWD, "f", BAD, 0));
    int p[2];
    T(pipe(p));
    T(lseek(p[0], 0, SEEK_SET));
    T(pread(p[0], buf, 1, 0));
    T(pipe(BAD));
    T(pipe2(p, 0x12345));
    T(syscall(SYS_getdents64, 999, buf, sizeof buf));
    T(syscall(SYS_getdents64, 3, buf, sizeof buf));
    T(syscall(SYS_getdents64, p[0], buf, sizeof buf));
    T(statx(AT_FDCWD, "missing", 0, STATX_ALL, (struct statx *)buf));
    T(statx(AT_FDCWD, "f", 0, STATX_ALL, BAD));
    T(faccessat(AT_FDCWD, "f", R_OK, 0x9999));
    T(unlinkat(AT_FDCWD, "d", 0));
    T(unlinkat(AT_FDCWD, "f", AT_REMOVEDIR));
    T(unlinkat(AT_FDCWD, "f", 0x9999));
    T(fsync(999));
    T(ioctl(3, 0x5401, buf));
    T(ioctl(999, 0x5401, buf));
    T(sendfile(p[1], 999, NULL, 1));
    T(sendfile(p[1], 3, BAD, 1));
    T(close_range(10, 5, 0));
    T(memfd_create(BAD, 0));
    T(memfd_create("m", 0x1234));

    unlink("d/g");
    unlink("h");
    unlink("s");
    unlink("f");
    rmdir("d");
    chdir("/");
    T(rmdir(dir));
    return 0;
}
