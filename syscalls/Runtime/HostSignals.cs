using System.Runtime.InteropServices;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// Signals sent to the emulator process from outside (Ctrl-C, kill, timers) become guest signals: they
/// are queued and the scheduler is woken, so a thread blocked in a system call is interrupted (EINTR or
/// a restart) and the handler or default action runs at once. The host's SIGCHLD wakes blocked wait4s
/// and reaches the guest when it has a handler. If the guest cannot be reached in time (a host call that
/// cannot be interrupted), a terminating signal ends it directly, after the spawned nodes are cleaned up.
/// </summary>
public sealed class HostSignals : IDisposable
{
    static readonly int[] Forwarded = { 1, 2, 3, 10, 12, 14, 15, 17, 26, 27, 28 }; // HUP INT QUIT USR1 USR2 ALRM TERM CHLD VTALRM PROF WINCH
    const int SIGCHLD = 17;

    readonly List<PosixSignalRegistration> _registrations = new();

    public static HostSignals Register(GuestProcess p)
    {
        var h = new HostSignals();
        foreach (int sig in Forwarded)
        {
            try
            {
                h._registrations.Add(PosixSignalRegistration.Create((PosixSignal)sig, ctx =>
                {
                    if (sig != SIGCHLD) ctx.Cancel = true;
                    Arrived(p, sig);
                }));
            }
            catch (PlatformNotSupportedException) { }
        }
        return h;
    }

    static void Arrived(GuestProcess p, int sig)
    {
        var act = p.Signals.Actions[sig];
        if (sig == SIGCHLD)
        {
            if (act.Handler > 1) p.RaiseSignal(new SignalInfo(sig, 1 /* CLD_EXITED */));
            p.Wake();
            return;
        }
        if (act.Handler == 1 || (act.Handler == 0 && !SignalState.DefaultTerminates(sig))) return;
        bool terminates = act.Handler == 0 && (p.Signals.Mask & SignalState.Bit(sig)) == 0;
        p.RaiseSignal(new SignalInfo(sig, 0 /* SI_USER */));
        if (!terminates) return;
        // The scheduler normally takes the signal within microseconds. If it is still pending after a
        // second, the guest sits in a host call nothing interrupts: end it the way the signal would.
        _ = Task.Delay(1000).ContinueWith(_ =>
        {
            if ((Volatile.Read(ref p.Signals.Pending) & SignalState.Bit(sig)) == 0) return;
            p.Options.Diagnostics.WriteLine($"legoemu: guest terminated by {SignalState.Name(sig)}");
            p.EmergencyCleanup?.Invoke();
            LegoEmu.Syscalls.Host.Native.DieBySignal(sig);
        }, TaskScheduler.Default);
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}
