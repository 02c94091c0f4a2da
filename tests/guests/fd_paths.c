/* Paths that name the process's own descriptors: /dev/fd/N, /proc/self/fd/N, /proc/PID/fd/N, fdinfo and
   /dev/stdin. They must reach the guest's descriptor N, whatever number the descriptor has elsewhere
   (shells open /dev/fd/63 for a process substitution). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) { printf("%-40s %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(errno) : ""); }

static void read_through(const char *what, const char *path)
{
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    long n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    show(what, n);
    if (n > 0) printf("  got: %s\n", buf);
    if (fd >= 0) close(fd);
}

/* Lists a descriptor directory: every number listed must be an open descriptor, every open one listed, as in the
   kernel's own listing (the emulator's runtime has dozens of descriptors of its own, which are not the guest's). */
static void list_descriptors(const char *dirpath, const char *label)
{
    DIR *d = opendir(dirpath);
    if (!d) { printf("opendir %s failed: %s\n", dirpath, strerrorname_np(errno)); return; }
    static char listed[1024];
    memset(listed, 0, sizeof listed);
    int entries = 0, dots = 0, bad = 0;
    long at_third = -1;
    char third[32] = "";
    for (struct dirent *e; (e = readdir(d));)
    {
        if (entries++ == 2) { at_third = telldir(d); }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) { dots++; continue; }
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || fd < 0 || fd >= 1024) { bad++; continue; }
        listed[fd] = 1;
        if (entries == 4) snprintf(third, sizeof third, "%s", e->d_name);
    }
    int missing = 0, extra = 0, open_count = 0;
    for (int fd = 0; fd < 1024; fd++)
    {
        int open_now = fcntl(fd, F_GETFD) >= 0;
        open_count += open_now;
        if (open_now && !listed[fd]) missing++;
        if (!open_now && listed[fd]) extra++;
    }
    printf("%s: dots %d, malformed %d, open but not listed %d, listed but not open %d, listed all %d\n",
           label, dots, bad, missing, extra, entries - dots == open_count);
    /* seekdir back to a position telldir gave: the same entry comes next. */
    if (at_third >= 0)
    {
        seekdir(d, at_third);
        struct dirent *e = readdir(d);
        printf("  seekdir to a telldir position: %s\n", e && strcmp(e->d_name, third) == 0 ? "same entry" : "another entry");
    }
    rewinddir(d);
    int again = 0;
    while (readdir(d)) again++;
    printf("  after rewinddir: %s\n", again == entries ? "same count" : "another count");
    /* A name looked up relative to the directory is the process's descriptor. */
    int fd = dirfd(d), dev = open("/dev/null", O_RDONLY), moved = dup2(dev, 41);
    close(dev);
    char name[16], target[256] = {0};
    snprintf(name, sizeof name, "%d", moved);
    long n = readlinkat(fd, name, target, sizeof target - 1);
    if (strstr(dirpath, "fdinfo"))
    {
        int fi = openat(fd, name, O_RDONLY);
        char info[256] = {0};
        long r = fi < 0 ? -1 : read(fi, info, sizeof info - 1);
        *strchrnul(info, '\n') = 0;
        printf("  openat(dir, \"41\") of fdinfo: %s\n", r > 0 ? info : strerrorname_np(errno));
        if (fi >= 0) close(fi);
    }
    else printf("  readlinkat(dir, \"41\"): %s\n", n > 0 ? target : strerrorname_np(errno));
    struct stat st;
    printf("  fstatat(dir, \"41\") a character device: %d\n", fstatat(fd, name, &st, 0) == 0 && S_ISCHR(st.st_mode));
    close(moved);
    closedir(d);
}

/* Run from a descriptor (fexecve): /proc/self/exe and the command name come from the file's name. */
static void run_from_descriptor(void)
{
    int self = open("/proc/self/exe", O_RDONLY), m = memfd_create("fd-paths-prog", 0);
    static char image[1 << 16];
    for (long n; (n = read(self, image, sizeof image)) > 0;) write(m, image, n);
    close(self);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0)
    {
        char *argv[] = { "fd_paths", "from-descriptor", NULL };
        fexecve(m, argv, (char *[]){ NULL });
        _exit(9);
    }
    int st;
    waitpid(c, &st, 0);
    printf("fexecve of a memfd: status %d\n", WEXITSTATUS(st));
    close(m);
}

