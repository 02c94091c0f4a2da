using System.Diagnostics;
using LegoEmu.Cpu.State;
using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// The green-thread scheduler: picks the next runnable guest thread, retries blocked system calls when
/// what they wait for happens, and interrupts blocked calls for signals the way the kernel does
/// (-EINTR, or a restart under SA_RESTART). The host thread only ever sleeps here, in one ppoll over
/// every descriptor a blocked thread waits on plus the wake-up event, so a thread blocked reading a
/// pipe never stalls the thread that would write to it.
/// </summary>
public sealed partial class GuestProcess
{
    const ulong SA_RESTART = 0x10000000;
    /// <summary>How often a blocked wait4/waitid looks again in case no SIGCHLD reaches this process.</summary>
    public static readonly long ChildRecheck = Stopwatch.Frequency / 20;

    readonly WakeEvent _wake = new();

    /// <summary>Instructions retired by threads that exited and were dropped from <see cref="Threads"/>.</summary>
    long _retiredByRemovedThreads;

    /// <summary>Guest instructions retired by all of the process's threads, live and exited.</summary>
    public long InstructionsRetired => _retiredByRemovedThreads + Threads.Sum(t => t.Cpu.InstructionsRetired);

    /// <summary>Wakes the scheduler if it is idle; safe from any host thread.</summary>
    public void Wake() => _wake.Signal();

    /// <summary>
    /// Set by alarm and setitimer (which arm the host's own timers); cleared once the scheduler has waited for a timer's
    /// signal before calling the guest deadlocked.
    /// </summary>
    internal bool HostTimerArmed;

    /// <summary>How long a guest whose interval timer just ran out may wait for the timer's signal before it is called deadlocked.</summary>
    static readonly long TimerSignalGrace = Stopwatch.Frequency * 5;

    /// <summary>
    /// Picks the next runnable thread: the one that waited longest in the run queue, where the thread whose turn
    /// ends goes to the back. Before that, a pending signal interrupts a blocked thread that should take it,
    /// and blocked calls whose descriptors, deadlines or signals are ready run again. With nothing runnable it
    /// sleeps until one of those happens; when every thread waits forever on a futex the guest has deadlocked.
    /// Its cost depends on the runnable, blocked and timed threads, never on all of them (<see cref="ThreadIndex"/>).
    /// </summary>
    GuestThread? Schedule()
    {
        bool graceTaken = false;
        _index.EndTurn();
        while (true)
        {
            if (_exiting) return null;
            ServeComponents();
            if (_exiting) return null;
            DropExitedThreads();
            if (_index.Live == 0) return null;

            var interrupted = InterruptForSignal();
            if (_exiting) return null;
            if (interrupted != null && interrupted.Runnable)
            {
                _index.Take(interrupted);
                return interrupted;
            }

            long now = Stopwatch.GetTimestamp();
            long earliest = long.MaxValue;
            for (var n = _index.Timed.First; n != null;)
            {
                var t = n.Value;
                n = n.Next; // a wait that ends takes the thread off this list
                if (t.WaitDeadline <= now)
                {
                    t.FutexAddress = 0;
                    t.WaitDeadline = long.MaxValue;
                    t.Cpu.R[Registers.RAX] = unchecked((ulong)-110); // ETIMEDOUT
                }
                else if (t.FutexRecheck <= now && RecheckSharedFutex(t, now)) { }
                else earliest = Math.Min(earliest, Math.Min(t.WaitDeadline, t.FutexRecheck));
            }
            bool anyBlocked = _index.Blocked.Count > 0;
            foreach (var t in _index.Blocked) earliest = Math.Min(earliest, Math.Min(t.Wait.Deadline, t.Wait.Recheck));
            bool anyRunnable = _index.AnyRunnable;
            // Threads running on other components will call or fault in; their links wake the poll below.
            bool anyRemote = _index.Remote > 0;
            if (!anyRunnable && !anyBlocked && !anyRemote && earliest == long.MaxValue && !IntervalTimerArmed() && Timers is not { Count: > 0 })
            {
                // A timer signal may have fired already and still be on its way: the host hands it to a handler on
                // the thread pool (PosixSignalRegistration), which a busy machine can hold back for a second or more
                // (eintr's sem_wait over memory nodes, in a full test run beside two others, was called a deadlock
                // after a quarter of a second). So after the guest armed a host timer the wait is longer; a guest
                // deadlocked that never did is still ended within a quarter of a second.
                if (!graceTaken)
                {
                    graceTaken = true;
                    PollAndRetry(HostTimerArmed ? TimerSignalGrace : Stopwatch.Frequency / 4);
                    HostTimerArmed = false;
                    continue;
                }
                Options.Diagnostics.WriteLine($"legoemu: all {_index.Live} guest threads wait on futexes that nothing can wake (deadlock); guest terminated");
                // Name each stuck thread and its futex word, so a hung test says what it waited on.
                foreach (var t in Threads)
                    if (!t.Exited)
                        Options.Diagnostics.WriteLine($"legoemu:   thread {t.Tid} waits on the futex at 0x{t.FutexAddress:x}{SymbolAt(t.FutexAddress)} (rip 0x{t.Cpu.Rip:x}{SymbolAt(t.Cpu.Rip)})");
                ExitStatus = 128 + 9;
                return null;
            }
            if (anyBlocked || !anyRunnable)
            {
                long timeout = anyRunnable ? 0 : earliest == long.MaxValue ? -1 : Math.Max(0, earliest - now);
                PollAndRetry(timeout);
                if (_exiting) return null;
            }
            if (_index.TakeNext() is { } next) return next;
        }
    }

