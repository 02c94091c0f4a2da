using System.Text;
using LegoEmu.Syscalls.Runtime;
using Xunit;

namespace LegoEmu.Tests.Abi;

/// <summary>
/// The system-call coverage table in docs/SYSCALLS.md is generated from the dispatcher itself, so it
/// cannot drift: this test fails when the committed table differs (LEGOEMU_WRITE_COVERAGE=1 rewrites it).
/// </summary>
public sealed class SyscallCoverageTests
{
    /// <summary>x86-64 system calls a Linux user program can make, by number, for the "not yet" column.</summary>
    static readonly (int Nr, string Name)[] Known =
    {
        (0, "read"), (1, "write"), (2, "open"), (3, "close"), (4, "stat"), (5, "fstat"), (6, "lstat"), (7, "poll"), (8, "lseek"),
        (9, "mmap"), (10, "mprotect"), (11, "munmap"), (12, "brk"), (13, "rt_sigaction"), (14, "rt_sigprocmask"), (15, "rt_sigreturn"),
        (16, "ioctl"), (17, "pread64"), (18, "pwrite64"), (19, "readv"), (20, "writev"), (21, "access"), (22, "pipe"), (23, "select"),
        (24, "sched_yield"), (25, "mremap"), (26, "msync"), (27, "mincore"), (28, "madvise"), (32, "dup"), (33, "dup2"), (34, "pause"),
        (35, "nanosleep"), (36, "getitimer"), (37, "alarm"), (38, "setitimer"), (39, "getpid"), (40, "sendfile"), (41, "socket"),
        (42, "connect"), (43, "accept"), (44, "sendto"), (45, "recvfrom"), (46, "sendmsg"), (47, "recvmsg"), (48, "shutdown"),
        (49, "bind"), (50, "listen"), (51, "getsockname"), (52, "getpeername"), (53, "socketpair"), (54, "setsockopt"),
        (55, "getsockopt"), (56, "clone"), (57, "fork"), (58, "vfork"), (59, "execve"), (60, "exit"), (61, "wait4"), (62, "kill"),
        (63, "uname"), (72, "fcntl"), (73, "flock"), (74, "fsync"), (75, "fdatasync"), (76, "truncate"), (77, "ftruncate"),
        (78, "getdents"), (79, "getcwd"), (80, "chdir"), (81, "fchdir"), (82, "rename"), (83, "mkdir"), (84, "rmdir"), (85, "creat"),
        (86, "link"), (87, "unlink"), (88, "symlink"), (89, "readlink"), (90, "chmod"), (91, "fchmod"), (92, "chown"), (93, "fchown"),
        (94, "lchown"), (95, "umask"), (96, "gettimeofday"), (97, "getrlimit"), (98, "getrusage"), (99, "sysinfo"), (100, "times"),
        (102, "getuid"), (104, "getgid"), (107, "geteuid"), (108, "getegid"), (109, "setpgid"), (110, "getppid"), (111, "getpgrp"),
        (112, "setsid"), (115, "getgroups"), (121, "getpgid"), (124, "getsid"), (127, "rt_sigpending"), (130, "rt_sigsuspend"),
        (131, "sigaltstack"), (137, "statfs"), (138, "fstatfs"), (140, "getpriority"), (157, "prctl"), (158, "arch_prctl"),
        (160, "setrlimit"), (162, "sync"), (186, "gettid"), (191, "getxattr"), (192, "lgetxattr"), (193, "fgetxattr"),
        (194, "listxattr"), (195, "llistxattr"), (196, "flistxattr"), (200, "tkill"), (201, "time"), (202, "futex"),
        (204, "sched_getaffinity"), (217, "getdents64"), (222, "timer_create"), (223, "timer_settime"),
        (224, "timer_gettime"), (225, "timer_getoverrun"), (226, "timer_delete"), (218, "set_tid_address"), (228, "clock_gettime"), (229, "clock_getres"),
        (230, "clock_nanosleep"), (231, "exit_group"), (232, "epoll_wait"), (233, "epoll_ctl"), (234, "tgkill"), (247, "waitid"),
        (257, "openat"), (258, "mkdirat"), (260, "fchownat"), (262, "newfstatat"), (263, "unlinkat"), (264, "renameat"),
        (265, "linkat"), (266, "symlinkat"), (267, "readlinkat"), (268, "fchmodat"), (269, "faccessat"), (270, "pselect6"),
        (271, "ppoll"), (273, "set_robust_list"), (280, "utimensat"), (281, "epoll_pwait"), (282, "signalfd"), (283, "timerfd_create"),
        (284, "eventfd"), (285, "fallocate"), (286, "timerfd_settime"), (287, "timerfd_gettime"), (288, "accept4"), (289, "signalfd4"), (290, "eventfd2"), (291, "epoll_create1"), (292, "dup3"),
        (293, "pipe2"), (302, "prlimit64"), (309, "getcpu"), (316, "renameat2"), (318, "getrandom"), (319, "memfd_create"),
        (322, "execveat"), (326, "copy_file_range"), (332, "statx"), (334, "rseq"), (435, "clone3"), (436, "close_range"),
        (439, "faccessat2"),
        (29, "shmget"), (30, "shmat"), (31, "shmctl"), (64, "semget"), (65, "semop"), (66, "semctl"), (67, "shmdt"), (68, "msgget"),
        (69, "msgsnd"), (70, "msgrcv"), (71, "msgctl"), (220, "semtimedop"), (253, "inotify_init"),
        (254, "inotify_add_watch"), (255, "inotify_rm_watch"), (294, "inotify_init1"), (275, "splice"), (276, "tee"), (278, "vmsplice"),
        (299, "recvmmsg"), (307, "sendmmsg"), (424, "pidfd_send_signal"), (434, "pidfd_open"), (438, "pidfd_getfd"),
        (274, "get_robust_list"), (161, "chroot"), (141, "setpriority"), (203, "sched_setaffinity"), (135, "personality"),
    };

