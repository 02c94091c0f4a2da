using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>New processes and programs: fork/vfork, execve/execveat, and waiting for children (real host processes).</summary>
static class Processes
{
    const int SIGCHLD = 17;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.fork, "fork", "", x => x.P.Fork(0, 0, 0));
        // vfork's child shares memory until it execs; a copy-on-write child is indistinguishable for correct programs.
        t.Add(Nr.vfork, "vfork", "", x => x.P.Fork(0, 0, 0));
        t.Add(Nr.execve, "execve", "sxx", x => Exec(x, x.Str(0), x.A[1], x.A[2]));
        t.Add(Nr.execveat, "execveat", "fsxxx", ExecAt);
        t.Add(Nr.wait4, "wait4", "dxxx", Wait4);
        t.Add(Nr.waitid, "waitid", "ddxxx", WaitId);
    }

    const int WNOHANG = 1;

    /// <summary>
    /// wait4: the host is asked with WNOHANG; when no child has changed state yet the thread blocks,
    /// retried on the host's SIGCHLD (the wake-up event) and every <see cref="GuestProcess.ChildRecheck"/>.
    /// "Any child" and process-group waits ask about each of the guest's own children in turn.
    /// Status and rusage are written only for a reaped child, as the kernel does.
    /// </summary>
    static long Wait4(SyscallContext x)
    {
        long pid = x.Int(0); // pid_t is 32 bits: -1 arrives as 0xffffffff
        int options = x.Int(2);
        x.P.AdoptOrphans(pid);
        long r;
        if (pid > 0) r = HostWait4(x, pid, options);
        else
        {
            r = -Errno.ECHILD;
            foreach (int c in Candidates(x, pid))
            {
                long one = HostWait4(x, c, options);
                if (one == -Errno.ECHILD) { x.P.RemoveChild(c); continue; }
                r = one;
                if (one != 0) break;
            }
        }
        if (r != 0 || (options & WNOHANG) != 0) return r;
        return BlockForChild(x, pid);
    }

    /// <summary>The guest's children a wait for <paramref name="pid"/> (-1 any, 0 my group, -pgid that group) may reap.</summary>
    static List<int> Candidates(SyscallContext x, long pid)
    {
        long group = pid == 0 ? Sys(Nr.getpgid, 0) : -pid;
        var list = new List<int>();
        foreach (int c in x.P.ChildrenNow())
        {
            if (pid == -1) { list.Add(c); continue; }
            // A child whose component reported its exit is a zombie in the group it died in; the component has moved on.
            var link = x.P.Child(c);
            long its = link != null && ForkControl.PollExit(link) ? link.Report!.Group : Sys(Nr.getpgid, c);
            if (its == group) list.Add(c);
        }
        return list;
    }

    static unsafe long HostWait4(SyscallContext x, long pid, int options)
    {
        // Only the guest's own children: idle components of this process's pool are its host children too.
        if (x.P.Child((int)pid) is not { } link) return -Errno.ECHILD;
        if (ForkControl.PollExit(link)) return x.P.Child((int)pid) == null ? -Errno.ECHILD : ReportedWait4(x, link); // reaped at once: SIGCHLD ignored
        int* st = stackalloc int[1];
        *st = 0;
        nint stp = (nint)st;
        long r = Buffers.WithOutput(x, x.A[3], 144, ru => Sys(Nr.wait4, pid, stp, options | WNOHANG, x.A[3] == 0 ? 0 : ru), n => n > 0 ? 144 : 0);
        if (r <= 0) return r;
        int status = *st;
        // A child that exited or was killed is gone; a stopped or continued one is still ours.
        bool stopped = (status & 0xff) == 0x7f, continued = status == 0xffff;
        if (!stopped && !continued)
        {
            x.P.CheckReaping((int)r);
            x.P.RemoveChild((int)r);
            // Gone without a zombie, as the kernel reaps children of a process that ignores SIGCHLD.
            if (x.P.ChildrenLeaveNoZombies) return -Errno.ECHILD;
        }
        x.P.ChildSeen((int)r, stopped ? 5 : continued ? 6 : (status & 0x7f) == 0 ? 1 : (status & 0x80) != 0 ? 3 : 2,
            stopped ? (status >> 8) & 0xff : continued ? 18 : (status & 0x7f) == 0 ? (status >> 8) & 0xff : status & 0x7f);
        if (x.A[1] != 0) x.Mem.Write32(x.A[1], (uint)status);
        return r;
    }

    /// <summary>
    /// wait4 of a child whose component reported its guest's exit and lives on: the status and CPU times come from
    /// the report, and the guest's reaping returns the component to the pool.
    /// </summary>
    static long ReportedWait4(SyscallContext x, ChildLink link)
    {
        var report = link.Report!;
        // Reaped first, as the kernel does: a status pointer that faults costs the caller the status, not the child.
        x.P.ChildSeen(link.Pid, 1 /* CLD_EXITED */, (report.Status >> 8) & 0xff);
        x.P.CheckReaping(link.Pid);
        x.P.ReapReported(link);
        x.P.CpuTime.ChildReaped(report);
        if (x.A[3] != 0) x.Mem.WriteBytes(x.A[3], ReportedRusage(report));
        if (x.A[1] != 0) x.Mem.Write32(x.A[1], (uint)report.Status);
        return link.Pid;
    }

    /// <summary>The rusage of a reaped child whose component reported its exit: as the kernel's, its own times and those of the children it reaped.</summary>
    static byte[] ReportedRusage(ForkControl.ExitReport report)
    {
        var ru = new byte[144];
        GuestCpuTime.WriteTimeval(ru, 0, report.UserMicros + report.ChildrenUserMicros);
        GuestCpuTime.WriteTimeval(ru, 16, report.SystemMicros + report.ChildrenSystemMicros);
        return ru;
    }

    /// <summary>The siginfo waitid reports for a child whose component reported its exit (clock ticks of 10 ms for the times).</summary>
    static unsafe void ReportedSiginfo(byte* si, ChildLink link)
    {
        var report = link.Report!;
        new Span<byte>(si, 128).Clear();
        *(int*)si = SIGCHLD;
        *(int*)(si + 8) = 1; // CLD_EXITED
        *(int*)(si + 16) = link.Pid;
        *(int*)(si + 20) = (int)Sys(Nr.getuid);
        *(int*)(si + 24) = (report.Status >> 8) & 0xff;
        *(long*)(si + 32) = (report.UserMicros + report.ChildrenUserMicros) / 10_000;
        *(long*)(si + 40) = (report.SystemMicros + report.ChildrenSystemMicros) / 10_000;
    }

    static unsafe long WaitId(SyscallContext x)
    {
        const int P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3, WNOWAIT = 0x1000000, WSTOPPED = 2, WEXITED = 4, WCONTINUED = 8,
            Known = WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | 0x20000000 | 0x40000000 | unchecked((int)0x80000000); // __WNOTHREAD, __WALL, __WCLONE
        int idtype = x.Int(0), options = x.Int(3);
        if ((options & ~Known) != 0 || (options & (WEXITED | WSTOPPED | WCONTINUED)) == 0 || idtype is not (P_ALL or P_PID or P_PGID or P_PIDFD))
            return -Errno.EINVAL;
        x.P.AdoptOrphans(idtype == P_PID ? x.Int(1) : 0);
        byte* si = stackalloc byte[128];
        long r;
        long HostWaitId(int type, long id)
        {
            if (type == 1 /* P_PID */ && x.P.Child((int)id) == null) return -Errno.ECHILD;
            if (type == 1 /* P_PID */ && (options & WEXITED) != 0 && x.P.Child((int)id) is { } link && ForkControl.PollExit(link))
            {
                if (x.P.Child((int)id) == null) return -Errno.ECHILD; // reaped at once: SIGCHLD ignored
                ReportedSiginfo(si, link);
                x.P.ChildSeen(link.Pid, 1, (link.Report!.Status >> 8) & 0xff);
                if ((options & WNOWAIT) == 0)
                {
                    x.P.CheckReaping(link.Pid);
                    x.P.ReapReported(link);
                    x.P.CpuTime.ChildReaped(link.Report!);
                }
                if (x.A[4] != 0) x.Mem.WriteBytes(x.A[4], ReportedRusage(link.Report!));
                return 0;
            }
            new Span<byte>(si, 128).Clear();
            long q = Buffers.WithOutput(x, x.A[4], 144, ru => Sys(Nr.waitid, type, id, (nint)si, options | WNOHANG, x.A[4] == 0 ? 0 : ru), _ => 144);
            int who = *(int*)(si + 16), code = *(int*)(si + 8);
            // CLD_EXITED, CLD_KILLED, CLD_DUMPED: the child is gone unless WNOWAIT left it waitable.
            if (q == 0 && who != 0 && code is 1 or 2 or 3 && x.P.ChildrenLeaveNoZombies)
            {
                // The kernel would have reaped it without a zombie: take it away and answer as for no child.
                if ((options & WNOWAIT) != 0) Sys(Nr.waitid, 1 /* P_PID */, who, (nint)si, WEXITED | WNOHANG, 0);
                x.P.RemoveChild(who);
                return -Errno.ECHILD;
            }
            if (q == 0 && who != 0 && code is 1 or 2 or 3 && (options & WNOWAIT) == 0)
            {
                x.P.CheckReaping(who);
                x.P.RemoveChild(who);
            }
            if (q == 0 && who != 0) x.P.ChildSeen(who, code, *(int*)(si + 24));
            return q;
        }
        bool found;
        if (idtype is P_ALL or P_PGID)
        {
            r = -Errno.ECHILD;
            found = false;
            long group = idtype == P_ALL ? -1 : x.Int(1) == 0 ? Sys(Nr.getpgid, 0) : x.Int(1);
            foreach (int c in Candidates(x, idtype == P_ALL ? -1 : -group))
            {
                long one = HostWaitId(1 /* P_PID */, c);
                if (one == -Errno.ECHILD) { x.P.RemoveChild(c); continue; }
                r = one;
                if (one == 0 && *(int*)(si + 16) != 0) { found = true; break; }
            }
        }
        else
        {
            r = HostWaitId(idtype, x.Int(1));
            found = r == 0 && *(int*)(si + 16) != 0;
        }
        if (r < 0) return r;
        // With WNOHANG and nothing to report the kernel answers 0 with si_pid 0.
        if (!found && (options & WNOHANG) == 0) return BlockForChild(x, idtype switch { P_ALL => -1, P_PGID => x.Int(1) == 0 ? 0 : -x.Int(1), P_PID => x.Int(1), _ => long.MinValue });
        if (!found) new Span<byte>(si, 128).Clear();
        if (x.A[2] != 0) x.Mem.WriteBytes(x.A[2], new ReadOnlySpan<byte>(si, 128));
        return 0;
    }

    /// <summary>
    /// Blocks a wait for <paramref name="pid"/> (wait4's convention; long.MinValue: no pidfd to watch). Exits
    /// wake it through the children's pidfds; stops and continues through the host's SIGCHLD, and a re-check
    /// catches what neither reports.
    /// </summary>
    static long BlockForChild(SyscallContext x, long pid)
    {
        const short POLLIN = 1;
        if (pid != long.MinValue)
            foreach (int c in pid > 0 ? [(int)pid] : Candidates(x, pid))
            {
                var (pidfd, control) = x.P.ExitDescriptors(c);
                if (pidfd >= 0) x.Wait.Fds.Add((pidfd, POLLIN));
                if (control >= 0) x.Wait.Fds.Add((control, POLLIN));
            }
        x.Wait.WakeOnEvent = true;
        x.Wait.Recheck = System.Diagnostics.Stopwatch.GetTimestamp() + GuestProcess.ChildRecheck;
        return x.Block(restartable: true);
    }

    static string[] StringArray(SyscallContext x, ulong addr)
    {
        var list = new List<string>();
        if (addr == 0) return [];
        for (int i = 0; i < 65536; i++)
        {
            ulong p = x.Mem.Read64(addr + (ulong)i * 8);
            if (p == 0) break;
            list.Add(LegoEmu.Loader.Image.GuestText.Decode(x.Mem.ReadCString(p, 131072)));
        }
        return list.ToArray();
    }

    /// <param name="name">The name the command goes by (comm), when not <paramref name="path"/>'s last component.</param>
    /// <param name="shown">What /proc/self/exe names, when <paramref name="path"/> only reaches the file (a descriptor's link).</param>
    static long Exec(SyscallContext x, string path, ulong argvAddr, ulong envpAddr, string? name = null, string? shown = null)
    {
        var argv = StringArray(x, argvAddr);
        var envp = StringArray(x, envpAddr);
        name ??= path;
        if (path == "/proc/self/exe") path = x.P.ExePath;
        if (x.P.Options.Strace) x.P.Options.Diagnostics.WriteLine($"legoemu: execve {path} [{string.Join(", ", argv)}]");
        return x.P.Exec(path, argv.Length == 0 ? [path] : argv, envp, name, shown);
    }

    static long ExecAt(SyscallContext x)
    {
        const int AT_EMPTY_PATH = 0x1000;
        string path = x.Str(1);
        int dirfd = x.Int(0);
        if (path.Length == 0 && (x.Long(4) & AT_EMPTY_PATH) != 0)
        {
            int h = x.P.Fds.Host(dirfd);
            if (h < 0) return h;
            // fexecve: the descriptor itself is run (a memfd or a deleted file has no path to open again), and
            // the program is known by the file's name, as the kernel names it after the dentry.
            const string Deleted = " (deleted)";
            string target = Buffers.FdTarget(h);
            string name = target.EndsWith(Deleted, StringComparison.Ordinal) ? target[..^Deleted.Length] : target;
            return Exec(x, $"/proc/self/fd/{h}", x.A[2], x.A[3], name, target);
        }
        else if (!path.StartsWith('/') && dirfd != -100)
        {
            int h = x.P.Fds.Host(dirfd);
            if (h < 0) return h;
            path = Path.Combine(Buffers.FdTarget(h), path);
        }
        return Exec(x, path, x.A[2], x.A[3]);
    }

    /// <summary>clone without CLONE_VM|CLONE_THREAD: a new process. Only SIGCHLD as exit signal is supported.</summary>
    public static long CloneProcess(SyscallContext x, ulong flags, ulong stack, ulong parentTid, ulong childTid)
    {
        const ulong CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000, CLONE_CHILD_SETTID = 0x1000000,
            CLONE_VM = 0x100, CLONE_VFORK = 0x4000, CSIGNAL = 0xff;
        ulong supported = CSIGNAL | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_VFORK | CLONE_VM;
        if ((flags & ~supported) != 0 || ((flags & CLONE_VM) != 0 && (flags & CLONE_VFORK) == 0))
        {
            x.P.Options.Diagnostics.WriteLine($"legoemu: clone with flags 0x{flags:x} is not supported yet");
            return -Errno.ENOSYS;
        }
        if ((flags & CSIGNAL) != SIGCHLD && (flags & CSIGNAL) != 0) return -Errno.EINVAL;
        // posix_spawn's CLONE_VM|CLONE_VFORK child starts on its own stack; the copy-on-write child gets that stack pointer.
        long pid = x.P.Fork((flags & CLONE_CHILD_SETTID) != 0 ? childTid : 0, (flags & CLONE_CHILD_CLEARTID) != 0 ? childTid : 0, stack);
        if (pid > 0 && (flags & CLONE_PARENT_SETTID) != 0) x.Mem.Write32(parentTid, (uint)pid);
        return pid;
    }
}
