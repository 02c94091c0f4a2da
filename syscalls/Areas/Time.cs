using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>Clocks and sleeping: the host's clocks, passed through.</summary>
static class Time
{
    public static void Register(SyscallTable t)
    {
        t.Add(Nr.clock_gettime, "clock_gettime", "dx", ClockGettime);
        t.Add(Nr.clock_getres, "clock_getres", "dx", x => Buffers.WithStruct(x, x.A[1], 16, p => Sys(Nr.clock_getres, x.Long(0), x.A[1] == 0 ? 0 : p)));
        t.Add(Nr.gettimeofday, "gettimeofday", "xx", x => Buffers.WithStruct(x, x.A[0], 16, p => Sys(Nr.gettimeofday, x.A[0] == 0 ? 0 : p, 0)));
        t.Add(Nr.time, "time", "x", TimeCall);
        t.Add(Nr.nanosleep, "nanosleep", "xx", x => Sleep(x, 1 /* CLOCK_MONOTONIC */, absolute: false, x.A[0], x.A[1]));
        t.Add(Nr.clock_nanosleep, "clock_nanosleep", "ddxx", ClockNanosleep);
    }

    const int TIMER_ABSTIME = 1, CLOCK_PROCESS_CPUTIME_ID = 2;

    /// <summary>clock_gettime: the host's clocks, but the process's CPU clock counts the guest's time only (<see cref="GuestCpuTime"/>).</summary>
    static long ClockGettime(SyscallContext x)
    {
        long clock = x.Long(0);
        if (clock != CLOCK_PROCESS_CPUTIME_ID) return Buffers.WithStruct(x, x.A[1], 16, p => Sys(Nr.clock_gettime, clock, p));
        long ns = x.P.CpuTime.ClockNs();
        x.Mem.Write64(x.A[1], (ulong)(ns / 1_000_000_000));
        x.Mem.Write64(x.A[1] + 8, (ulong)(ns % 1_000_000_000));
        return 0;
    }

    static long ClockNanosleep(SyscallContext x)
    {
        int clock = x.Int(0);
        // The clocks a sleep can be measured against; CPU-time clocks would need the guest's own CPU time.
        if (clock == 2)
        {
            x.P.Options.Diagnostics.WriteLine("legoemu: clock_nanosleep on CLOCK_PROCESS_CPUTIME_ID is not supported yet");
            return -Errno.ENOTSUP;
        }
        if (clock == 3) return -Errno.ENOTSUP; // CLOCK_THREAD_CPUTIME_ID: the kernel cannot sleep on it either
        if (clock is not (0 or 1 or 7 or 8 or 9 or 11)) return -Errno.EINVAL;
        return Sleep(x, clock, (x.Long(1) & TIMER_ABSTIME) != 0, x.A[2], x.A[3]);
    }

    /// <summary>
    /// nanosleep/clock_nanosleep as a timed block in the scheduler, so other guest threads run meanwhile.
    /// A signal with a handler ends it with EINTR and, for a relative sleep, the time left in *rem; the
    /// kernel never restarts it after a handler.
    /// </summary>
    static unsafe long Sleep(SyscallContext x, int clock, bool absolute, ulong reqAddr, ulong remAddr)
    {
        long deadline;
        if (x.Resuming) deadline = x.Wait.Deadline;
        else
        {
            long sec = (long)x.Mem.Read64(reqAddr), nsec = (long)x.Mem.Read64(reqAddr + 8);
            if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000) return -Errno.EINVAL;
            long ns = sec > long.MaxValue / 2_000_000_000 ? long.MaxValue / 2 : sec * 1_000_000_000 + nsec;
            if (absolute)
            {
                long* now = stackalloc long[2];
                Sys(Nr.clock_gettime, clock, (nint)now);
                ns = Math.Max(0, ns - (now[0] * 1_000_000_000 + now[1]));
            }
            deadline = x.DeadlineAfterNs(ns);
        }
        long left = deadline - System.Diagnostics.Stopwatch.GetTimestamp();
        if (left <= 0) return 0;
        x.Wait.Deadline = deadline;
        long r = x.Block(restartable: false);
        if (r == -Errno.EINTR && !absolute && remAddr != 0)
        {
            long ns = SyscallContext.TicksToNs(left);
            x.Mem.Write64(remAddr, (ulong)(ns / 1_000_000_000));
            x.Mem.Write64(remAddr + 8, (ulong)(ns % 1_000_000_000));
        }
        return r;
    }

    static long TimeCall(SyscallContext x)
    {
        long now = Sys(Nr.time, 0);
        if (x.A[0] != 0) x.Mem.Write64(x.A[0], (ulong)now);
        return now;
    }
}