    /// <summary>
    /// Calls deliberately left without a handler (they get -ENOSYS), with the reason: what they would act on is
    /// the host's, or the emulator's own process rather than the guest, or a kernel facility not emulated.
    /// </summary>
    static readonly (int Nr, string Name, string Reason)[] LeftOut =
    {
        (101, "ptrace", "a tracer would trace the emulator, not the guest"),
        (103, "syslog", "the host kernel's log"),
        (126, "capset", "capabilities are the emulator process's own"),
        (134, "uselib", "a.out libraries"),
        (136, "ustat", "obsolete (statfs)"),
        (139, "sysfs", "obsolete (/proc/filesystems)"),
        (153, "vhangup", "administration of the host"),
        (154, "modify_ldt", "16- and 32-bit segments are not emulated"),
        (155, "pivot_root", "administration of the host"),
        (156, "_sysctl", "obsolete (/proc/sys)"),
        (159, "adjtimex", "the host's clock"),
        (163, "acct", "administration of the host"),
        (164, "settimeofday", "the host's clock"),
        (165, "mount", "administration of the host"),
        (166, "umount2", "administration of the host"),
        (167, "swapon", "administration of the host"),
        (168, "swapoff", "administration of the host"),
        (169, "reboot", "administration of the host"),
        (170, "sethostname", "administration of the host"),
        (171, "setdomainname", "administration of the host"),
        (172, "iopl", "I/O ports are not emulated"),
        (173, "ioperm", "I/O ports are not emulated"),
        (174, "create_module", "the kernel has none either"),
        (175, "init_module", "administration of the host"),
        (176, "delete_module", "administration of the host"),
        (177, "get_kernel_syms", "the kernel has none either"),
        (178, "query_module", "the kernel has none either"),
        (179, "quotactl", "administration of the host"),
        (180, "nfsservctl", "the kernel has none either"),
        (181, "getpmsg", "the kernel has none either"),
        (182, "putpmsg", "the kernel has none either"),
        (183, "afs_syscall", "the kernel has none either"),
        (184, "tuxcall", "the kernel has none either"),
        (185, "security", "the kernel has none either"),
        (205, "set_thread_area", "32-bit TLS segments are not emulated (arch_prctl is)"),
        (206, "io_setup", "Linux native AIO is not emulated (POSIX AIO in glibc uses threads)"),
        (207, "io_destroy", "Linux native AIO is not emulated"),
        (208, "io_getevents", "Linux native AIO is not emulated"),
        (209, "io_submit", "Linux native AIO is not emulated"),
        (210, "io_cancel", "Linux native AIO is not emulated"),
        (211, "get_thread_area", "32-bit TLS segments are not emulated"),
        (212, "lookup_dcookie", "the kernel has none either"),
        (214, "epoll_ctl_old", "the kernel has none either"),
        (215, "epoll_wait_old", "the kernel has none either"),
        (216, "remap_file_pages", "deprecated by the kernel"),
        (219, "restart_syscall", "interrupted calls are restarted by the emulator itself"),
        (227, "clock_settime", "the host's clock"),
        (236, "vserver", "the kernel has none either"),
        (237, "mbind", "no NUMA placement: memory lives in the memory component"),
        (238, "set_mempolicy", "no NUMA placement"),
        (239, "get_mempolicy", "no NUMA placement"),
        (246, "kexec_load", "administration of the host"),
        (248, "add_key", "kernel keyrings are not emulated"),
        (249, "request_key", "kernel keyrings are not emulated"),
        (250, "keyctl", "kernel keyrings are not emulated"),
        (256, "migrate_pages", "no NUMA placement"),
        (272, "unshare", "namespaces would be the emulator's"),
        (279, "move_pages", "no NUMA placement"),
        (298, "perf_event_open", "counters would count the emulator"),
        (300, "fanotify_init", "administration of the host"),
        (301, "fanotify_mark", "administration of the host"),
        (303, "name_to_handle_at", "file handles need CAP_DAC_READ_SEARCH on the host"),
        (304, "open_by_handle_at", "file handles need CAP_DAC_READ_SEARCH on the host"),
        (305, "clock_adjtime", "the host's clock"),
        (308, "setns", "namespaces would be the emulator's"),
        (310, "process_vm_readv", "another process's guest memory is not in its host process"),
        (311, "process_vm_writev", "another process's guest memory is not in its host process"),
        (312, "kcmp", "compares host objects, not the guest's"),
        (313, "finit_module", "administration of the host"),
        (317, "seccomp", "a filter would apply to the emulator's own calls"),
        (320, "kexec_file_load", "administration of the host"),
        (321, "bpf", "programs would attach to the emulator"),
        (323, "userfaultfd", "guest page faults are the memory component's"),
        (329, "pkey_mprotect", "protection keys are not emulated"),
        (330, "pkey_alloc", "protection keys are not emulated"),
        (331, "pkey_free", "protection keys are not emulated"),
        (333, "io_pgetevents", "Linux native AIO is not emulated"),
        (425, "io_uring_setup", "io_uring is not emulated; its users fall back to ordinary calls"),
        (426, "io_uring_enter", "io_uring is not emulated"),
        (427, "io_uring_register", "io_uring is not emulated"),
        (428, "open_tree", "administration of the host"),
        (429, "move_mount", "administration of the host"),
        (430, "fsopen", "administration of the host"),
        (431, "fsconfig", "administration of the host"),
        (432, "fsmount", "administration of the host"),
        (433, "fspick", "administration of the host"),
        (440, "process_madvise", "another process's guest memory is not in its host process"),
        (442, "mount_setattr", "administration of the host"),
        (443, "quotactl_fd", "administration of the host"),
        (444, "landlock_create_ruleset", "a sandbox would confine the emulator"),
        (445, "landlock_add_rule", "a sandbox would confine the emulator"),
        (446, "landlock_restrict_self", "a sandbox would confine the emulator"),
        (447, "memfd_secret", "not emulated"),
        (448, "process_mrelease", "not emulated"),
        (449, "futex_waitv", "not emulated yet"),
        (450, "set_mempolicy_home_node", "no NUMA placement"),
    };

