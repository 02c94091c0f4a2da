using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// Scheduling and execution-domain calls: nice values, I/O priorities, affinity, scheduling policies, personality,
/// memory locking and membarrier. Guest threads of one component take turns on one host thread, so
/// placement requests are checked and recorded, and barriers hold by construction.
/// </summary>
static class Scheduling
{
    public static void Register(SyscallTable t)
    {
        t.Add(Nr.setpriority, "setpriority", "ddd", x => Sys(Nr.setpriority, x.Long(0), x.Long(1) == x.P.Pid ? 0 : x.Long(1), x.Long(2)));
        t.Add(Nr.sched_setaffinity, "sched_setaffinity", "ddx", SetAffinity);
        t.Add(Nr.sched_getaffinity, "sched_getaffinity", "ddx", GetAffinity);
        t.Add(Nr.sched_getscheduler, "sched_getscheduler", "d", x => Sys(Nr.sched_getscheduler, Self(x, 0)));
        t.Add(Nr.sched_setscheduler, "sched_setscheduler", "ddx", x => Buffers.WithInput(x, x.A[2], 4, p => Sys(Nr.sched_setscheduler, Self(x, 0), x.Long(1), p)));
        t.Add(Nr.sched_getparam, "sched_getparam", "dx", x => Buffers.WithStruct(x, x.A[1], 4, p => Sys(Nr.sched_getparam, Self(x, 0), p)));
        t.Add(Nr.sched_setparam, "sched_setparam", "dx", x => Buffers.WithInput(x, x.A[1], 4, p => Sys(Nr.sched_setparam, Self(x, 0), p)));
        t.Add(Nr.sched_get_priority_max, "sched_get_priority_max", "d", x => Sys(Nr.sched_get_priority_max, x.Long(0)));
        t.Add(Nr.sched_get_priority_min, "sched_get_priority_min", "d", x => Sys(Nr.sched_get_priority_min, x.Long(0)));
        t.Add(Nr.sched_rr_get_interval, "sched_rr_get_interval", "dx", x => Buffers.WithStruct(x, x.A[1], 16, p => Sys(Nr.sched_rr_get_interval, Self(x, 0), p)));
        // IOPRIO_WHO_PROCESS names a thread: this process's own are the host thread that makes their calls.
        const int ioprio_set = 251, ioprio_get = 252, IOPRIO_WHO_PROCESS = 1;
        t.Add(ioprio_set, "ioprio_set", "ddx", x => Sys(ioprio_set, x.Long(0), x.Long(0) == IOPRIO_WHO_PROCESS ? Self(x, 1) : x.Long(1), x.Long(2)));
        t.Add(ioprio_get, "ioprio_get", "dd", x => Sys(ioprio_get, x.Long(0), x.Long(0) == IOPRIO_WHO_PROCESS ? Self(x, 1) : x.Long(1)));
        // sched_attr carries its own size; the host checks it, and sizes the answer to what the caller can take.
        const int sched_setattr = 314, sched_getattr = 315;
        t.Add(sched_setattr, "sched_setattr", "dxx", x =>
        {
            uint size = x.Mem.Read32(x.A[1]);
            return Buffers.WithInput(x, x.A[1], (int)Math.Clamp(size == 0 ? 48 : size, 48, 4096), p => Sys(sched_setattr, Self(x, 0), p, x.Long(2)));
        });
        t.Add(sched_getattr, "sched_getattr", "dxdx", x => Buffers.WithStruct(x, x.A[1], (int)Math.Min(x.A[2], 4096), p => Sys(sched_getattr, Self(x, 0), p, x.Long(2), x.Long(3))));
        t.Add(Nr.personality, "personality", "x", Personality);
        t.Add(Nr.mlock, "mlock", "xd", x => Lock(x, x.A[0], x.A[1]));
        t.Add(Nr.munlock, "munlock", "xd", x => Lock(x, x.A[0], x.A[1]));
        t.Add(Nr.mlock2, "mlock2", "xdx", x => (x.A[2] & ~1UL) != 0 ? -Errno.EINVAL : Lock(x, x.A[0], x.A[1])); // MLOCK_ONFAULT
        t.Add(Nr.mlockall, "mlockall", "x", x =>
        {
            const ulong MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4;
            ulong f = x.A[0];
            return f == 0 || (f & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) != 0 || f == MCL_ONFAULT ? -Errno.EINVAL : 0;
        });
        t.Add(Nr.munlockall, "munlockall", "", _ => 0);
        t.Add(Nr.membarrier, "membarrier", "ddd", Membarrier);
    }