int main(int argc, char **argv)
{
    if (argc > 1)
    {
        char b[256] = {0};
        long n = readlink("/proc/self/exe", b, sizeof b - 1);
        printf("  exe: %.*s\n", (int)(n > 0 ? n : 0), b);
        int c = open("/proc/self/comm", O_RDONLY);
        n = read(c, b, sizeof b - 1);
        printf("  comm: %.*s", (int)(n > 0 ? n : 0), b);
        return 0;
    }
    char dir[] = "/tmp/legoemu-fdpaths-XXXXXX";
    mkdtemp(dir);
    char file[128], sub[128], path[256];
    snprintf(file, sizeof file, "%s/data", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0700);
    int f = open(file, O_CREAT | O_RDWR, 0600);
    write(f, "file contents", 13);
    int s = open(sub, O_RDONLY | O_DIRECTORY);
    char inner[160];
    snprintf(inner, sizeof inner, "%s/inner", sub);
    int in = open(inner, O_CREAT | O_WRONLY, 0600);
    write(in, "inner file", 10);
    close(in);

    /* A pipe through /dev/fd and /proc/self/fd, and a file through /proc/PID/fd. */
    int p[2];
    pipe(p);
    write(p[1], "through the pipe", 16);
    snprintf(path, sizeof path, "/dev/fd/%d", p[0]);
    read_through("open /dev/fd/N of a pipe", path);
    write(p[1], "again", 5);
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
    read_through("open /proc/self/fd/N of a pipe", path);
    snprintf(path, sizeof path, "/proc/%d/fd/%d", getpid(), f);
    read_through("open /proc/PID/fd/N of a file", path);
    snprintf(path, sizeof path, "/dev/fd/%d/inner", s);
    read_through("open /dev/fd/N/inner of a directory", path);

    /* stat and readlink see the guest's descriptor. */
    struct stat a, b;
    fstat(f, &a);
    snprintf(path, sizeof path, "/dev/fd/%d", f);
    show("stat /dev/fd/N", stat(path, &b));
    printf("  same file: %d\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    show("lstat /dev/fd/N", lstat(path, &b));
    printf("  a link: %d\n", S_ISLNK(b.st_mode));
    char target[256] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", f);
    long n = readlink(path, target, sizeof target - 1);
    show("readlink /proc/self/fd/N", n);
    printf("  names the file: %d\n", n > 0 && strcmp(target, file) == 0);
    show("faccessat /dev/fd/N", faccessat(AT_FDCWD, path, R_OK, 0));

    /* fdinfo beside fd: the position of the guest's descriptor. */
    lseek(f, 7, SEEK_SET);
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", f);
    char info[256] = {0};
    int fi = open(path, O_RDONLY);
    show("open /proc/self/fdinfo/N", fi >= 0);
    read(fi, info, sizeof info - 1);
    close(fi);
    *strchrnul(info, '\n') = 0;
    printf("  %s\n", info);
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", getpid(), f);
    fi = open(path, O_RDONLY);
    memset(info, 0, sizeof info);
    read(fi, info, sizeof info - 1);
    close(fi);
    *strchrnul(info, '\n') = 0;
    printf("  through /proc/PID: %s\n", info);

    /* A number that is not open names nothing; nor do malformed ones. */
    show("open /dev/fd/ of a closed number", open("/dev/fd/900", O_RDONLY));
    show("open /proc/self/fd/ with a leading 0", ({ snprintf(path, sizeof path, "/proc/self/fd/0%d", f); open(path, O_RDONLY); }));

    /* /dev/stdin follows descriptor 0 wherever it was moved from; readlink sees the link itself. */
    int saved = dup(0);
    lseek(f, 0, SEEK_SET);
    dup2(f, 0);
    read_through("open /dev/stdin after dup2", "/dev/stdin");
    n = readlink("/dev/stdin", target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    show("readlink /dev/stdin", n);
    printf("  %s\n", target);
    dup2(saved, 0);
    close(saved);

    /* A descriptor number far from the ones the process had at its start. */
    int high = fcntl(f, F_DUPFD, 63);
    snprintf(path, sizeof path, "/dev/fd/%d", high);
    lseek(f, 5, SEEK_SET);
    read_through("open /dev/fd/63", path);

    /* Listings of the descriptor directories. */
    list_descriptors("/proc/self/fd", "/proc/self/fd");
    list_descriptors("/dev/fd", "/dev/fd");
    list_descriptors("/proc/self/fdinfo", "/proc/self/fdinfo");
    snprintf(path, sizeof path, "/proc/%d/fd", getpid());
    list_descriptors(path, "/proc/PID/fd");
    list_descriptors("/proc/thread-self/fd", "/proc/thread-self/fd");

    run_from_descriptor();

    unlink(inner);
    rmdir(sub);
    unlink(file);
    rmdir(dir);
    return 0;
}
