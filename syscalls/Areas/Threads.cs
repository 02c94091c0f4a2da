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
        // clone3 is declined: glibc then falls back to clone, which carries the same information.
        t.Add(Nr.clone3, "clone3", "xd", _ => -Errno.ENOSYS);
        t.Add(Nr.exit, "exit", "d", x => { x.P.ExitThread(x.Int(0)); return 0; });
        t.Add(Nr.gettid, "gettid", "", x => x.P.CurrentThread.Tid);
        t.Add(Nr.set_tid_address, "set_tid_address", "x", x => { x.P.CurrentThread.ClearChildTid = x.A[0]; return x.P.CurrentThread.Tid; });
        t.Add(Nr.sched_yield, "sched_yield", "", x => { x.C.YieldRequested = true; return 0; });
    }

    static long Clone(SyscallContext x)
    {
        ulong flags = x.A[0], stack = x.A[1], parentTid = x.A[2], childTid = x.A[3], tls = x.A[4];
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