    static string Generate()
    {
        var t = SyscallTable.Build();
        var sb = new StringBuilder();
        sb.AppendLine("# System calls");
        sb.AppendLine();
        sb.AppendLine("Generated from the dispatcher (`syscalls/Runtime/SyscallTable.cs`) by `tests/Abi/SyscallCoverageTests.cs`; do not edit by hand.");
        sb.AppendLine("Regenerate with `LEGOEMU_WRITE_COVERAGE=1 dotnet test tests/LegoEmu.Tests.csproj -c Release --filter FullyQualifiedName~SyscallCoverage`.");
        sb.AppendLine("A call with no handler returns `-ENOSYS`, and `legoemu run --stats` counts it; `--strace` shows every call.");
        sb.AppendLine();
        int handled = 0;
        var rows = new List<string>();
        for (int nr = 0; nr < SyscallTable.Size; nr++)
        {
            if (t.Handlers[nr] == null) continue;
            handled++;
            rows.Add($"| {nr} | `{t.Names[nr]}` | handled |");
        }
        foreach (var (nr, name) in Known)
            if (t.Handlers[nr] == null) rows.Add($"| {nr} | `{name}` | -ENOSYS (not yet) |");
        foreach (var (nr, name, reason) in LeftOut)
            if (t.Handlers[nr] == null) rows.Add($"| {nr} | `{name}` | -ENOSYS: {reason} |");
        rows.Sort((a, b) => int.Parse(a.Split('|')[1]).CompareTo(int.Parse(b.Split('|')[1])));
        sb.AppendLine($"{handled} system calls have handlers. Some of them still have limits, which the README lists. The calls in the table marked -ENOSYS (not yet) are common ones that are missing, those with a reason are left out on purpose; any other number also gets -ENOSYS.");
        sb.AppendLine();
        sb.AppendLine("| nr | name | status |");
        sb.AppendLine("|---:|---|---|");
        foreach (var r in rows) sb.AppendLine(r);
        return sb.ToString();
    }

