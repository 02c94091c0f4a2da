using LegoEmu.Mem;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete (see <see cref="PosixTimers"/>).</summary>
static class PosixTimer
{
    const int timer_create = 222, timer_settime = 223, timer_gettime = 224, timer_getoverrun = 225, timer_delete = 226;
    const int timerfd_settime = 286, timerfd_gettime = 287, ItimerspecSize = 32;

    public static void Register(SyscallTable t)
    {
        t.Add(timer_create, "timer_create", "dxx", Create);
        t.Add(timer_settime, "timer_settime", "ddxx", x => With(x, timer => Buffers.WithInput(x, x.A[2], ItimerspecSize,
            nv => Buffers.WithStruct(x, x.A[3], ItimerspecSize, ov => Sys(timerfd_settime, timer.Fd, x.Long(1) & 1 /* TIMER_ABSTIME */, nv, x.A[3] == 0 ? 0 : ov)))));
        t.Add(timer_gettime, "timer_gettime", "dx", x => With(x, timer => Buffers.WithStruct(x, x.A[1], ItimerspecSize, cur => Sys(timerfd_gettime, timer.Fd, cur))));
        t.Add(timer_getoverrun, "timer_getoverrun", "d", x => With(x, timer => timer.Overrun));
        t.Add(timer_delete, "timer_delete", "d", x => x.P.Timers?.Delete(x.Long(0)) == true ? 0 : -Errno.EINVAL);
    }

    static long With(SyscallContext x, Func<PosixTimers.Timer, long> f) =>
        x.P.Timers?.Get(x.Long(0)) is { } timer ? f(timer) : -Errno.EINVAL;

    static long Create(SyscallContext x)
    {
        const int SIGALRM = 14, CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_BOOTTIME = 7, CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9;
        int clock = x.Int(0);
        int notify = PosixTimers.SIGEV_SIGNAL, signo = SIGALRM, tid = 0;
        ulong? value = null; // without a sigevent, the signal carries the timer's id
        if (x.A[1] != 0)
        {
            value = x.Mem.Read64(x.A[1]);
            signo = (int)x.Mem.Read32(x.A[1] + 8);
            notify = (int)x.Mem.Read32(x.A[1] + 12);
            tid = (int)x.Mem.Read32(x.A[1] + 16);
            if (notify != PosixTimers.SIGEV_SIGNAL && notify != PosixTimers.SIGEV_NONE && notify != PosixTimers.SIGEV_THREAD_ID) return -Errno.EINVAL;
            if (notify != PosixTimers.SIGEV_NONE && (signo < 1 || signo > 64)) return -Errno.EINVAL;
            if (notify == PosixTimers.SIGEV_THREAD_ID && x.P.FindThread(tid) == null) return -Errno.EINVAL;
        }
        if (clock is not (CLOCK_REALTIME or CLOCK_MONOTONIC or CLOCK_BOOTTIME or CLOCK_REALTIME_ALARM or CLOCK_BOOTTIME_ALARM))
        {
            if (clock is 2 or 3 || clock < 0)
                x.P.Options.Diagnostics.WriteLine($"legoemu: timer_create on CPU-time clock {clock} is not supported (realtime, monotonic and boottime clocks are)");
            return -Errno.EINVAL;
        }
        var timers = x.P.Timers ??= new PosixTimers(x.P);
        long id = timers.Create(clock, notify, signo, tid, value);
        if (id < 0) return id;
        try { x.Mem.Write32(x.A[2], (uint)id); }
        catch (MemoryFault)
        {
            timers.Delete(id);
            return -Errno.EFAULT;
        }
        return 0;
    }
}
