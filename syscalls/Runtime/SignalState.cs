namespace LegoEmu.Syscalls.Runtime;

/// <summary>One signal's disposition as rt_sigaction sees it (kernel struct sigaction layout).</summary>
public readonly record struct SignalAction(ulong Handler, ulong Flags, ulong Restorer, ulong Mask);

/// <summary>Process-wide signal dispositions and pending set; the running thread's mask and alternate stack.</summary>
public sealed class SignalState
{
    public readonly SignalAction[] Actions = new SignalAction[65];
    public ulong Mask;
    public ulong AltStackBase;
    public ulong AltStackSize;
    /// <summary>SS_AUTODISARM: the alternate stack is disabled while a handler runs on it, and restored by sigreturn.</summary>
    public bool AltStackAutoDisarm;
    /// <summary>Raised but not yet delivered (bit n-1 for signal n); set from other threads too.</summary>
    public ulong Pending;
    public readonly SignalInfo[] PendingInfo = new SignalInfo[65];
    /// <summary>sigsuspend's caller mask, put back by the frame of the signal that ends the suspension.</summary>
    public ulong? MaskToRestore;

    public static ulong Bit(int sig) => 1UL << (sig - 1);

    public void Raise(in SignalInfo info)
    {
        lock (this)
        {
            PendingInfo[info.Signo] = info;
            Pending |= Bit(info.Signo);
        }
    }

    /// <summary>The lowest pending signal the mask lets through, or 0.</summary>
    public int NextDeliverable()
    {
        lock (this)
        {
            ulong ready = Pending & ~Mask;
            if (ready == 0) return 0;
            int sig = System.Numerics.BitOperations.TrailingZeroCount(ready) + 1;
            Pending &= ~Bit(sig);
            return sig;
        }
    }

    /// <summary>The lowest pending signal of <paramref name="set"/> and its siginfo, left pending; 0 when none.</summary>
    public int Peek(ulong set, out SignalInfo info)
    {
        lock (this)
        {
            ulong ready = Pending & set;
            if (ready == 0)
            {
                info = default;
                return 0;
            }
            int sig = System.Numerics.BitOperations.TrailingZeroCount(ready) + 1;
            info = PendingInfo[sig];
            return sig;
        }
    }

    /// <summary>Removes <paramref name="sig"/> from the pending set; false when it was not pending.</summary>
    public bool Take(int sig)
    {
        lock (this)
        {
            bool was = (Pending & Bit(sig)) != 0;
            Pending &= ~Bit(sig);
            return was;
        }
    }

    public bool HasDeliverable() => (Volatile.Read(ref Pending) & ~Mask) != 0;

    /// <summary>Default action of a signal with SIG_DFL: true = terminate the process, false = ignore.</summary>
    public static bool DefaultTerminates(int sig) => sig is not (17 or 18 or 23 or 28 or 19 or 20 or 21 or 22);

    public static string Name(int sig) => sig switch
    {
        1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 4 => "SIGILL", 5 => "SIGTRAP", 6 => "SIGABRT", 7 => "SIGBUS", 8 => "SIGFPE",
        9 => "SIGKILL", 10 => "SIGUSR1", 11 => "SIGSEGV", 12 => "SIGUSR2", 13 => "SIGPIPE", 14 => "SIGALRM", 15 => "SIGTERM",
        17 => "SIGCHLD", 26 => "SIGVTALRM", 27 => "SIGPROF", 28 => "SIGWINCH",
        _ => $"signal {sig}",
    };
}
