using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Syscalls.Areas;

/// <summary>Threads: clone with CLONE_VM|CLONE_THREAD (what pthread_create does), thread exit, tids, yielding.</summary>
static class Threads
{
    const ulong CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800, CLONE_VFORK = 0x4000,
        CLONE_THREAD = 0x10000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000,
        CLONE_CHILD_SETTID = 0x1000000;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.clone, "clone", "xxxxx", Clone);
        t.Add(Nr.clone3, "clone3", "xd", Clone3);
        t.Add(Nr.exit, "exit", "d", x => { x.P.ExitThread(x.Int(0)); return 0; });
        t.Add(Nr.gettid, "gettid", "", x => x.P.CurrentThread.Tid);
        t.Add(Nr.set_tid_address, "set_tid_address", "x", x => { x.P.CurrentThread.ClearChildTid = x.A[0]; return x.P.CurrentThread.Tid; });
        t.Add(Nr.sched_yield, "sched_yield", "", x => { x.C.YieldRequested = true; return 0; });
    }

    static long Clone(SyscallContext x) => CloneWith(x, x.A[0], x.A[1], x.A[2], x.A[3], x.A[4]);

    /// <summary>
    /// clone3(struct clone_args *, size): the same as clone, with the stack given as its lowest address
    /// and size and the exit signal in a field of its own. Fields this emulator does not know (a set_tid
    /// array, a cgroup, a pidfd) are refused rather than ignored.
    /// </summary>
    static long Clone3(SyscallContext x)
    {
        const ulong CLONE_PIDFD = 0x1000, CLONE_INTO_CGROUP = 0x200000000, CSIGNAL = 0xff;
        ulong size = x.A[1];
        if (size < 64 || size > 4096) return -Errno.EINVAL;
        var raw = new byte[88];
        x.Mem.ReadBytes(x.A[0], raw.AsSpan(0, (int)Math.Min(size, 88)));
        ulong Field(int i) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(8 * i));
        ulong flags = Field(0), childTid = Field(2), parentTid = Field(3), exitSignal = Field(4), stack = Field(5), stackSize = Field(6), tls = Field(7);
        ulong setTid = Field(8), setTidSize = Field(9);
        if ((flags & CSIGNAL) != 0 || exitSignal > 64) return -Errno.EINVAL;
        if ((flags & (CLONE_PIDFD | CLONE_INTO_CGROUP)) != 0 || setTid != 0 || setTidSize != 0)
        {
            x.P.Options.Diagnostics.WriteLine($"legoemu: clone3 with flags 0x{flags:x} (pidfd, cgroup or set_tid) is not supported yet");
            return -Errno.ENOSYS;
        }
        // clone3 names the stack by its lowest address; the new thread starts at the top, as the kernel sets it.
        ulong sp = stack == 0 ? 0 : stack + stackSize;
        return CloneWith(x, flags | exitSignal, sp, parentTid, childTid, tls);
    }

    static long CloneWith(SyscallContext x, ulong flags, ulong stack, ulong parentTid, ulong childTid, ulong tls)
    {
        const ulong threadFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
        if ((flags & CLONE_THREAD) == 0)
        {
            // A new process (fork, vfork, posix_spawn): a new processor component over a copy of the memory.
            return Processes.CloneProcess(x, flags, stack, parentTid, childTid);
        }
        if ((flags & threadFlags) != threadFlags)
        {
            x.P.Options.Diagnostics.WriteLine($"legoemu: clone with flags 0x{flags:x} is not supported yet");
            return -Errno.ENOSYS;
        }
        var t = x.P.SpawnThread(x.C, stack, tls, (flags & CLONE_SETTLS) != 0);
        if ((flags & CLONE_PARENT_SETTID) != 0) x.Mem.Write32(parentTid, (uint)t.Tid);
        if ((flags & CLONE_CHILD_SETTID) != 0) x.Mem.Write32(childTid, (uint)t.Tid);
        if ((flags & CLONE_CHILD_CLEARTID) != 0) t.ClearChildTid = childTid;
        x.P.Launch(t);
        return t.Tid;
    }
}
