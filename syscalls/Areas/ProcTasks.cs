using LegoEmu.Mem;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// The per-thread files under /proc/self/task/TID (and /proc/thread-self): which thread a path names, and comm opened
/// for writing, which renames that thread as prctl(PR_SET_NAME) renames the caller (glibc's pthread_setname_np for
/// another thread writes it). The descriptor is a memfd holding the name, marked <see cref="FdKind.ThreadName"/>, whose
/// writes set the name instead of its bytes.
/// </summary>
static class ProcTasks
{
    const string CommMemfd = "legoemu-comm:";

    /// <summary>"task/TID/FILE" (as <see cref="FdPaths"/> leaves a live guest thread's comm, status and stat): the thread and FILE.</summary>
    public static (GuestThread Thread, string File)? Named(GuestProcess p, string rest)
    {
        int slash = rest.IndexOf('/', 5);
        if (slash < 0 || !int.TryParse(rest.AsSpan(5, slash - 5), out int tid)) return null;
        return p.FindThread(tid) is { Exited: false } t ? (t, rest[(slash + 1)..]) : null;
    }

    /// <summary>comm of <paramref name="thread"/> (of the process's leader unless <paramref name="perThread"/>) opened to be written.</summary>
    public static long OpenCommForWriting(SyscallContext x, GuestThread thread, bool perThread, bool cloexec)
    {
        int tid = perThread ? thread.Tid : x.P.Pid;
        var name = perThread ? thread.Name : x.P.ThreadName;
        long g = Proc.Serve(x, LegoEmu.Loader.Image.GuestText.Encode(Proc.Name(name) + "\n"), cloexec, CommMemfd + tid.ToString());
        if (g >= 0) x.P.Fds.SetKind(g, FdKind.ThreadName);
        return g;
    }

    /// <summary>
    /// write(2) to such a descriptor: the first 15 bytes become the thread's name, NUL-padded, and the whole count is
    /// reported written, as the kernel's comm does (a trailing newline is part of the name there too).
    /// </summary>
    public static long WriteComm(SyscallContext x, int h, ulong addr, long len)
    {
        string target = Buffers.FdTarget(h);
        int at = target.IndexOf(CommMemfd, StringComparison.Ordinal);
        int end = at < 0 ? -1 : target.IndexOf(' ', at);
        if (at < 0 || !int.TryParse(target.AsSpan(at + CommMemfd.Length, (end < 0 ? target.Length : end) - at - CommMemfd.Length), out int tid))
            return -Errno.EBADF;
        var name = new byte[16];
        int n = (int)Math.Min(len, 15);
        x.Mem.ReadBytes(addr, name.AsSpan(0, n)); // a bad pointer faults: EFAULT
        // The leader's comm is the process's name: renamed in place, it is the leader's array too.
        byte[]? dest = tid == x.P.Pid ? x.P.ThreadName : x.P.FindThread(tid) is { Exited: false } t ? t.Name : null;
        if (dest == null) return -Errno.ESRCH; // the thread has gone
        name.CopyTo(dest, 0);
        if (dest == x.P.ThreadName) x.P.LeaderRenamed();
        return len;
    }
}
