using LegoEmu.Mem;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// timerfd_create/settime/gettime: host timer descriptors under guest numbers. Reading one returns the
/// expiration count through the ordinary read path (which waits in the scheduler, not on the host),
/// and poll/select/epoll see the host descriptor's readiness.
/// </summary>
static class TimerFd
{
    const int timerfd_create = 283, timerfd_settime = 286, timerfd_gettime = 287, TFD_CLOEXEC = 0x80000, ItimerspecSize = 32;

    public static void Register(SyscallTable t)
    {
        t.Add(timerfd_create, "timerfd_create", "dx", Create);
        t.Add(timerfd_settime, "timerfd_settime", "fdxx", x => Fd(x, h => Buffers.WithInput(x, x.A[2], ItimerspecSize,
            nv => Buffers.WithStruct(x, x.A[3], ItimerspecSize, ov => Sys(timerfd_settime, h, x.Long(1), nv, x.A[3] == 0 ? 0 : ov)))));
        t.Add(timerfd_gettime, "timerfd_gettime", "fx", x => Fd(x, h => Buffers.WithStruct(x, x.A[1], ItimerspecSize, cur => Sys(timerfd_gettime, h, cur))));
    }

    static long Fd(SyscallContext x, Func<int, long> f)
    {
        int h = x.P.Fds.Host(x.Long(0));
        return h < 0 ? h : f(h);
    }

    static long Create(SyscallContext x)
    {
        long flags = x.Long(1);
        long h = Sys(timerfd_create, x.Long(0), flags | TFD_CLOEXEC);
        if (h < 0) return h;
        int g = x.P.Fds.Install((int)h, (flags & TFD_CLOEXEC) != 0);
        if (g < 0) x.P.CloseHost((int)h);
        return g;
    }
}
