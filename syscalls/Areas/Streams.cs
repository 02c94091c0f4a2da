using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// Calls that move data between descriptors or in batches: splice, tee and vmsplice, sendmmsg and
/// recvmmsg, inotify, and pidfds. Host descriptors do the work; waits go through the scheduler.
/// </summary>
static class Streams
{
    const int SPLICE_F_NONBLOCK = 2, MSG_DONTWAIT = 0x40, MSG_WAITFORONE = 0x10000, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.splice, "splice", "fxfxdx", Splice);
        t.Add(Nr.tee, "tee", "ffdx", Tee);
        // vmsplice copies: guest memory is not host memory that a pipe could take pages from.
        t.Add(Nr.vmsplice, "vmsplice", "fidx", x => (Sys(Nr.fcntl, x.P.Fds.Host(x.Long(0)), 3 /* F_GETFL */) & 3) == 0 ? Files.Readv(x) : Files.Writev(x));
        t.Add(Nr.sendmmsg, "sendmmsg", "fxdx", SendMany);
        t.Add(Nr.recvmmsg, "recvmmsg", "fxdxx", RecvMany);
        t.Add(Nr.inotify_init, "inotify_init", "", x => Install(x, Sys(Nr.inotify_init1, O_CLOEXEC), false));
        t.Add(Nr.inotify_init1, "inotify_init1", "x", x => (x.Long(0) & ~(O_NONBLOCK | O_CLOEXEC)) != 0 ? -Errno.EINVAL
            : Install(x, Sys(Nr.inotify_init1, x.Long(0) | O_CLOEXEC), (x.Long(0) & O_CLOEXEC) != 0));
        t.Add(Nr.inotify_add_watch, "inotify_add_watch", "fsx", x => Host(x, 0, h => Buffers.WithPath(x.Str(1), p => Sys(Nr.inotify_add_watch, h, p, x.Long(2)))));
        t.Add(Nr.inotify_rm_watch, "inotify_rm_watch", "fd", x => Host(x, 0, h => Sys(Nr.inotify_rm_watch, h, x.Long(1))));
        t.Add(Nr.pidfd_open, "pidfd_open", "dx", x => (x.Long(1) & ~O_NONBLOCK) != 0 ? -Errno.EINVAL : Install(x, Sys(Nr.pidfd_open, x.Long(0), x.Long(1)), true));
        t.Add(Nr.pidfd_send_signal, "pidfd_send_signal", "fdxx", PidfdSignal);
        t.Add(Nr.pidfd_getfd, "pidfd_getfd", "fdx", PidfdGetFd);
    }

    static long Host(SyscallContext x, int arg, Func<int, long> f)
    {
        int h = x.P.Fds.Host(x.Long(arg));
        return h < 0 ? h : f(h);
    }

    static long Install(SyscallContext x, long host, bool cloexec)
    {
        if (host < 0) return host;
        int g = x.P.Fds.Install((int)host, cloexec);
        if (g < 0) x.P.CloseHost((int)host);
        return g;
    }

    /// <summary>
    /// A pipe operation that would wait is done with SPLICE_F_NONBLOCK and waits in the scheduler for either
    /// end instead (unless the guest asked for no waiting itself).
    /// </summary>
    static long Piped(SyscallContext x, int inHost, int outHost, int flags, Func<int, long> call)
    {
        long r = call(flags | SPLICE_F_NONBLOCK);
        if (r != -Errno.EAGAIN || (flags & SPLICE_F_NONBLOCK) != 0 || Blocking.NonBlocking(inHost) || Blocking.NonBlocking(outHost)) return r;
        if (!x.Interrupted)
        {
            x.Wait.Fds.Add((inHost, Blocking.POLLIN));
            x.Wait.Fds.Add((outHost, Blocking.POLLOUT));
        }
        return x.Block(restartable: true);
    }

    static long Splice(SyscallContext x)
    {
        int hin = x.P.Fds.Host(x.Long(0)), hout = x.P.Fds.Host(x.Long(2));
        if (hin < 0) return hin;
        if (hout < 0) return hout;
        long len = x.Long(4);
        int flags = x.Int(5);
        return Piped(x, hin, hout, flags, f => Files.WithOffset(x, x.A[1], oin => Files.WithOffset(x, x.A[3], oout => Sys(Nr.splice, hin, oin, hout, oout, len, f))));
    }

    static long Tee(SyscallContext x)
    {
        int hin = x.P.Fds.Host(x.Long(0)), hout = x.P.Fds.Host(x.Long(1));
        if (hin < 0) return hin;
        if (hout < 0) return hout;
        return Piped(x, hin, hout, x.Int(3), f => Sys(Nr.tee, hin, hout, x.Long(2), f));
    }

    // struct mmsghdr: a msghdr (56 bytes) and the bytes moved for it (msg_len), 64 bytes in all.
    const int MmsgSize = 64;

    /// <summary>
    /// sendmmsg: sendmsg for each message in turn. Only the first may wait; once one went out, the call
    /// returns how many did when the next would wait or fails, as the kernel does after the first.
    /// </summary>
    static long SendMany(SyscallContext x)
    {
        ulong vec = x.A[1];
        long n = Math.Min(x.Long(2), 1024); // UIO_MAXIOV
        int flags = x.Int(3);
        long done = 0;
        for (; done < n; done++)
        {
            x.A[1] = vec + (ulong)(done * MmsgSize);
            x.A[2] = (ulong)(uint)(done == 0 ? flags : flags | MSG_DONTWAIT);
            long r = Net.SendMsg(x);
            if (r < 0 || r == SyscallContext.Blocked || r == SyscallContext.Restart) return done > 0 ? done : r;
            x.Mem.Write32(vec + (ulong)(done * MmsgSize) + 56, (uint)r);
        }
        return done;
    }

    /// <summary>
    /// recvmmsg: recvmsg for each message. The first waits as recvmsg would; the rest take only what has
    /// already arrived, so a call returns the messages there are rather than waiting for all of vlen.
    /// </summary>
    static long RecvMany(SyscallContext x)
    {
        ulong vec = x.A[1];
        long n = Math.Min(x.Long(2), 1024);
        int flags = x.Int(3) & ~MSG_WAITFORONE;
        long done = 0;
        for (; done < n; done++)
        {
            x.A[1] = vec + (ulong)(done * MmsgSize);
            x.A[2] = (ulong)(uint)(done == 0 ? flags : flags | MSG_DONTWAIT);
            long r = Net.RecvMsg(x);
            if (r < 0 || r == SyscallContext.Blocked || r == SyscallContext.Restart) return done > 0 ? done : r;
            x.Mem.Write32(vec + (ulong)(done * MmsgSize) + 56, (uint)r);
        }
        return done;
    }

    static unsafe long PidfdSignal(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        // A pidfd of this very process (pidfd_open(getpid()) or an open /proc/PID directory): the signal is this
        // process's own and is taken before the guest runs on, as kill(getpid()) is. Through the host it would reach
        // the emulator later, on another thread, after the guest had gone on.
        if (x.A[3] == 0 && PidOfPidfd(h) == x.P.Pid)
        {
            int sig = x.Int(1);
            if (sig < 0 || sig > 64) return -Errno.EINVAL;
            return x.A[2] == 0 ? Signals.SendSignal(x, x.P.Pid, sig, 0 /* SI_USER */) : Signals.QueueInfo(x, x.P.Pid, 0, sig, x.A[2]);
        }
        if (x.A[2] == 0) return Sys(Nr.pidfd_send_signal, h, x.Long(1), 0, x.Long(3));
        var info = new byte[128];
        x.Mem.ReadBytes(x.A[2], info);
        fixed (byte* p = info) return Sys(Nr.pidfd_send_signal, h, x.Long(1), (nint)p, x.Long(3));
    }

    /// <summary>The process a host pidfd (or /proc/PID directory descriptor) refers to; -1 for any other descriptor.</summary>
    static int PidOfPidfd(int h)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/self/fdinfo/{h}"))
                if (line.StartsWith("Pid:", StringComparison.Ordinal) && int.TryParse(line.AsSpan(4).Trim(), out int pid)) return pid;
            if (new FileInfo($"/proc/self/fd/{h}").LinkTarget is { } target && target.StartsWith("/proc/", StringComparison.Ordinal)
                && int.TryParse(target.AsSpan(6), out int dirPid))
                return dirPid;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return -1;
    }

    /// <summary>
    /// pidfd_getfd: another process's descriptors are numbered by its own guest table, which only that
    /// process holds; for a pidfd of this process the number is looked up here.
    /// </summary>
    static long PidfdGetFd(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        if (x.Long(2) != 0) return -Errno.EINVAL;
        int pid = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/self/fdinfo/{h}"))
                if (line.StartsWith("Pid:", StringComparison.Ordinal)) pid = int.Parse(line.AsSpan(4).Trim());
        }
        catch (IOException) { return -Errno.EBADF; }
        if (pid == 0) return -Errno.EBADF;
        if (pid != x.P.Pid)
        {
            x.P.Options.Diagnostics.WriteLine("legoemu: pidfd_getfd of another process is not supported (its descriptor numbers are its own guest's)");
            return -Errno.EPERM;
        }
        int target = x.P.Fds.Host(x.Long(1));
        if (target < 0) return target;
        return Install(x, Sys(Nr.fcntl, target, 1030 /* F_DUPFD_CLOEXEC */, 3), true);
    }
}
