using System.Runtime.InteropServices;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// Signals sent to the emulator process from outside (Ctrl-C, kill, timers) become guest signals.
/// With a guest handler they are queued for delivery at the next block boundary; with the default
/// action the guest ends, at once if it sits in a blocking call, after the spawned nodes are cleaned up.
/// </summary>
public sealed class HostSignals : IDisposable
{
    static readonly int[] Forwarded = { 1, 2, 3, 10, 12, 14, 15, 26, 27, 28 }; // HUP INT QUIT USR1 USR2 ALRM TERM VTALRM PROF WINCH

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
                    ctx.Cancel = true;
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
        if (act.Handler == 1 || (act.Handler == 0 && !SignalState.DefaultTerminates(sig))) return;
        bool blocked = (p.Signals.Mask & SignalState.Bit(sig)) != 0;
        if (act.Handler == 0 && !blocked)
        {
            // The guest may be inside a blocking host call that would never return to the interpreter.
            p.Options.Diagnostics.WriteLine($"legoemu: guest terminated by {SignalState.Name(sig)}");
            p.EmergencyCleanup?.Invoke();
            Environment.Exit(128 + sig);
        }
        p.RaiseSignal(new SignalInfo(sig, 0 /* SI_USER */));
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}
