using LegoEmu.Cpu.State;
using LegoEmu.Mem;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>One system call in flight: the calling thread, its process and the six raw arguments. Reused across calls.</summary>
public sealed class SyscallContext(GuestProcess process)
{
    public GuestProcess P { get; } = process;
    public CpuState C = null!;
    public int Number;
    public readonly ulong[] A = new ulong[6];

    public CacheView Mem => C.Mem;

    /// <summary>A handler's result meaning "the call would block": the thread sleeps and the handler runs again later.</summary>
    public const long Blocked = long.MinValue;
    /// <summary>A handler's result meaning "restart the call after the signal handler" (the kernel's ERESTARTSYS under SA_RESTART).</summary>
    public const long Restart = long.MinValue + 1;

    /// <summary>This run of the handler retries a call that blocked before; <see cref="Wait"/> holds what it remembered.</summary>
    public bool Resuming;
    /// <summary>A signal with a handler is about to be delivered to this thread: a call that would block must give up.</summary>
    public bool Interrupted;
    /// <summary>That handler was installed with SA_RESTART.</summary>
    public bool SaRestart;

    /// <summary>The calling thread's blocked-call record.</summary>
    public BlockedCall Wait => P.CurrentThread.Wait;

    /// <summary>
    /// Called by a handler at the point where the call would block. Returns <see cref="Blocked"/> after
    /// recording the wait (descriptors and times set in <see cref="Wait"/> beforehand). When a signal
    /// interrupts the call it returns -EINTR instead, or <see cref="Restart"/> when the call is one the
    /// kernel restarts under SA_RESTART (<paramref name="restartable"/>) and the handler asked for it.
    /// </summary>
    public long Block(bool restartable)
    {
        if (Interrupted) return restartable && SaRestart ? Restart : -Errno.EINTR;
        Wait.Active = true;
        return Blocked;
    }

    /// <summary>Blocks until a host descriptor reports one of <paramref name="events"/> (poll bits).</summary>
    public long BlockOn(int hostFd, short events, bool restartable)
    {
        if (!Interrupted) Wait.Fds.Add((hostFd, events));
        return Block(restartable);
    }

    /// <summary>The deadline of a call with a relative timeout: fixed on the first attempt, kept on retries.</summary>
    public long DeadlineAfterNs(long ns)
    {
        if (Resuming) return Wait.Deadline;
        long ticks = NsToTicks(ns);
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        Wait.Deadline = ticks >= long.MaxValue - now ? long.MaxValue : now + ticks;
        return Wait.Deadline;
    }

    /// <summary>Reads a NUL-terminated path argument; throws <see cref="MemoryFault"/> (EFAULT) on a bad pointer.</summary>
    public string Str(int n) => Str(A[n]);

    public string Str(ulong addr) => FdPaths.Resolve(P, RawStr(addr));

    /// <summary>A path argument for a call that does not follow a final symbolic link (readlink, lstat).</summary>
    public string LinkStr(int n) => FdPaths.Resolve(P, RawStr(A[n]), followLast: false);

    string RawStr(ulong addr)
    {
        if (addr == 0) throw new MemoryFault(0, AccessKind.Read, FaultReason.Unmapped);
        return LegoEmu.Loader.Image.GuestText.Decode(Mem.ReadCString(addr, 4096));
    }

    /// <summary>
    /// Puts a temporary signal mask in force for the call (sigsuspend, ppoll, pselect6, epoll_pwait);
    /// <see cref="EndTemporaryMask"/> takes it away. SIGKILL and SIGSTOP cannot be blocked.
    /// </summary>
    public void BeginTemporaryMask(ulong mask)
    {
        if (Resuming) return; // still in force from the first attempt
        Wait.SavedMask = P.Signals.Mask;
        P.Signals.Mask = mask & ~(SignalState.Bit(9) | SignalState.Bit(19));
    }

    /// <summary>
    /// Ends the temporary mask once the call is over. After EINTR the caller's mask comes back only when
    /// the handler returns (the frame saves it), so the interrupting signal runs under the temporary one.
    /// </summary>
    public long EndTemporaryMask(long r)
    {
        if (r == Blocked || Wait.SavedMask is not ulong saved) return r;
        Wait.SavedMask = null;
        if (r == -Errno.EINTR) P.Signals.MaskToRestore = saved;
        else P.Signals.Mask = saved;
        return r;
    }

    /// <summary>Nanoseconds as Stopwatch ticks (the same unit on Linux), saturating.</summary>
    public static long NsToTicks(long ns) =>
        System.Diagnostics.Stopwatch.Frequency == 1_000_000_000 ? ns : (long)Math.Min(ns * (double)System.Diagnostics.Stopwatch.Frequency / 1e9, long.MaxValue);

    /// <summary>Stopwatch ticks as nanoseconds.</summary>
    public static long TicksToNs(long ticks) =>
        System.Diagnostics.Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)(ticks * 1e9 / System.Diagnostics.Stopwatch.Frequency);

    public int Int(int n) => (int)A[n];
    public long Long(int n) => (long)A[n];
}