    static string DocPath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "LegoEmu.sln"))) dir = dir.Parent;
        Assert.True(dir != null, "cannot find the repository root from the test output directory");
        return Path.Combine(dir!.FullName, "docs", "SYSCALLS.md");
    }

    [Fact]
    public void CommittedTableMatchesTheDispatcher()
    {
        string path = DocPath(), generated = Generate();
        if (Environment.GetEnvironmentVariable("LEGOEMU_WRITE_COVERAGE") == "1") File.WriteAllText(path, generated);
        Assert.True(File.Exists(path), $"{path} is missing; regenerate it with LEGOEMU_WRITE_COVERAGE=1");
        Assert.Equal(generated, File.ReadAllText(path));
    }

    /// <summary>Every x86-64 call up to set_mempolicy_home_node (450) is handled, known to be missing, or left out with a reason.</summary>
    [Fact]
    public void EveryCallIsHandledOrAccountedFor()
    {
        var t = SyscallTable.Build();
        var listed = Known.Select(k => k.Nr).Concat(LeftOut.Select(l => l.Nr)).ToHashSet();
        var unaccounted = new List<int>();
        for (int nr = 0; nr <= 450; nr++)
        {
            if (nr > 334 && nr < 424) continue; // numbers x86-64 never assigned
            if (t.Handlers[nr] == null && !listed.Contains(nr)) unaccounted.Add(nr);
        }
        Assert.True(unaccounted.Count == 0, $"calls neither handled nor listed in SyscallCoverageTests: {string.Join(", ", unaccounted)}");
        foreach (var (nr, name, _) in LeftOut)
            Assert.True(t.Handlers[nr] == null, $"{name} ({nr}) has a handler now: take it off the left-out list");
    }

    [Fact]
    public void EveryHandledCallHasANameAndAStraceSignature()
    {
        var t = SyscallTable.Build();
        for (int nr = 0; nr < SyscallTable.Size; nr++)
        {
            if (t.Handlers[nr] == null) continue;
            Assert.False(string.IsNullOrEmpty(t.Names[nr]), $"syscall {nr} has no name");
            Assert.NotNull(t.Signatures[nr]);
            Assert.True(t.Signatures[nr]!.Length <= 6, $"{t.Names[nr]} has more than six arguments in its signature");
        }
    }
}
