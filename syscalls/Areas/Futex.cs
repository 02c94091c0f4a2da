using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// futex over the guest threads of this processor component: a WAIT puts the thread to sleep in the
/// scheduler, a WAKE makes sleepers runnable. Waits with timeouts end with ETIMEDOUT.
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
        int count = (int)Math.Min(x.A[2], int.MaxValue);
        switch (op)
        {
            case FUTEX_WAKE:
                x.Mem.Read32(uaddr); // EFAULT for a bad address, as the kernel checks it
                return x.P.WakeFutex(uaddr, count, uint.MaxValue);
            case FUTEX_WAKE_BITSET:
                x.Mem.Read32(uaddr);
                return x.A[5] == 0 ? -Errno.EINVAL : x.P.WakeFutex(uaddr, count, (uint)x.A[5]);
            case FUTEX_REQUEUE:
            case FUTEX_CMP_REQUEUE:
            {
                if (op == FUTEX_CMP_REQUEUE && x.Mem.Read32(uaddr) != (uint)x.A[5]) return -Errno.EAGAIN;
                int woken = x.P.WakeFutex(uaddr, count, uint.MaxValue);
                return woken + x.P.RequeueFutex(uaddr, x.A[4], (int)Math.Min(x.A[3], int.MaxValue));
            }
            case FUTEX_WAKE_OP:
                return WakeOp(x, uaddr, count);
            case FUTEX_WAIT:
            case FUTEX_WAIT_BITSET:
            {
                if (x.Mem.Read32(uaddr) != (uint)x.A[2]) return -Errno.EAGAIN;
                uint bitset = op == FUTEX_WAIT_BITSET ? (uint)x.A[5] : uint.MaxValue;
                if (bitset == 0) return -Errno.EINVAL;
                long deadline = long.MaxValue;
                if (x.A[3] != 0)
                {
                    long sec = (long)x.Mem.Read64(x.A[3]), nsec = (long)x.Mem.Read64(x.A[3] + 8);
                    if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000) return -Errno.EINVAL;
                    long ticks = sec * System.Diagnostics.Stopwatch.Frequency + nsec * System.Diagnostics.Stopwatch.Frequency / 1_000_000_000;
                    // WAIT takes a relative timeout; WAIT_BITSET an absolute one on CLOCK_MONOTONIC (or REALTIME).
                    if (op == FUTEX_WAIT) deadline = System.Diagnostics.Stopwatch.GetTimestamp() + ticks;
                    else deadline = AbsoluteDeadline(((int)x.A[1] & 256) != 0, sec, nsec);
                }
                x.P.WaitFutex(uaddr, bitset, deadline, (uint)x.A[2]);
                return 0; // replaced by 0 on wake-up or -ETIMEDOUT by the scheduler
            }
            default:
                return -Errno.ENOSYS;
        }
    }

    static long AbsoluteDeadline(bool realtime, long sec, long nsec)
    {
        // Convert the absolute clock value into a Stopwatch deadline using the host clock's current reading.
        Span<long> now = stackalloc long[2];
        unsafe
        {
            fixed (long* p = now) Sys(LegoEmu.Syscalls.Abi.Nr.clock_gettime, realtime ? 0 : 1, (nint)p);
        }
        long deltaNs = (sec - now[0]) * 1_000_000_000 + (nsec - now[1]);
        long t = System.Diagnostics.Stopwatch.GetTimestamp();
        return deltaNs <= 0 ? t : t + deltaNs * System.Diagnostics.Stopwatch.Frequency / 1_000_000_000;
    }

    /// <summary>FUTEX_WAKE_OP: atomically update a second word, wake on the first, and on the second if a condition held.</summary>
    static long WakeOp(SyscallContext x, ulong uaddr, int count)
    {
        ulong uaddr2 = x.A[4];
        uint encoded = (uint)x.A[5];
        int opcode = (int)(encoded >> 28) & 7, cmp = (int)(encoded >> 24) & 15;
        uint oparg = (encoded >> 12) & 0xfff, cmparg = encoded & 0xfff;
        if ((encoded >> 31) != 0) oparg = 1u << (int)(oparg & 31);
        uint old = x.Mem.Read32(uaddr2);
        uint updated = opcode switch { 0 => oparg, 1 => old + oparg, 2 => old | oparg, 3 => old & ~oparg, 4 => old ^ oparg, _ => old };
        x.Mem.Write32(uaddr2, updated);
        int woken = x.P.WakeFutex(uaddr, count, uint.MaxValue);
        bool cond = cmp switch
        {
            0 => old == cmparg, 1 => old != cmparg, 2 => (int)old < (int)cmparg, 3 => (int)old <= (int)cmparg,
            4 => (int)old > (int)cmparg, 5 => (int)old >= (int)cmparg, _ => false,
        };
        if (cond) woken += x.P.WakeFutex(uaddr2, (int)Math.Min(x.A[3], int.MaxValue), uint.MaxValue);
        return woken;
    }
}
