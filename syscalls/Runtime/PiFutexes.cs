using LegoEmu.Cpu.State;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// Priority-inheritance futexes among this process's threads. The futex word holds the owner's tid (with
/// FUTEX_WAITERS while others wait, FUTEX_OWNER_DIED after a robust owner died); a waiter sleeps until the owner's
/// FUTEX_UNLOCK_PI hands it the lock, as the kernel does: the word then names the new owner, and its LOCK_PI returns
/// 0 holding it. Threads of one component take turns, so there is no priority to inherit: waiters are served in
/// the order they came.
/// </summary>
public sealed partial class GuestProcess
{
    public const uint FUTEX_WAITERS = 0x80000000, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;

    long _piOrder;

    /// <summary>Whether <paramref name="tid"/> is a live thread of this process.</summary>
    public bool LiveThread(int tid) => _index.Find(tid) != null;

    /// <summary>Puts the running thread to sleep in FUTEX_LOCK_PI on <paramref name="addr"/> until the lock is handed to it or <paramref name="deadline"/>.</summary>
    public void WaitFutexPi(ulong addr, long deadline, uint seen)
    {
        WaitFutex(addr, 0, deadline, seen); // bitset 0: no plain FUTEX_WAKE matches it
        _current.FutexPi = true;
        _current.FutexPiOrder = ++_piOrder;
    }

    /// <summary>
    /// Hands the PI lock at <paramref name="addr"/> to its longest waiter: the word names it (with FUTEX_WAITERS,
    /// as the kernel leaves it, and <paramref name="keep"/>'s bits) and its LOCK_PI returns 0. False when none waits.
    /// </summary>
    public bool HandOverPi(LegoEmu.Mem.Cache.CacheView m, ulong addr, uint keep)
    {
        GuestThread? next = null;
        for (var n = _index.FirstSleeper(addr); n != null; n = n.Next)
            if (n.Value.FutexPi && (next == null || n.Value.FutexPiOrder < next.FutexPiOrder)) next = n.Value;
        if (next == null) return false;
        m.Write32(addr, (uint)next.Tid | FUTEX_WAITERS | keep);
        next.FutexAddress = 0;
        next.FutexPi = false;
        next.WaitDeadline = long.MaxValue;
        next.Cpu.R[Registers.RAX] = 0;
        return true;
    }

    /// <summary>Whether a thread of this process sleeps in FUTEX_LOCK_PI on <paramref name="addr"/>.</summary>
    public bool PiWaiters(ulong addr)
    {
        for (var n = _index.FirstSleeper(addr); n != null; n = n.Next)
            if (n.Value.FutexPi) return true;
        return false;
    }
}
