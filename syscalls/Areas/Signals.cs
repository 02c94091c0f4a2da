using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// Signal dispositions and masks as bookkeeping. Asynchronous delivery onto a guest rt_sigframe is not
/// implemented yet; synchronous faults terminate the guest with the signal's status.
/// </summary>
static class Signals
{
    public static void Register(SyscallTable t)
    {
        t.Add(Nr.rt_sigaction, "rt_sigaction", "dxxd", SigAction);
        t.Add(Nr.rt_sigprocmask, "rt_sigprocmask", "dxxd", SigProcMask);
        t.Add(Nr.sigaltstack, "sigaltstack", "xx", SigAltStack);
        t.Add(Nr.kill, "kill", "dd", x => SendSignal(x, (long)x.A[0], x.Int(1)));
        t.Add(Nr.tgkill, "tgkill", "ddd", x => SendSignal(x, (long)x.A[1], x.Int(2)));
        t.Add(Nr.tkill, "tkill", "dd", x => SendSignal(x, (long)x.A[0], x.Int(1)));
    }

    /// <summary>Signals whose default action is to ignore them (the rest terminate, possibly with a core dump).</summary>
    static bool DefaultIgnored(int sig) => sig is 17 or 23 or 28 or 18; // SIGCHLD SIGURG SIGWINCH SIGCONT

    /// <summary>
    /// A signal to this process takes its default action (or is ignored); handlers are recorded but
    /// delivery onto a guest signal frame is not implemented, so that case stops the guest loudly.
    /// Signals to other processes go to the host.
    /// </summary>
    static long SendSignal(SyscallContext x, long pid, int sig)
    {
        if (sig < 0 || sig > 64) return -Errno.EINVAL;
        if (pid != x.P.Pid && pid != 0) return LegoEmu.Syscalls.Host.Native.Sys(Nr.kill, pid, sig);
        if (sig == 0) return 0;
        var action = x.P.Signals.Actions[sig];
        bool blocked = (x.P.Signals.Mask & (1UL << (sig - 1))) != 0 && sig != 9 && sig != 19;
        if (action.Handler == 1 || (action.Handler == 0 && DefaultIgnored(sig)) || blocked) return 0;
        if (action.Handler != 0)
        {
            x.P.Options.Diagnostics.WriteLine($"legoemu: signal {sig} has a guest handler at 0x{action.Handler:x}, but signal delivery is not implemented yet");
            x.P.Exit(128 + sig);
            return 0;
        }
        x.P.Options.Diagnostics.WriteLine($"legoemu: guest terminated by signal {sig} ({SignalName(sig)})");
        x.P.Exit(128 + sig);
        return 0;
    }

    static string SignalName(int sig) => sig switch
    {
        1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 4 => "SIGILL", 5 => "SIGTRAP", 6 => "SIGABRT", 7 => "SIGBUS", 8 => "SIGFPE",
        9 => "SIGKILL", 10 => "SIGUSR1", 11 => "SIGSEGV", 12 => "SIGUSR2", 13 => "SIGPIPE", 14 => "SIGALRM", 15 => "SIGTERM",
        _ => $"signal {sig}",
    };

    static long SigAction(SyscallContext x)
    {
        int sig = x.Int(0);
        if (sig < 1 || sig > 64 || sig == 9 || sig == 19 || x.A[3] != 8) return -Errno.EINVAL;
        var s = x.P.Signals;
        if (x.A[2] != 0)
        {
            var old = s.Actions[sig];
            x.Mem.Write64(x.A[2], old.Handler);
            x.Mem.Write64(x.A[2] + 8, old.Flags);
            x.Mem.Write64(x.A[2] + 16, old.Restorer);
            x.Mem.Write64(x.A[2] + 24, old.Mask);
        }
        if (x.A[1] != 0)
        {
            s.Actions[sig] = new SignalAction(x.Mem.Read64(x.A[1]), x.Mem.Read64(x.A[1] + 8), x.Mem.Read64(x.A[1] + 16), x.Mem.Read64(x.A[1] + 24));
        }
        return 0;
    }

    static long SigProcMask(SyscallContext x)
    {
        const int SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
        if (x.A[3] != 8) return -Errno.EINVAL;
        var s = x.P.Signals;
        ulong old = s.Mask;
        if (x.A[1] != 0)
        {
            ulong set = x.Mem.Read64(x.A[1]);
            switch (x.Int(0))
            {
                case SIG_BLOCK: s.Mask |= set; break;
                case SIG_UNBLOCK: s.Mask &= ~set; break;
                case SIG_SETMASK: s.Mask = set; break;
                default: return -Errno.EINVAL;
            }
            s.Mask &= ~((1UL << 8) | (1UL << 18)); // SIGKILL and SIGSTOP cannot be blocked
        }
        if (x.A[2] != 0) x.Mem.Write64(x.A[2], old);
        return 0;
    }

    static long SigAltStack(SyscallContext x)
    {
        var s = x.P.Signals;
        if (x.A[1] != 0)
        {
            x.Mem.Write64(x.A[1], s.AltStackBase);
            x.Mem.Write32(x.A[1] + 8, s.AltStackSize == 0 ? 2u : 0u); // SS_DISABLE when none
            x.Mem.Write64(x.A[1] + 16, s.AltStackSize);
        }
        if (x.A[0] != 0)
        {
            s.AltStackBase = x.Mem.Read64(x.A[0]);
            uint flags = x.Mem.Read32(x.A[0] + 8);
            s.AltStackSize = (flags & 2) != 0 ? 0 : x.Mem.Read64(x.A[0] + 16);
        }
        return 0;
    }
}
