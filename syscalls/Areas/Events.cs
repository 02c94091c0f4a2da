using LegoEmu.Mem;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// Event descriptors on the host: eventfd and epoll. An epoll_event's data word is the guest's own and
/// passes through untouched; only the watched descriptor of epoll_ctl needs translating.
/// </summary>
static class Events
{
    const int eventfd = 284, eventfd2 = 290, epoll_create = 213, epoll_create1 = 291, epoll_ctl = 233, epoll_wait = 232, epoll_pwait = 281, epoll_pwait2 = 441;
    const int O_CLOEXEC = 0x80000;

    public static void Register(SyscallTable t)
    {
        t.Add(eventfd, "eventfd", "d", x => Install(x, Sys(eventfd2, x.Long(0), O_CLOEXEC), false));
        t.Add(eventfd2, "eventfd2", "dx", x => Install(x, Sys(eventfd2, x.Long(0), x.Long(1) | O_CLOEXEC), (x.Long(1) & O_CLOEXEC) != 0));
        t.Add(epoll_create, "epoll_create", "d", x => x.Long(0) <= 0 ? -Errno.EINVAL : Install(x, Sys(epoll_create1, O_CLOEXEC), false));
        t.Add(epoll_create1, "epoll_create1", "x", x => Install(x, Sys(epoll_create1, x.Long(0) | O_CLOEXEC), (x.Long(0) & O_CLOEXEC) != 0));
        t.Add(epoll_ctl, "epoll_ctl", "fdfx", EpollCtl);
        t.Add(epoll_wait, "epoll_wait", "fxdd", x => Wait(x, sigmask: false));
        t.Add(epoll_pwait, "epoll_pwait", "fxddxd", x => Wait(x, sigmask: true));
        t.Add(epoll_pwait2, "epoll_pwait2", "fxdxxd", x =>
        {
            // The timeout is a relative timespec, NULL to wait for ever.
            if (x.A[3] == 0) return Wait(x, sigmask: true, timeoutNs: -1);
            long sec = (long)x.Mem.Read64(x.A[3]), nsec = (long)x.Mem.Read64(x.A[3] + 8);
            if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000) return -Errno.EINVAL;
            return Wait(x, sigmask: true, timeoutNs: sec > long.MaxValue / 2_000_000_000 ? long.MaxValue / 2 : sec * 1_000_000_000 + nsec);
        });
    }

    static long Install(SyscallContext x, long h, bool cloexec)
    {
        if (h < 0) return h;
        int g = x.P.Fds.Install((int)h, cloexec);
        if (g < 0) Sys(LegoEmu.Syscalls.Abi.Nr.close, h);
        return g;
    }

    static long EpollCtl(SyscallContext x)
    {
        int ep = x.P.Fds.Host(x.Long(0)), fd = x.P.Fds.Host(x.Long(2));
        if (ep < 0) return ep;
        if (fd < 0) return fd;
        if (x.A[3] == 0) return Sys(epoll_ctl, ep, x.Long(1), fd, 0);
        return Buffers.WithInput(x, x.A[3], 12, e => Sys(epoll_ctl, ep, x.Long(1), fd, e));
    }

    /// <summary>
    /// epoll_wait/epoll_pwait: the host epoll is asked without waiting; when nothing is ready the thread
    /// blocks on the epoll descriptor itself, which is readable whenever an event is. An interrupted
    /// wait fails with EINTR and is never restarted, as with the kernel.
    /// </summary>
    /// <param name="timeoutNs">epoll_pwait2's timeout (-1: none); the others take milliseconds in argument 3.</param>
    static long Wait(SyscallContext x, bool sigmask, long? timeoutNs = null)
    {
        int ep = x.P.Fds.Host(x.Long(0));
        if (ep < 0) return ep;
        int max = x.Int(2);
        if (max <= 0 || max > 4096) return -Errno.EINVAL;
        if (sigmask && x.A[4] != 0)
        {
            if (x.A[5] != 8) return -Errno.EINVAL;
            x.BeginTemporaryMask(x.Mem.Read64(x.A[4]));
        }
        long ns = timeoutNs ?? (x.Int(3) < 0 ? -1 : x.Int(3) * 1_000_000L);
        long deadline = ns < 0 ? long.MaxValue : x.DeadlineAfterNs(ns);
        long r = Buffers.WithOutput(x, x.A[1], max * 12, e =>
        {
            long n = Sys(epoll_wait, ep, e, max, 0);
            if (n != 0 || System.Diagnostics.Stopwatch.GetTimestamp() >= deadline) return n;
            x.Wait.Deadline = deadline;
            return x.BlockOn(ep, 1 /* POLLIN */, restartable: false);
        }, r => (int)r * 12);
        return x.EndTemporaryMask(r);
    }
}
