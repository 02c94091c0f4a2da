namespace LegoEmu.Syscalls.Abi;

/// <summary>x86-64 Linux system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).</summary>
public static class Nr
{
    public const int read = 0, write = 1, open = 2, close = 3, stat = 4, fstat = 5, lstat = 6, poll = 7, lseek = 8,
        mmap = 9, mprotect = 10, munmap = 11, brk = 12, rt_sigaction = 13, rt_sigprocmask = 14, rt_sigreturn = 15,
        ioctl = 16, pread64 = 17, pwrite64 = 18, readv = 19, writev = 20, access = 21, pipe = 22, select = 23,
        sched_yield = 24, mremap = 25, msync = 26, mincore = 27, madvise = 28, dup = 32, dup2 = 33, pause = 34,
        nanosleep = 35, getitimer = 36, alarm = 37, setitimer = 38, getpid = 39, sendfile = 40, socket = 41,
        clone = 56, fork = 57, vfork = 58, execve = 59, exit = 60, wait4 = 61, kill = 62, uname = 63, fcntl = 72,
        flock = 73, fsync = 74, fdatasync = 75, truncate = 76, ftruncate = 77, getdents = 78, getcwd = 79, chdir = 80,
        fchdir = 81, rename = 82, mkdir = 83, rmdir = 84, creat = 85, link = 86, unlink = 87, symlink = 88,
        readlink = 89, chmod = 90, fchmod = 91, chown = 92, fchown = 93, lchown = 94, umask = 95, gettimeofday = 96,
        getrlimit = 97, getrusage = 98, sysinfo = 99, times = 100, getuid = 102, getgid = 104, setuid = 105,
        setgid = 106, geteuid = 107, getegid = 108, setpgid = 109, getppid = 110, getpgrp = 111, setsid = 112,
        getgroups = 115, getpgid = 121, getsid = 124, sigaltstack = 131, statfs = 137, fstatfs = 138,
        prctl = 157, arch_prctl = 158, setrlimit = 160, sync = 162, gettid = 186, tkill = 200, time = 201, futex = 202,
        sched_setaffinity = 203, sched_getaffinity = 204, getdents64 = 217, fadvise64 = 221, set_tid_address = 218,
        clock_gettime = 228, clock_getres = 229, clock_nanosleep = 230, exit_group = 231, tgkill = 234,
        openat = 257, mkdirat = 258, fchownat = 260, newfstatat = 262, unlinkat = 263, renameat = 264,
        linkat = 265, symlinkat = 266, readlinkat = 267, fchmodat = 268, faccessat = 269, pselect6 = 270,
        ppoll = 271, set_robust_list = 273, get_robust_list = 274, utimensat = 280, pipe2 = 293, dup3 = 292,
        prlimit64 = 302, renameat2 = 316, getrandom = 318, memfd_create = 319, statx = 332, rseq = 334,
        clone3 = 435, execveat = 322, waitid = 247, rt_sigpending = 127, rt_sigsuspend = 130, getxattr = 191, lgetxattr = 192, fgetxattr = 193, listxattr = 194, llistxattr = 195, flistxattr = 196,
        fchmodat2 = 452, fallocate = 285, copy_file_range = 326, getcpu = 309, syncfs = 306,
        getpriority = 140, setpriority = 141, mlock = 149, munlock = 150, personality = 135, close_range = 436, faccessat2 = 439,
        setxattr = 188, lsetxattr = 189, fsetxattr = 190, removexattr = 197, lremovexattr = 198, fremovexattr = 199, chroot = 161,
        mlockall = 151, munlockall = 152, mlock2 = 325, membarrier = 324, rt_sigqueueinfo = 129, rt_tgsigqueueinfo = 297,
        preadv = 295, pwritev = 296, preadv2 = 327, pwritev2 = 328, pidfd_open = 434, pidfd_send_signal = 424, pidfd_getfd = 438,
        splice = 275, tee = 276, vmsplice = 278, inotify_init = 253, inotify_add_watch = 254, inotify_rm_watch = 255, inotify_init1 = 294,
        sendmmsg = 307, recvmmsg = 299, sched_getscheduler = 145, sched_setscheduler = 144, sched_getparam = 143, sched_setparam = 142,
        sched_get_priority_max = 146, sched_get_priority_min = 147, sched_rr_get_interval = 148;
}