    /// <summary>
    /// Forgets exited threads (all but the running one), in batches: the list is walked once a quarter of it has
    /// exited, so ending N threads costs O(N) in all, and a thread that exits among a few others goes at once.
    /// </summary>
    void DropExitedThreads()
    {
        int exited = _index.ExitedSinceDrop;
        if (exited == 0 || exited * 4 < Threads.Count) return;
        _index.ExitedSinceDrop = 0;
        Threads.RemoveAll(t =>
        {
            if (!t.Exited) return false;
            if (t == _current)
            {
                _index.ExitedSinceDrop++; // still listed: it counts towards the next drop
                return false;
            }
            _retiredByRemovedThreads += t.Cpu.InstructionsRetired;
            RememberFinished(t);
            return true;
        });
    }

    /// <summary>" (name+0x10)" from the executable's symbol table, or "" (for diagnostics only).</summary>
    string SymbolAt(ulong addr)
    {
        try
        {
            ulong a = addr - LoadBias;
            foreach (var sym in LegoEmu.Loader.Elf.ElfFile.Load(ExePath).ReadSymbols())
                if (a >= sym.Value && a < sym.Value + Math.Max(sym.Size, 1))
                    return a == sym.Value ? $" ({sym.Name})" : $" ({sym.Name}+0x{a - sym.Value:x})";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LegoEmu.Loader.Elf.ElfFormatException or LegoEmu.Loader.Image.ExecFileException) { }
        return "";
    }

    /// <summary>An armed alarm/setitimer can still end a futex wait through its signal handler.</summary>
    static unsafe bool IntervalTimerArmed()
    {
        long* v = stackalloc long[4];
        for (int which = 0; which < 3; which++)
            if (Sys(Nr.getitimer, which, (nint)v) == 0 && (v[2] | v[3]) != 0) return true; // it_value
        return false;
    }

    /// <summary>Hands the processor to another guest thread; a signal still pending goes to it at its first block boundary.</summary>
    void SwitchTo(GuestThread next)
    {
        MakeCurrent(next);
        if (Signals.HasDeliverable()) next.Cpu.RaiseInterrupt();
    }

