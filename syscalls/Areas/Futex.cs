using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// futex over the guest threads of this processor component: a WAIT puts the thread to sleep in the
/// scheduler, a WAKE makes sleepers runnable. Waits with timeouts end with ETIMEDOUT. The priority-inheritance
/// operations hand a lock from owner to waiter (see PiFutexes).
/// </summary>
static class Futex
{
    const int FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
        FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10, FUTEX_CMD_MASK = 0x7f; // PRIVATE (128) and CLOCK_REALTIME (256) stripped
    const int FUTEX_LOCK_PI = 6, FUTEX_UNLOCK_PI = 7, FUTEX_TRYLOCK_PI = 8, FUTEX_LOCK_PI2 = 13;
    const int EDEADLK = 35, ESRCH = 3;
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
            case FUTEX_LOCK_PI:
            case FUTEX_LOCK_PI2:
            case FUTEX_TRYLOCK_PI:
                return LockPi(x, uaddr, op);
            case FUTEX_UNLOCK_PI:
                return UnlockPi(x, uaddr);
            default:
                return -Errno.ENOSYS;
        }
    }

    /// <summary>
    /// FUTEX_LOCK_PI, FUTEX_LOCK_PI2 and FUTEX_TRYLOCK_PI, as the kernel's futex_lock_pi: a free word (no owner, perhaps
    /// FUTEX_OWNER_DIED) is taken; one this thread owns is EDEADLK; one whose owner does not exist is ESRCH; else the
    /// thread sleeps until the owner's unlock hands it the lock (see <see cref="GuestProcess.HandOverPi"/>), or until
    /// the absolute timeout (CLOCK_REALTIME for LOCK_PI, CLOCK_MONOTONIC for LOCK_PI2 unless FUTEX_CLOCK_REALTIME).
    /// An owner in another process is waited for by looking at the word again at growing intervals.
    /// </summary>
    static long LockPi(SyscallContext x, ulong uaddr, int op)
    {
        var p = x.P;
        uint tid = (uint)p.CurrentThread.Tid;
        uint v = x.Mem.Read32(uaddr);
        uint owner = v & GuestProcess.FUTEX_TID_MASK;
        if (owner == 0)
        {
            x.Mem.Write32(uaddr, tid | (v & GuestProcess.FUTEX_OWNER_DIED) | (p.PiWaiters(uaddr) ? GuestProcess.FUTEX_WAITERS : 0));
            return 0;
        }
        if (owner == tid) return -EDEADLK;
        bool local = p.LiveThread((int)owner);
        if (!local && Sys(Nr.kill, owner, 0) == -ESRCH) return -ESRCH;
        if (op == FUTEX_TRYLOCK_PI) return -Errno.EAGAIN;
        long deadline = long.MaxValue;
        if (x.A[3] != 0)
        {
            long sec = (long)x.Mem.Read64(x.A[3]), nsec = (long)x.Mem.Read64(x.A[3] + 8);
            if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000) return -Errno.EINVAL;
            deadline = AbsoluteDeadline(op == FUTEX_LOCK_PI || ((int)x.A[1] & 256) != 0, sec, nsec);
            if (System.Diagnostics.Stopwatch.GetTimestamp() >= deadline) return -ETIMEDOUT;
        }
        if ((v & GuestProcess.FUTEX_WAITERS) == 0) x.Mem.Write32(uaddr, v | GuestProcess.FUTEX_WAITERS);
        if (local)
        {
            p.WaitFutexPi(uaddr, deadline, v | GuestProcess.FUTEX_WAITERS);
            return 0; // the hand-over leaves 0, a timeout -ETIMEDOUT, a signal a restart
        }
        // Another process's owner cannot hand over: try again when the word has changed or a while has passed.
        if (x.Resuming && deadline != long.MaxValue && System.Diagnostics.Stopwatch.GetTimestamp() >= x.Wait.Deadline) return -ETIMEDOUT;
        if (!x.Resuming) x.Wait.Deadline = deadline;
        x.Wait.Recheck = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency / 1000;
        return x.Block(restartable: true);
    }

    /// <summary>FUTEX_UNLOCK_PI: only the owner may; the longest waiter gets the lock, or the word becomes 0.</summary>
    static long UnlockPi(SyscallContext x, ulong uaddr)
    {
        uint v = x.Mem.Read32(uaddr);
        if ((v & GuestProcess.FUTEX_TID_MASK) != (uint)x.P.CurrentThread.Tid) return -Errno.EPERM;
        if (!x.P.HandOverPi(x.Mem, uaddr, 0)) x.Mem.Write32(uaddr, 0);
        return 0;
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
