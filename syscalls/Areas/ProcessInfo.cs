using LegoEmu.Cpu.State;
using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>Process identity and environment: exit, ids, arch_prctl, uname, limits, TLS/robust-list registration, getrandom.</summary>
static class ProcessInfo
{
    const int ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.exit_group, "exit_group", "d", x => { x.P.Exit(x.Int(0)); return 0; });
        t.Add(Nr.getpid, "getpid", "", x => x.P.Pid);
        t.Add(Nr.getppid, "getppid", "", x => x.P.CheckedParent(Sys(Nr.getppid)));
        t.Add(Nr.getuid, "getuid", "", _ => Sys(Nr.getuid));
        t.Add(Nr.geteuid, "geteuid", "", _ => Sys(Nr.geteuid));
        t.Add(Nr.getgid, "getgid", "", _ => Sys(Nr.getgid));
        t.Add(Nr.getegid, "getegid", "", _ => Sys(Nr.getegid));
        t.Add(Nr.getpgrp, "getpgrp", "", x => x.P.CheckedGroup(x.P.Pid, Sys(Nr.getpgrp)));
        t.Add(Nr.arch_prctl, "arch_prctl", "xx", ArchPrctl);
        t.Add(Nr.set_robust_list, "set_robust_list", "xd", x =>
        {
            if (x.A[1] != 24) return -Errno.EINVAL;
            x.P.CurrentThread.RobustList = x.A[0];
            return 0;
        });
        t.Add(Nr.get_robust_list, "get_robust_list", "dxx", x =>
        {
            long pid = x.Long(0);
            var thread = pid == 0 ? x.P.CurrentThread : x.P.FindThread(pid);
            if (thread == null) return -Errno.ESRCH;
            x.Mem.Write64(x.A[1], thread.RobustList);
            x.Mem.Write64(x.A[2], 24);
            return 0;
        });
        // rseq registration is optional for glibc; declining it keeps restartable sequences out of the emulator.
        t.Add(Nr.rseq, "rseq", "xddx", _ => -Errno.ENOSYS);
        t.Add(Nr.uname, "uname", "x", x => Buffers.WithStruct(x, x.A[0], 390, p => Sys(Nr.uname, p)));
        t.Add(Nr.prlimit64, "prlimit64", "ddxx", Prlimit);
        t.Add(Nr.getrlimit, "getrlimit", "dx", x => GuestProcess.IsVirtualLimit(x.Long(0))
            ? VirtualLimit(x, x.Int(0), 0, x.A[1])
            : Buffers.WithStruct(x, x.A[1], 16, p => Sys(Nr.getrlimit, x.Long(0), p)));
        t.Add(Nr.getrandom, "getrandom", "Bdx", GetRandom);
        t.Add(Nr.sysinfo, "sysinfo", "x", x => Buffers.WithStruct(x, x.A[0], 112, p => Sys(Nr.sysinfo, p)));
        t.Add(Nr.getpgid, "getpgid", "d", x => x.P.CheckedGroup(x.Int(0) == 0 ? x.P.Pid : x.Int(0), Sys(Nr.getpgid, SelfIsHost(x, x.Long(0)))));
        t.Add(Nr.getsid, "getsid", "d", x => x.P.CheckedSession(x.Int(0) == 0 ? x.P.Pid : x.Int(0), Sys(Nr.getsid, SelfIsHost(x, x.Long(0)))));
        t.Add(Nr.setpgid, "setpgid", "dd", SetPgid);
        t.Add(Nr.setsid, "setsid", "", x =>
        {
            long r = Sys(Nr.setsid);
            if (r > 0) x.P.TableSession();
            return r;
        });
        t.Add(Nr.getgroups, "getgroups", "dx", x => Buffers.WithOutput(x, x.A[1], (int)Math.Min((ulong)x.Int(0) * 4, 65536), p => Sys(Nr.getgroups, x.Long(0), x.A[1] == 0 ? 0 : p), r => (int)r * 4));
        RegisterCredentials(t);
        t.Add(Nr.getrusage, "getrusage", "dx", GetRusage);
        t.Add(Nr.times, "times", "x", Times);
        t.Add(Nr.getpriority, "getpriority", "dd", x => Sys(Nr.getpriority, x.Long(0), SelfIsHost(x, x.Long(1))));
        t.Add(Nr.prctl, "prctl", "dxxxx", Prctl);
        // capget reports the emulator's (the guest's) capabilities; capset is not allowed to change them.
        t.Add(125, "capget", "xx", x => Buffers.WithInput(x, x.A[0], 8, h => x.A[1] == 0 ? Sys(125, h, 0) : Buffers.WithStruct(x, x.A[1], 24, d => Sys(125, h, d))));
        t.Add(Nr.setrlimit, "setrlimit", "dx", x =>
        {
            if (GuestProcess.IsVirtualLimit(x.Long(0))) return VirtualLimit(x, x.Int(0), x.A[1], 0);
            return Buffers.WithInput(x, x.A[1], 16, p => Sys(Nr.setrlimit, x.Long(0), p));
        });
        t.Add(Nr.getcpu, "getcpu", "xxx", x =>
        {
            // The CPU is the processor component the calling thread runs on (one of those its affinity allows); one NUMA node.
            if (x.A[0] != 0) x.Mem.Write32(x.A[0], (uint)Scheduling.CpuOf(x.P, x.P.CurrentThread));
            if (x.A[1] != 0) x.Mem.Write32(x.A[1], 0);
            return 0;
        });
    }

    static long ArchPrctl(SyscallContext x)
    {
        switch (x.Int(0))
        {
            case ARCH_SET_FS: x.C.FsBase = x.A[1]; return 0;
            case ARCH_SET_GS: x.C.GsBase = x.A[1]; return 0;
            case ARCH_GET_FS: x.Mem.Write64(x.A[1], x.C.FsBase); return 0;
            case ARCH_GET_GS: x.Mem.Write64(x.A[1], x.C.GsBase); return 0;
            default: return -Errno.EINVAL;
        }
    }

    static long Prlimit(SyscallContext x)
    {
        long pid = x.Long(0);
        if (pid != 0 && pid != x.P.Pid) return -Errno.ESRCH;
        ulong newp = x.A[2], oldp = x.A[3];
        if (GuestProcess.IsVirtualLimit(x.Long(1))) return VirtualLimit(x, x.Int(1), newp, oldp);
        // Limits are the emulator process's own; reading and raising them on the host is what the guest expects.
        long r = newp == 0
            ? Buffers.WithStruct(x, oldp, 16, p => Sys(Nr.prlimit64, 0, x.Long(1), 0, oldp == 0 ? 0 : p))
            : Buffers.WithInput(x, newp, 16, np => Buffers.WithStruct(x, oldp, 16, p => Sys(Nr.prlimit64, 0, x.Long(1), np, oldp == 0 ? 0 : p)));
        return r;
    }

    /// <summary>A limit the emulator keeps (RLIMIT_DATA, RLIMIT_STACK, RLIMIT_AS): read the new one, answer the old one.</summary>
    static long VirtualLimit(SyscallContext x, int resource, ulong newp, ulong oldp)
    {
        (ulong, ulong)? wanted = null;
        if (newp != 0) wanted = (x.Mem.Read64(newp), x.Mem.Read64(newp + 8));
        long r = x.P.VirtualLimit(resource, wanted, out var old);
        if (r < 0) return r;
        if (oldp != 0)
        {
            x.Mem.Write64(oldp, old.Soft);
            x.Mem.Write64(oldp + 8, old.Hard);
        }
        return 0;
    }

    /// <summary>The guest's own pid is the emulator's, so ids pass through unchanged; kept as one place to change that.</summary>
    /// <summary>
    /// setpgid. The host refuses a parent's call for a child with EACCES once the child has called execve,
    /// and every child's component has (to start the emulator): the child's component is asked then, and
    /// answers for its guest (<see cref="Runtime.ForkControl"/>).
    /// </summary>
    static long SetPgid(SyscallContext x)
    {
        long pid = SelfIsHost(x, x.Long(0)), group = x.Long(1);
        long r = Sys(Nr.setpgid, pid, group);
        if (r == -Errno.EACCES && pid != 0 && x.P.Child((int)pid) is { Control: >= 0 } link) r = Runtime.ForkControl.SetChildGroup(link, group) ?? r;
        if (r == 0)
        {
            int target = pid == 0 ? x.P.Pid : (int)pid;
            x.P.TableGroup(target, group == 0 ? target : group);
        }
        return r;
    }

    static long SelfIsHost(SyscallContext x, long pid) => pid == x.P.Pid ? 0 : pid;

    static long Prctl(SyscallContext x)
    {
        const int PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_SET_NAME = 15, PR_GET_NAME = 16, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4,
            PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37;
        switch (x.Int(0))
        {
            case PR_SET_NAME:
            {
                var name = new byte[16];
                x.Mem.ReadBytes(x.A[1], name);
                name[15] = 0;
                // In place: the leader's array is the process's name too.
                name.CopyTo(x.P.CurrentThread.Name, 0);
                if (x.P.CurrentThread.Name == x.P.ThreadName) x.P.LeaderRenamed();
                return 0;
            }
            case PR_GET_NAME:
                x.Mem.WriteBytes(x.A[1], x.P.CurrentThread.Name);
                return 0;
            case PR_SET_PDEATHSIG: return x.P.SetParentDeathSignal(x.Int(1));
            case PR_GET_PDEATHSIG: x.Mem.Write32(x.A[1], (uint)x.P.ParentDeathSignal); return 0;
            // The host's own flag, since every guest process is a host process: the kernel reparents an orphaned guest's
            // component to the nearest subreaper's, and the subreaper adopts it (GuestProcess.AdoptOrphans).
            case PR_SET_CHILD_SUBREAPER:
            {
                long r = Sys(Nr.prctl, PR_SET_CHILD_SUBREAPER, x.Long(1) != 0 ? 1 : 0);
                if (r == 0) x.P.BecomeSubreaper(x.Long(1) != 0);
                return r;
            }
            case PR_GET_CHILD_SUBREAPER: x.Mem.Write32(x.A[1], x.P.ChildSubreaper ? 1u : 0u); return 0;
            case PR_GET_DUMPABLE: return 1;
            case PR_SET_DUMPABLE: return 0;
            default: return -Errno.EINVAL;
        }
    }

    /// <summary>The host kernel's getrandom, so its flags keep their meaning (and OpenSSL is never loaded for it).</summary>
    static unsafe long GetRandom(SyscallContext x)
    {
        const long GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;
        if ((x.Long(2) & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) != 0) return -Errno.EINVAL;
        int n = (int)Math.Min(x.A[1], 1 << 20);
        long ok = Buffers.AccessiblePrefix(x, x.A[0], n, write: true);
        if (ok < n) return PartialBuffers.Read(x, x.A[0], ok, p => Host.Native.Sys(Nr.getrandom, p, n, x.Long(2) | GRND_NONBLOCK));
        var b = new byte[n];
        long r;
        fixed (byte* p = b) r = Host.Native.Sys(Nr.getrandom, (nint)p, n, x.Long(2) | GRND_NONBLOCK);
        if (r > 0) x.Mem.WriteBytes(x.A[0], b.AsSpan(0, (int)r));
        return r;
    }

    /// <summary>
    /// The set*id family goes to the host: the guest's identity is the emulator's. Linux keeps credentials
    /// per thread, so they change for the host thread running this process's system calls; glibc's
    /// posix_spawn calls setresuid(-1, uid, -1) in the child with POSIX_SPAWN_RESETIDS, as make does.
    /// </summary>
    static void RegisterCredentials(SyscallTable t)
    {
        const int setreuid = 113, setregid = 114, setgroups = 116, setresuid = 117, getresuid = 118, setresgid = 119, getresgid = 120,
            setfsuid = 122, setfsgid = 123;
        t.Add(Nr.setuid, "setuid", "d", x => Sys(Nr.setuid, x.Int(0)));
        t.Add(Nr.setgid, "setgid", "d", x => Sys(Nr.setgid, x.Int(0)));
        t.Add(setreuid, "setreuid", "dd", x => Sys(setreuid, x.Int(0), x.Int(1)));
        t.Add(setregid, "setregid", "dd", x => Sys(setregid, x.Int(0), x.Int(1)));
        t.Add(setresuid, "setresuid", "ddd", x => Sys(setresuid, x.Int(0), x.Int(1), x.Int(2)));
        t.Add(setresgid, "setresgid", "ddd", x => Sys(setresgid, x.Int(0), x.Int(1), x.Int(2)));
        t.Add(setfsuid, "setfsuid", "d", x => Sys(setfsuid, x.Int(0)));
        t.Add(setfsgid, "setfsgid", "d", x => Sys(setfsgid, x.Int(0)));
        t.Add(setgroups, "setgroups", "dx", x =>
            x.Long(0) is < 0 or > 65536 ? -Errno.EINVAL : Buffers.WithInput(x, x.A[1], x.Int(0) * 4, p => Sys(setgroups, x.Long(0), x.A[1] == 0 ? 0 : p)));
        t.Add(getresuid, "getresuid", "xxx", x => GetResIds(x, getresuid));
        t.Add(getresgid, "getresgid", "xxx", x => GetResIds(x, getresgid));
    }

    static unsafe long GetResIds(SyscallContext x, int nr)
    {
        uint* ids = stackalloc uint[3];
        long r = Sys(nr, (nint)ids, (nint)(ids + 1), (nint)(ids + 2));
        if (r < 0) return r;
        for (int i = 0; i < 3; i++) x.Mem.Write32(x.A[i], ids[i]);
        return 0;
    }

    /// <summary>getrusage: the host's figures, with the user and system times the guest's own (<see cref="GuestCpuTime"/>).</summary>
    static unsafe long GetRusage(SyscallContext x)
    {
        long who = x.Int(0); // an int to the kernel: RUSAGE_CHILDREN arrives as 0xffffffff
        return Buffers.WithStruct(x, x.A[1], 144, p =>
        {
            long r = Sys(Nr.getrusage, who, p);
            if (r == 0) x.P.CpuTime.Adjust(who, new Span<byte>((void*)p, 144));
            return r;
        });
    }

    /// <summary>times: the clock ticks since boot from the host, the guest's and its reaped children's CPU times in ticks of 10 ms.</summary>
    static unsafe long Times(SyscallContext x)
    {
        long r = Sys(Nr.times, 0);
        if (r < 0 || x.A[0] == 0) return r;
        var (u, s) = x.P.CpuTime.Self();
        var (cu, cs) = x.P.CpuTime.Children();
        long* tms = stackalloc long[4];
        tms[0] = u / 10_000;
        tms[1] = s / 10_000;
        tms[2] = cu / 10_000;
        tms[3] = cs / 10_000;
        x.Mem.WriteBytes(x.A[0], new ReadOnlySpan<byte>(tms, 32));
        return r;
    }
}