    /// <summary>A pid argument naming this process or one of its threads is the host process itself (0).</summary>
    static long Self(SyscallContext x, int arg)
    {
        long pid = x.Long(arg);
        return pid == x.P.Pid || x.P.FindThread(pid) != null ? 0 : pid;
    }

    /// <summary>The guest's CPUs as a mask: one per processor component it may use (only the first 64 can be named).</summary>
    static ulong AllCpus(GuestProcess p) => p.CpuCount >= 64 ? ulong.MaxValue : (1UL << p.CpuCount) - 1;

    /// <summary>
    /// The CPUs <paramref name="t"/> may run on (<see cref="GuestThread.Affinity"/>); all of them when its mask names none
    /// of this process's (a forked process may see fewer CPUs than the one whose thread set it).
    /// </summary>
    internal static ulong CpusOf(GuestProcess p, GuestThread t)
    {
        ulong allowed = t.Affinity & AllCpus(p);
        return allowed == 0 ? AllCpus(p) : allowed;
    }

    /// <summary>
    /// The CPU getcpu reports for <paramref name="t"/>: its processor component's, unless its affinity excludes that
    /// one (threads are not moved between components by affinity), then the first CPU it allows, as the kernel would
    /// have moved it there.
    /// </summary>
    internal static int CpuOf(GuestProcess p, GuestThread t)
    {
        ulong allowed = CpusOf(p, t);
        int cpu = t.Component;
        return cpu < 64 && (allowed & (1UL << cpu)) == 0 ? System.Numerics.BitOperations.TrailingZeroCount(allowed) : cpu;
    }

    /// <summary>The thread a sched_*affinity call names: 0 for the caller, a thread of this process, or null for another process.</summary>
    static GuestThread? AffinityTarget(SyscallContext x) => x.Long(0) == 0 ? x.P.CurrentThread : x.P.FindThread(x.Long(0));

    /// <summary>
    /// sched_setaffinity: the guest sees one CPU per processor component; a mask naming none of them is EINVAL, as
    /// the kernel answers for a mask of offline CPUs. The thread keeps the mask (sched_getaffinity, getcpu and
    /// /proc/self/status show it), but threads are placed by the process manager, so it moves nothing. Another
    /// process's threads are its own emulator's business: the call only checks that it exists.
    /// </summary>
    static long SetAffinity(SyscallContext x)
    {
        long pid = x.Long(0);
        var target = AffinityTarget(x);
        if (target == null && pid != x.P.Pid && Sys(Nr.kill, pid, 0) == -Errno.ESRCH) return -Errno.ESRCH;
        int len = (int)Math.Min(x.A[1], 1024);
        var mask = new byte[len];
        x.Mem.ReadBytes(x.A[2], mask);
        ulong wanted = 0;
        bool any = false;
        for (int cpu = 0; cpu < x.P.CpuCount && cpu < len * 8; cpu++)
        {
            if ((mask[cpu >> 3] & (1 << (cpu & 7))) == 0) continue;
            any = true;
            if (cpu < 64) wanted |= 1UL << cpu;
        }
        if (!any) return -Errno.EINVAL;
        if (target != null) target.Affinity = wanted == AllCpus(x.P) ? 0 : wanted;
        return 0;
    }