    /// <summary>Makes <paramref name="t"/> the running thread: signal masks are per thread, and the running one's is in <see cref="SignalState.Mask"/>.</summary>
    void MakeCurrent(GuestThread t)
    {
        if (t == _current) return;
        // A directed signal the outgoing thread has not taken yet stays its own.
        ulong back = _current.DirectedInFlight & Volatile.Read(ref Signals.Pending);
        for (ulong b = back; b != 0; b &= b - 1)
        {
            int sig = System.Numerics.BitOperations.TrailingZeroCount(b) + 1;
            if (!Signals.Take(sig)) continue;
            _current.DirectedInfo[sig] = Signals.PendingInfo[sig];
            _current.DirectedPending |= SignalState.Bit(sig);
            _directedRaised = true;
        }
        _current.DirectedInFlight = 0;
        _current.SignalMask = Signals.Mask;
        Signals.Mask = t.SignalMask;
        (_current.AltStackBase, _current.AltStackSize, _current.AltStackFlags) = (Signals.AltStackBase, Signals.AltStackSize, Signals.AltStackFlags);
        (Signals.AltStackBase, Signals.AltStackSize, Signals.AltStackFlags) = (t.AltStackBase, t.AltStackSize, t.AltStackFlags);
        // A profile's call tracking keeps each thread's costs apart from the others' on this component.
        if (Cache.Profile != null) LegoEmu.Cpu.Profile.CallTracker.Switch(_current.Cpu, t.Cpu);
        _current = t;
        if (Cache.Tracer is { } tracer) tracer.CurrentTid = t.Tid;
        if (t.DirectedPending != 0)
        {
            for (ulong b = t.DirectedPending; b != 0; b &= b - 1)
            {
                int sig = System.Numerics.BitOperations.TrailingZeroCount(b) + 1;
                Signals.Raise(t.DirectedInfo[sig]);
            }
            t.DirectedInFlight = t.DirectedPending;
            t.DirectedPending = 0;
            PendingChanged();
        }
    }

    ulong MaskOf(GuestThread t) => t == _current ? Signals.Mask : t.SignalMask;

    /// <summary>
    /// A signal that a blocked thread should take. Ignored ones are dropped and default-terminating ones
    /// end the guest here, since a blocked thread would never reach a block boundary. With a handler, the
    /// thread group leader takes it first when it is blocked (as the kernel prefers it); otherwise a
    /// running thread takes it at its next boundary, and only when none can run is a blocked one picked.
    /// Returns the interrupted thread.
    /// </summary>
    /// <summary>Some thread may hold a directed signal (set by <see cref="RaiseSignalAt"/>, cleared when a walk finds none).</summary>
    bool _directedRaised;

    GuestThread? InterruptForSignal()
    {
        // A signal sent to one blocked thread interrupts that thread, whoever else could take it. Only a
        // directed signal can be there, so without one the walk over every thread is skipped.
        if (_directedRaised)
        {
            _directedRaised = false;
            foreach (var t in Threads)
            {
                if (t.DirectedPending != 0) _directedRaised = true;
                if (t.Exited || t == _current || !t.Interruptible) continue;
                ulong ready = t.DirectedPending & ~t.SignalMask;
            if (ready == 0) continue;
            int sig = System.Numerics.BitOperations.TrailingZeroCount(ready) + 1;
                if (Signals.Actions[sig].Handler <= 1) continue; // defaults and ignores are handled where the signal was sent
                InterruptWait(t, (Signals.Actions[sig].Flags & SA_RESTART) != 0);
                _directedRaised = true;
                return t;
            }
        }
        // A signal sent to the current thread alone (moved into the process set while it runs) is not the others' to take.
        ulong pending = Volatile.Read(ref Signals.Pending) & ~_current.DirectedInFlight;
        while (pending != 0)
        {
            int sig = System.Numerics.BitOperations.TrailingZeroCount(pending) + 1;
            pending &= pending - 1;
            ulong bit = SignalState.Bit(sig);
            var takers = Threads.Where(t => !t.Exited && (MaskOf(t) & bit) == 0).ToList();
            if (takers.Count == 0) continue; // blocked everywhere: it stays pending
            var act = Signals.Actions[sig];
            if (act.Handler <= 1)
            {
                Signals.Take(sig);
                PendingChanged();
                if (TakeDefaultAction(sig)) return null;
                continue;
            }
            var leader = takers.FirstOrDefault(t => t.Tid == Pid);
            GuestThread? target;
            if (leader != null && leader.Interruptible) target = leader;
            else if (takers.Any(t => t.Runnable)) continue; // a running thread takes it at its next block boundary
            else target = takers.FirstOrDefault(t => t.Interruptible);
            if (target == null) continue;
            InterruptWait(target, (act.Flags & SA_RESTART) != 0);
            return target;
        }
        return null;
    }

