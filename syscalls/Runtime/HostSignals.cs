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
    static readonly int[] Forwarded = { 1, 2, 3, 10, 12, 14, 15, 17, 23, 26, 27, 28, 29 }; // HUP INT QUIT USR1 USR2 ALRM TERM CHLD URG VTALRM PROF WINCH IO
    const int SIGCHLD = 17;

    readonly List<PosixSignalRegistration> _registrations = new();

    /// <summary>
    /// The signals this host process was started with ignored (SigIgn of /proc/self/status), read by <see cref="RecordIgnoredAtStart"/>
    /// before the emulator registers handlers of its own. A program started with a signal ignored keeps it ignored across
    /// exec (a background job of a shell without job control ignores SIGINT and SIGQUIT), and so does the guest.
    /// </summary>
    public static ulong IgnoredAtStart { get; private set; }

    /// <summary>Reads the ignored signals once, first thing in the emulator's Main.</summary>
    public static void RecordIgnoredAtStart()
    {
        Span<byte> buffer = stackalloc byte[4096];
        var value = Host.ProcFile.SelfStatusField("SigIgn"u8, buffer);
        if (ParseHex(value) is { } bits) IgnoredAtStart = bits;
    }

    /// <summary>
    /// The kernel's 16 hex digits, or null. By hand: this is the emulator's first managed work, and the number parser with
    /// a culture brought the runtime's number formatting types in at every start, for one field.
    /// </summary>
    static ulong? ParseHex(ReadOnlySpan<byte> digits)
    {
        if (digits.IsEmpty || digits.Length > 16) return null;
        ulong v = 0;
        foreach (byte d in digits)
        {
            int x = d is >= (byte)'0' and <= (byte)'9' ? d - '0' : (d | 0x20) is >= 'a' and <= 'f' ? (d | 0x20) - 'a' + 10 : -1;
            if (x < 0) return null;
            v = v << 4 | (uint)x;
        }
        return v;
    }

    /// <summary>
    /// Gives a guest that starts here (not a forked one, whose dispositions came with it) the host's ignored signals as
    /// SIG_IGN. SIGPIPE is left out: the .NET runtime ignores it in every process, so its bit says nothing of the
    /// emulator's parent. SIGKILL and SIGSTOP cannot be ignored.
    /// </summary>
    public static void InheritIgnored(SignalState s)
    {
        const int SIGKILL = 9, SIGPIPE = 13, SIGSTOP = 19;
        for (int sig = 1; sig <= 64; sig++)
            if ((IgnoredAtStart & SignalState.Bit(sig)) != 0 && sig is not (SIGKILL or SIGPIPE or SIGSTOP) && s.Actions[sig].Handler == 0)
                s.Actions[sig] = s.Actions[sig] with { Handler = 1 };
    }

    public static HostSignals Register(GuestProcess p)
    {
        var h = new HostSignals();
        try
        {
            h._registrations.Add(PosixSignalRegistration.Create((PosixSignal)GuestProcess.ReportSignal, ctx =>
            {
                ctx.Cancel = true;
                if (!p.Ended) p.PollReports();
            }));
        }
        catch (PlatformNotSupportedException) { }
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
        // A signal for a guest that has ended is a signal to a zombie: the kernel drops it. Its handler may run after the
        // end (handlers run on the thread pool), and a component that outlives its guest must not die of it later.
        if (p.Ended) return;
        var act = p.Signals.Actions[sig];
        if (sig == SIGCHLD)
        {
            // Under SA_NOCLDSTOP the news is still asked for: a stop must be recognised to be ignored.
            if (p.ChildSignalWanted && ChildEvent(p) is { } info && !(info.Code > 3 && (act.Flags & SA_NOCLDSTOP) != 0)) p.RaiseSignal(info);
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
            // A guest that ended meanwhile (its own exit raced the signal) took the signal with it: the component that
            // ran it may be running the parent's next child by now.
            if ((Volatile.Read(ref p.Signals.Pending) & SignalState.Bit(sig)) == 0 || p.Ended) return;
            p.ReportTermination(sig);
            p.EmergencyCleanup?.Invoke();
            LegoEmu.Syscalls.Host.Native.DieBySignal(sig);
        }, TaskScheduler.Default);
    }

    const ulong SA_NOCLDSTOP = 1;

    /// <summary>
    /// What the kernel's siginfo for this SIGCHLD says: the first of the guest's children with news, asked
    /// with WNOWAIT so the guest's own wait still finds it. The host's siginfo does not reach .NET's handler,
    /// and the news may be from a child that is not the guest's (a memory node, an idle pooled component):
    /// then no signal at all. When the guest's wait was quicker than this handler, that wait raised the signal.
    /// (A component that outlives its guest reports the exit on its control socket instead; see <see cref="GuestProcess.PollReports"/>.)
    /// </summary>
    static unsafe SignalInfo? ChildEvent(GuestProcess p)
    {
        const int P_PID = 1, WNOHANG = 1, WSTOPPED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x1000000;
        p.AdoptOrphans();
        var children = p.ChildrenNow();
        byte* si = stackalloc byte[128];
        // Exits first: a child stopped earlier stays reportable under WNOWAIT and must not hide a new exit.
        foreach (int events in (ReadOnlySpan<int>)[WEXITED, WSTOPPED | WCONTINUED])
        {
            foreach (int c in children)
            {
                new Span<byte>(si, 128).Clear();
                if (LegoEmu.Syscalls.Host.Native.Sys(247 /* waitid */, P_PID, c, (nint)si, events | WNOHANG | WNOWAIT, 0) != 0) continue;
                int pid = *(int*)(si + 16);
                if (pid == 0) continue;
                int code = *(int*)(si + 8), status = *(int*)(si + 24);
                p.ChildSignalled(new GuestProcess.ChildNews(pid, code, status));
                return new SignalInfo(SIGCHLD, code, Pid: pid, Uid: *(int*)(si + 20), Status: status);
            }
        }
        // The guest's own wait took the news first and raised the signal then (GuestProcess.ChildSeen). Anything else is
        // about no child of the guest's (an idle component stopped, a memory node): no signal.
        return null;
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}
