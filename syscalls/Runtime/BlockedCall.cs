namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// What a guest thread blocked in a system call waits for, and what the call must remember between
/// attempts. A call that would block does not block the host thread: its handler records the wait
/// here and returns <see cref="SyscallContext.Blocked"/>. The scheduler runs other threads and, when a
/// descriptor becomes ready, the deadline or re-check time passes, or a signal arrives, it runs the
/// same handler again (<see cref="SyscallContext.Resuming"/>), which either completes or blocks anew.
/// </summary>
public sealed class BlockedCall(GuestThread owner)
{
    /// <summary>True while the thread sits in a blocked call.</summary>
    public bool Active
    {
        get => _active;
        set { if (_active != value) { _active = value; owner.Changed(); } }
    }
    bool _active;
    /// <summary>Host descriptors and poll events whose readiness should retry the call.</summary>
    // Given a capacity, as the lists below: List<T>() reads the empty array of List<T>'s static constructor, which
    // ReadyToRun leaves to the JIT for a value-type T (a compile on the guest's thread at start-up).
    public readonly List<(int Fd, short Events)> Fds = new(4);
    /// <summary>Stopwatch timestamp at which the call times out (its handler decides what that means).</summary>
    public long Deadline = long.MaxValue;
    /// <summary>Stopwatch timestamp of the next retry of a call that has no descriptor to wait on (wait4, locks).</summary>
    public long Recheck = long.MaxValue;
    /// <summary>Signals whose arrival retries the call even when they are blocked (rt_sigtimedwait, signalfd).</summary>
    public ulong WakeSignals;
    /// <summary>Retry on every wake-up event, e.g. SIGCHLD from the host for wait4.</summary>
    public bool WakeOnEvent;
    /// <summary>Bytes already moved by a transfer that is carried out in pieces (a large write to a pipe).</summary>
    public long Progress;
    /// <summary>The caller's signal mask while a temporary one is in force (sigsuspend, ppoll, pselect6, epoll_pwait).</summary>
    public ulong? SavedMask;
    /// <summary>A call-specific step marker (e.g. a connect in progress).</summary>
    public int Stage;

    /// <summary>Forgets everything: the call completed.</summary>
    public void Clear()
    {
        Active = false;
        Fds.Clear();
        Deadline = long.MaxValue;
        Recheck = long.MaxValue;
        WakeSignals = 0;
        WakeOnEvent = false;
        Progress = 0;
        SavedMask = null;
        Stage = 0;
    }
}