    /// <summary>sched_getaffinity: the named thread's CPUs (all of the guest's for another process's).</summary>
    static long GetAffinity(SyscallContext x)
    {
        ulong size = x.A[1];
        if (size < 8 || (size & 7) != 0) return -Errno.EINVAL;
        var target = AffinityTarget(x);
        if (target == null && x.Long(0) != x.P.Pid && Sys(Nr.kill, x.Long(0), 0) == -Errno.ESRCH) return -Errno.ESRCH;
        ulong cpus = target != null ? CpusOf(x.P, target) : AllCpus(x.P);
        int n = (int)Math.Min(size, 128);
        var mask = new byte[n];
        for (int cpu = 0; cpu < x.P.CpuCount && cpu < n * 8; cpu++)
            if (cpu >= 64 ? target == null || target.Affinity == 0 : (cpus & (1UL << cpu)) != 0) mask[cpu >> 3] |= (byte)(1 << (cpu & 7));
        x.Mem.WriteBytes(x.A[2], mask);
        return n;
    }

    static long Personality(SyscallContext x)
    {
        // 0xffffffff only asks; anything else is the new persona. PER_LINUX and its flags change nothing here.
        uint old = x.P.Personality;
        uint persona = (uint)x.A[0];
        if (persona != 0xffffffff)
        {
            if ((persona & 0xff) != 0) // another execution domain (PER_SVR4, PER_BSD ...)
            {
                x.P.Options.Diagnostics.WriteLine($"legoemu: personality 0x{persona:x} (an execution domain other than Linux) is not supported");
                return -Errno.EINVAL;
            }
            x.P.Personality = persona;
        }
        return old;
    }

    /// <summary>mlock and friends: every page of the range must be mapped (ENOMEM otherwise); the memory component never pages out.</summary>
    static long Lock(SyscallContext x, ulong addr, ulong len)
    {
        ulong start = addr & ~PageMath.PageMask;
        ulong end = PageMath.Up(addr + len);
        if (end < start) return -Errno.EINVAL;
        if (len == 0) return 0;
        return LegoEmu.Mem.Component.VmaSet.Covers(x.P.Space.Vmas(start, end), start, end) ? 0 : -Errno.ENOMEM;
    }

    /// <summary>
    /// membarrier: a process's threads on one component run one at a time, and components are coherent
    /// through the line directory, so every barrier has already happened. The private expedited commands
    /// need their registration first, as with the kernel.
    /// </summary>
    static long Membarrier(SyscallContext x)
    {
        const int QUERY = 0, GLOBAL = 1, GLOBAL_EXPEDITED = 2, REGISTER_GLOBAL_EXPEDITED = 4, PRIVATE_EXPEDITED = 8,
            REGISTER_PRIVATE_EXPEDITED = 16, PRIVATE_EXPEDITED_SYNC_CORE = 32, REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64;
        const int Supported = GLOBAL | GLOBAL_EXPEDITED | REGISTER_GLOBAL_EXPEDITED | PRIVATE_EXPEDITED | REGISTER_PRIVATE_EXPEDITED
            | PRIVATE_EXPEDITED_SYNC_CORE | REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
        int cmd = x.Int(0);
        if (x.Int(1) != 0) return -Errno.EINVAL;
        switch (cmd)
        {
            case QUERY: return Supported;
            case GLOBAL:
            case GLOBAL_EXPEDITED: return 0;
            case REGISTER_GLOBAL_EXPEDITED:
            case REGISTER_PRIVATE_EXPEDITED:
            case REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
                x.P.MembarrierRegistered |= cmd;
                return 0;
            case PRIVATE_EXPEDITED: return (x.P.MembarrierRegistered & REGISTER_PRIVATE_EXPEDITED) != 0 ? 0 : -Errno.EPERM;
            case PRIVATE_EXPEDITED_SYNC_CORE: return (x.P.MembarrierRegistered & REGISTER_PRIVATE_EXPEDITED_SYNC_CORE) != 0 ? 0 : -Errno.EPERM;
            default: return -Errno.EINVAL;
        }
    }
}
