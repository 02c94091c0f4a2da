using LegoEmu.Mem;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>One signal's disposition as rt_sigaction sees it (kernel struct sigaction layout).</summary>
public readonly record struct SignalAction(ulong Handler, ulong Flags, ulong Restorer, ulong Mask);

/// <summary>Process-wide signal dispositions and pending set; the running thread's mask and alternate stack (the others' wait in their <see cref="GuestThread"/>).</summary>
public sealed class SignalState
{
    public readonly SignalAction[] Actions = new SignalAction[65];
    public ulong Mask;
    public ulong AltStackBase;
    public ulong AltStackSize;
    /// <summary>
    /// The flags the stack was last set with, as the kernel keeps them (sas_ss_flags): what a signal frame's
    /// uc_stack records, and SS_AUTODISARM (the stack is disabled while a handler runs on it, and restored by
    /// sigreturn). A new thread starts with SS_DISABLE.
    /// </summary>
    public uint AltStackFlags;

    public const uint SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1u << 31;

    /// <summary>The kernel's on_sig_stack: a stack set with SS_AUTODISARM never counts as the one in use.</summary>
    public bool OnAltStack(ulong sp) => (AltStackFlags & SS_AUTODISARM) == 0 && AltStackSize != 0 && sp > AltStackBase && sp - AltStackBase <= AltStackSize;

    /// <summary>The flags sigaltstack reports for stack pointer <paramref name="sp"/> (the kernel's sas_ss_flags plus SS_AUTODISARM).</summary>
    public uint ReportedAltStackFlags(ulong sp) => (AltStackSize == 0 ? SS_DISABLE : OnAltStack(sp) ? SS_ONSTACK : 0) | (AltStackFlags & SS_AUTODISARM);

    /// <summary>
    /// The kernel's do_sigaltstack without its copies: EPERM while running on the current stack, EINVAL for
    /// flags other than 0, SS_ONSTACK or SS_DISABLE (SS_AUTODISARM aside), ENOMEM below MINSIGSTKSZ.
    /// </summary>
    public long SetAltStack(ulong rsp, ulong sp, uint flags, ulong size)
    {
        const ulong MINSIGSTKSZ = 2048;
        if (OnAltStack(rsp)) return -Errno.EPERM;
        uint mode = flags & ~SS_AUTODISARM;
        if (mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE) return -Errno.EINVAL;
        if (mode == SS_DISABLE) sp = size = 0;
        else if (size < MINSIGSTKSZ) return -Errno.ENOMEM;
        AltStackBase = sp;
        AltStackSize = size;
        AltStackFlags = flags;
        return 0;
    }
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