    /// <summary>Ends the wait of <paramref name="t"/> for a signal: -EINTR, or a restart under SA_RESTART where the call allows it.</summary>
    void InterruptWait(GuestThread t, bool saRestart)
    {
        if (t.FutexAddress != 0)
        {
            // An untimed FUTEX_WAIT restarts under SA_RESTART; a timed one returns EINTR, as with the kernel's restart block.
            // FUTEX_LOCK_PI always starts again (its timeout is absolute): the kernel's ERESTARTNOINTR.
            bool timed = t.WaitDeadline != long.MaxValue;
            bool pi = t.FutexPi;
            t.FutexAddress = 0;
            t.FutexPi = false;
            t.WaitDeadline = long.MaxValue;
            if ((!timed && saRestart) || pi)
            {
                // The wait's RAX already reads 0 (its result on wake-up): the restarted SYSCALL needs the number back.
                t.Cpu.R[Registers.RAX] = (ulong)Nr.futex;
                t.Cpu.Rip -= 2;
            }
            else t.Cpu.R[Registers.RAX] = unchecked((ulong)-Errno.EINTR);
        }
        else Retry(t, interrupted: true, saRestart);
        if (t.Runnable) t.Cpu.RaiseInterrupt();
    }

    /// <summary>Runs the handler of <paramref name="t"/>'s blocked call again; it completes or blocks anew.</summary>
    void Retry(GuestThread t, bool interrupted, bool saRestart)
    {
        var previous = _current;
        MakeCurrent(t);
        var w = t.Wait;
        w.Active = false;
        w.Fds.Clear();
        w.Recheck = long.MaxValue;
        w.WakeSignals = 0;
        w.WakeOnEvent = false;
        _ctx.Resuming = true;
        _ctx.Interrupted = interrupted;
        _ctx.SaRestart = saRestart;
        try
        {
            SyscallOutsideBlock(t.Cpu);
        }
        finally
        {
            _ctx.Resuming = false;
            _ctx.Interrupted = false;
            _ctx.SaRestart = false;
            MakeCurrent(previous);
        }
    }

    /// <summary>
    /// One ppoll over the wake-up event and every descriptor a blocked thread waits on, for at most
    /// <paramref name="timeoutTicks"/> (-1: until something happens). Then every blocked call whose
    /// descriptor is ready, whose deadline or re-check time has passed, or whose wake-up condition
    /// holds runs again.
    /// </summary>
    unsafe void PollAndRetry(long timeoutTicks)
    {
        // The blocked threads as they were when the poll set was made: a retry may end or renew another's wait.
        var polled = _polled;
        polled.Clear();
        int n = 1;
        foreach (var t in _index.Blocked)
        {
            polled.Add((t, t.Wait.Fds.Count));
            n += t.Wait.Fds.Count;
        }
        if (_pollSet.Length < n) _pollSet = new long[Math.Max(n, _pollSet.Length * 2)];
        var pfd = _pollSet; // struct pollfd {int fd; short events; short revents;} is 8 bytes
        pfd[0] = (uint)_wake.Fd | (1L << 32);
        int k = 1;
        foreach (var (t, _) in polled)
            foreach (var (fd, ev) in t.Wait.Fds) pfd[k++] = (uint)fd | ((long)(ushort)ev << 32);
        fixed (long* p = pfd)
        {
            long* ts = stackalloc long[2];
            long ns = timeoutTicks < 0 ? -1 : SyscallContext.TicksToNs(timeoutTicks);
            ts[0] = ns / 1_000_000_000;
            ts[1] = ns % 1_000_000_000;
            long r = Sys(Nr.ppoll, (nint)p, n, ns < 0 ? 0 : (nint)ts, 0, 8);
            if (r < 0 && r != -Errno.EINTR) throw new InvalidOperationException($"ppoll in the scheduler failed: errno {-r}");
        }
        static bool Ready(long entry) => (entry >> 48) != 0;
        bool woken = Ready(pfd[0]);
        if (woken) _wake.Drain();
        long now = Stopwatch.GetTimestamp();
        k = 1;
        for (int j = 0; j < polled.Count; j++)
        {
            var (t, fds) = polled[j];
            int at = k;
            k += fds;
            var w = t.Wait;
            if (!w.Active) continue;
            bool ready = false;
            for (int i = 0; i < fds; i++) ready |= Ready(pfd[at + i]);
            ready |= now >= w.Deadline || now >= w.Recheck || (woken && w.WakeOnEvent)
                     || ((Volatile.Read(ref Signals.Pending) | t.DirectedPending) & w.WakeSignals) != 0;
            if (ready) Retry(t, interrupted: false, saRestart: false);
            if (_exiting) break;
        }
        polled.Clear();
    }

    readonly List<(GuestThread Thread, int Fds)> _polled = new();
    long[] _pollSet = new long[16];
}
