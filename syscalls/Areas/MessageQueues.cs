using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// POSIX message queues. A queue is the host kernel's (its name, permissions, attributes and messages), and its
/// descriptor a host one in the guest's table. A send or receive that would wait is tried with a timeout that has
/// already passed, so no host thread sleeps in it: the guest thread then blocks in the scheduler until the queue's
/// descriptor polls ready, until its own absolute timeout, or until a signal (restarted under SA_RESTART).
/// </summary>
static unsafe class MessageQueues
{
    const int mq_open = 240, mq_unlink = 241, mq_timedsend = 242, mq_timedreceive = 243, mq_notify = 244, mq_getsetattr = 245;
    const int O_CLOEXEC = 0x80000, ETIMEDOUT = 110, CLOCK_REALTIME = 0, AttrSize = 64;
    const int SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2;

    public static void Register(SyscallTable t)
    {
        t.Add(mq_open, "mq_open", "sxox", Open);
        t.Add(mq_unlink, "mq_unlink", "s", x => Buffers.WithPath(x.Str(0), p => Sys(mq_unlink, p)));
        t.Add(mq_timedsend, "mq_timedsend", "fxddx", Send);
        t.Add(mq_timedreceive, "mq_timedreceive", "fxdxx", Receive);
        t.Add(mq_notify, "mq_notify", "fx", Notify);
        t.Add(mq_getsetattr, "mq_getsetattr", "fxx", x =>
        {
            int h = x.P.Fds.Host(x.Long(0));
            if (h < 0) return h;
            long Old(nint n) => x.A[2] == 0 ? Sys(mq_getsetattr, h, n, 0) : Buffers.WithStruct(x, x.A[2], AttrSize, o => Sys(mq_getsetattr, h, n, o));
            return x.A[1] == 0 ? Old(0) : Buffers.WithInput(x, x.A[1], AttrSize, Old);
        });
    }

    static long Open(SyscallContext x)
    {
        int flags = x.Int(1);
        const int O_CREAT = 0x40;
        // The attributes are read only when the queue is created, as the kernel reads them.
        long Create(nint attr) => Buffers.WithPath(x.Str(0), p => Sys(mq_open, p, flags | O_CLOEXEC, x.Long(2), attr));
        long h = (flags & O_CREAT) != 0 && x.A[3] != 0 ? Buffers.WithInput(x, x.A[3], AttrSize, Create) : Create(0);
        if (h < 0) return h;
        // Host descriptors are close-on-exec; the guest's own flag lives in the table.
        int g = x.P.Fds.Install((int)h, (flags & O_CLOEXEC) != 0);
        if (g < 0) Sys(Nr.close, h);
        return g;
    }

    static long Send(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        int n = (int)Math.Min(x.A[2], Buffers.Chunk);
        if (x.A[2] > (ulong)n) return -90; // EMSGSIZE
        return Buffers.WithInput(x, x.A[1], n, msg => Wait(x, h, Blocking.POLLOUT, x.A[4], past => Sys(mq_timedsend, h, msg, n, x.Long(3), past)));
    }

    static long Receive(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        int n = (int)Math.Min(x.A[2], Buffers.Chunk);
        uint* prio = stackalloc uint[1];
        nint p = (nint)prio;
        long r = Buffers.WithOutput(x, x.A[1], n, msg => Wait(x, h, Blocking.POLLIN, x.A[4], past => Sys(mq_timedreceive, h, msg, n, p, past)));
        if (r >= 0 && x.A[3] != 0) x.Mem.Write32(x.A[3], *prio);
        return r;
    }

    /// <summary>
    /// Runs <paramref name="call"/> with an absolute timeout that has passed. When it would wait (ETIMEDOUT) the
    /// guest's timeout at <paramref name="timeoutAddr"/> (absolute CLOCK_REALTIME, or none) decides: the thread
    /// blocks until the queue polls <paramref name="events"/> or that time comes, and then fails with ETIMEDOUT.
    /// </summary>
    static long Wait(SyscallContext x, int h, short events, ulong timeoutAddr, Func<nint, long> call)
    {
        long* past = stackalloc long[2];
        past[0] = past[1] = 0;
        long timeoutNs = -1;
        if (timeoutAddr != 0)
        {
            long sec = (long)x.Mem.Read64(timeoutAddr), nsec = (long)x.Mem.Read64(timeoutAddr + 8);
            if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000) return -Errno.EINVAL;
            long* now = stackalloc long[2];
            Sys(Nr.clock_gettime, CLOCK_REALTIME, (nint)now);
            long abs = sec > long.MaxValue / 2_000_000_000 ? long.MaxValue / 2 : sec * 1_000_000_000 + nsec;
            timeoutNs = Math.Max(0, abs - (now[0] * 1_000_000_000 + now[1]));
        }
        long r = call((nint)past);
        if (r != -ETIMEDOUT) return r;
        if (timeoutNs >= 0)
        {
            long deadline = x.DeadlineAfterNs(timeoutNs);
            if (System.Diagnostics.Stopwatch.GetTimestamp() >= deadline) return -ETIMEDOUT;
        }
        return x.BlockOn(h, events, restartable: true);
    }

    /// <summary>
    /// mq_notify: none, or a signal, goes to the host as it is (a signal then reaches the guest as one another
    /// process sent). glibc's SIGEV_THREAD names its netlink socket in sigev_signo: that descriptor is translated.
    /// </summary>
    static long Notify(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        if (x.A[1] == 0) return Sys(mq_notify, h, 0);
        var ev = new byte[64];
        x.Mem.ReadBytes(x.A[1], ev);
        int notify = BitConverter.ToInt32(ev, 12);
        if (notify == SIGEV_THREAD)
        {
            int sock = x.P.Fds.Host(BitConverter.ToInt32(ev, 8));
            if (sock < 0) return sock;
            BitConverter.TryWriteBytes(ev.AsSpan(8), sock);
            // The cookie the socket is told about is read from guest memory by the kernel: hand it a host copy.
            var cookie = new byte[32];
            x.Mem.ReadBytes(BitConverter.ToUInt64(ev, 0), cookie);
            fixed (byte* c = cookie)
            {
                BitConverter.TryWriteBytes(ev.AsSpan(0), (ulong)(nint)c);
                fixed (byte* e = ev) return Sys(mq_notify, h, (nint)e);
            }
        }
        if (notify is not (SIGEV_NONE or SIGEV_SIGNAL)) return -Errno.EINVAL;
        fixed (byte* e = ev) return Sys(mq_notify, h, (nint)e);
    }
}
