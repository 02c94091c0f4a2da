using LegoEmu.Cpu.State;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>One guest thread: its registers and what the kernel keeps per task.</summary>
public sealed class GuestThread
{
    public GuestThread(int tid, CpuState cpu)
    {
        Tid = tid;
        Cpu = cpu;
        Wait = new BlockedCall(this);
        Filed = new ThreadIndex.Filing(this);
    }

    public int Tid { get; }
    public CpuState Cpu { get; }
    /// <summary>set_tid_address / CLONE_CHILD_CLEARTID: zeroed and futex-woken when the thread exits.</summary>
    public ulong ClearChildTid;
    /// <summary>set_robust_list: the head of the robust futex list, walked when the thread dies.</summary>
    public ulong RobustList;
    /// <summary>
    /// Its command name (prctl PR_SET_NAME, /proc/.../task/TID/comm): 16 bytes, NUL-padded, copied from its creator.
    /// The leader's array is the process's <see cref="GuestProcess.ThreadName"/> itself.
    /// </summary>
    public byte[] Name = new byte[16];

    public bool Exited
    {
        get => _exited;
        set { if (_exited != value) { _exited = value; Changed(); } }
    }
    bool _exited;

    /// <summary>Signals sent to this thread alone (tgkill, pthread_kill) while another thread runs.</summary>
    public ulong DirectedPending;
    /// <summary>Directed signals moved into the process's pending set while this thread runs; they come back if it is switched out first.</summary>
    public ulong DirectedInFlight;
    public readonly SignalInfo[] DirectedInfo = new SignalInfo[65];
    /// <summary>
    /// This thread's signal mask while another thread runs. The running thread's mask is the process's
    /// <c>Signals.Mask</c>; a thread switch swaps them, so one thread blocking signals (as glibc does for
    /// the whole of a thread's exit) does not block them for the others.
    /// </summary>
    public ulong SignalMask;
    /// <summary>
    /// The CPUs sched_setaffinity allowed this thread (bit N for CPU N; 0 for all of them, as at the start): a new
    /// thread and a fork inherit it. The guest's CPUs are processor components, and a thread is not moved between
    /// components by it: sched_getaffinity, getcpu and /proc/self/status only answer consistently with it.
    /// </summary>
    public ulong Affinity;
    /// <summary>
    /// This thread's alternate signal stack while another thread runs (the running one's is in <c>Signals</c>):
    /// each thread has its own, and a new thread starts without one (the kernel's SS_DISABLE).
    /// </summary>
    public ulong AltStackBase, AltStackSize;
    public uint AltStackFlags = SignalState.SS_DISABLE;

    /// <summary>The futex word this thread sleeps on, or 0 when runnable.</summary>
    public ulong FutexAddress
    {
        get => _futexAddress;
        set { if (_futexAddress != value) { _futexAddress = value; Changed(); } }
    }
    ulong _futexAddress;
    public uint FutexBitset;
    /// <summary>
    /// The sleep is a FUTEX_LOCK_PI: it ends with the lock handed over by its owner's unlock (or death), in the
    /// order the waiters came (<see cref="FutexPiOrder"/>), never by a plain wake.
    /// </summary>
    public bool FutexPi;
    public long FutexPiOrder;
    /// <summary>The value a futex wait on shared memory expects; the wait ends when another process changes it.</summary>
    public uint FutexExpected;

    /// <summary>When the scheduler next looks at a shared futex word (long.MaxValue: a private wait).</summary>
    public long FutexRecheck
    {
        get => _futexRecheck;
        set { if (_futexRecheck != value) { _futexRecheck = value; Changed(); } }
    }
    long _futexRecheck = long.MaxValue;
    /// <summary>The pause after the next look at a shared futex word.</summary>
    public long FutexInterval;

    /// <summary>Stopwatch timestamp at which a timed wait gives up (long.MaxValue: no timeout).</summary>
    public long WaitDeadline
    {
        get => _waitDeadline;
        set { if (_waitDeadline != value) { _waitDeadline = value; Changed(); } }
    }
    long _waitDeadline = long.MaxValue;

    /// <summary>The system call this thread is blocked in, if any (<see cref="BlockedCall.Active"/>).</summary>
    public BlockedCall Wait { get; }

    /// <summary>The processor component this thread runs on (0: this one, the process's home).</summary>
    public int Component;

    /// <summary>Placed elsewhere and running there: its shadow here waits for a system call or a fault.</summary>
    public bool AwaitingRemote
    {
        get => _awaitingRemote;
        set { if (_awaitingRemote != value) { _awaitingRemote = value; Changed(); } }
    }
    bool _awaitingRemote;

    /// <summary>Its host sent a system call that the home has not started yet.</summary>
    public bool RemoteCall;
    /// <summary>Its host checked in at a block boundary because a signal waits for it.</summary>
    public bool RemoteCheckIn;
    /// <summary>Its host has been asked to check in (once per wait).</summary>
    public bool RemotePoked;
    /// <summary>Its host reported a fault that the home has not delivered yet.</summary>
    public (SignalInfo Info, string Message)? RemoteFault;

    public bool Runnable => !_exited && _futexAddress == 0 && !Wait.Active && !_awaitingRemote;

    /// <summary>Sleeping in a call a signal can interrupt: a blocked system call or a futex wait.</summary>
    public bool Interruptible => !_exited && (_futexAddress != 0 || Wait.Active);

    /// <summary>The process's scheduling index this thread is entered in (null until the process adds it).</summary>
    internal ThreadIndex? Index;
    /// <summary>What <see cref="Index"/> last filed this thread under; only it writes these.</summary>
    internal readonly ThreadIndex.Filing Filed;

    /// <summary>A field the scheduler files threads by changed: the index follows at once, so it never needs a walk over all threads.</summary>
    internal void Changed() => Index?.Update(this);
}
