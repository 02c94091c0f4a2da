using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// futex for a process with one thread: nobody else can be waiting, so WAKE wakes no one and a WAIT
/// either fails at once (value changed), times out, or would sleep forever, which is reported.
/// </summary>
static class Futex
{
    const int FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
        FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10, FUTEX_CMD_MASK = 0x7f; // PRIVATE (128) and CLOCK_REALTIME (256) stripped
    const int ETIMEDOUT = 110;

    public static void Register(SyscallTable t) => t.Add(Nr.futex, "futex", "xxdxxd", Call);

    static long Call(SyscallContext x)
    {
        int op = (int)x.A[1] & FUTEX_CMD_MASK;
        ulong uaddr = x.A[0];
        if ((uaddr & 3) != 0) return -Errno.EINVAL;
        switch (op)
        {
            case FUTEX_WAKE:
            case FUTEX_WAKE_BITSET:
            case FUTEX_WAKE_OP:
            case FUTEX_REQUEUE:
                x.Mem.Read32(uaddr); // EFAULT for a bad address, as the kernel checks it
                return 0;
            case FUTEX_CMP_REQUEUE:
                return x.Mem.Read32(uaddr) != (uint)x.A[5] ? -Errno.EAGAIN : 0;
            case FUTEX_WAIT:
            case FUTEX_WAIT_BITSET:
            {
                if (x.Mem.Read32(uaddr) != (uint)x.A[2]) return -Errno.EAGAIN;
                if (x.A[3] == 0)
                {
                    x.P.Options.Diagnostics.WriteLine($"legoemu: the only guest thread waits on futex 0x{uaddr:x} with no timeout: nothing can wake it (deadlock)");
                    x.P.Exit(128 + 9);
                    return -Errno.EINTR;
                }
                // With a timeout the wait simply elapses: relative for FUTEX_WAIT, absolute for WAIT_BITSET.
                long sec = (long)x.Mem.Read64(x.A[3]), nsec = (long)x.Mem.Read64(x.A[3] + 8);
                if (op == FUTEX_WAIT_BITSET)
                {
                    int clock = ((int)x.A[1] & 256) != 0 ? 0 : 1;
                    return Buffers.WithInput(x, x.A[3], 16, ts => Sys(Nr.clock_nanosleep, clock, 1 /* TIMER_ABSTIME */, ts, 0)) < 0 ? -Errno.EINTR : -ETIMEDOUT;
                }
                if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000) return -Errno.EINVAL;
                Buffers.WithInput(x, x.A[3], 16, ts => Sys(Nr.nanosleep, ts, 0));
                return -ETIMEDOUT;
            }
            default:
                return -Errno.ENOSYS;
        }
    }
}
