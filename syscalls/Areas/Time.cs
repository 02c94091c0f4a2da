using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>Clocks and sleeping: the host's clocks, passed through.</summary>
static class Time
{
    public static void Register(SyscallTable t)
    {
        t.Add(Nr.clock_gettime, "clock_gettime", "dx", x => Buffers.WithStruct(x, x.A[1], 16, p => Sys(Nr.clock_gettime, x.Long(0), p)));
        t.Add(Nr.clock_getres, "clock_getres", "dx", x => Buffers.WithStruct(x, x.A[1], 16, p => Sys(Nr.clock_getres, x.Long(0), x.A[1] == 0 ? 0 : p)));
        t.Add(Nr.gettimeofday, "gettimeofday", "xx", x => Buffers.WithStruct(x, x.A[0], 16, p => Sys(Nr.gettimeofday, x.A[0] == 0 ? 0 : p, 0)));
        t.Add(Nr.time, "time", "x", TimeCall);
        t.Add(Nr.nanosleep, "nanosleep", "xx", x => Buffers.WithInput(x, x.A[0], 16, req => Buffers.WithStruct(x, x.A[1], 16, rem => Sys(Nr.nanosleep, req, x.A[1] == 0 ? 0 : rem))));
        t.Add(Nr.clock_nanosleep, "clock_nanosleep", "ddxx", x => Buffers.WithInput(x, x.A[2], 16, req => Buffers.WithStruct(x, x.A[3], 16, rem => Sys(Nr.clock_nanosleep, x.Long(0), x.Long(1), req, x.A[3] == 0 ? 0 : rem))));
    }

    static long TimeCall(SyscallContext x)
    {
        long now = Sys(Nr.time, 0);
        if (x.A[0] != 0) x.Mem.Write64(x.A[0], (ulong)now);
        return now;
    }
}
