using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// Idle processor components this process started ahead of its next fork: `legoemu procnode --pool-socket`
/// processes that have started .NET and warmed the emulator up, and wait on a socket for a fork state.
/// They are this process's own children, so once one takes a fork it is the guest's child in every way the
/// kernel knows (wait4, getppid, SIGCHLD, process group, session). They hold no descriptor of the guest's
/// until the hand-over, so an idle one never keeps a pipe open. A taken one is replaced at once.
/// </summary>
public sealed class ForkPool : IDisposable
{
    sealed record Idle(int Pid, int Socket, long Group, long Session);

    readonly int _size;
    readonly Func<int, int> _start;
    readonly List<Idle> _idle = new();

    /// <param name="start">Starts one idle component with the given socket as its descriptor 3; returns its pid or a negated errno.</param>
    public ForkPool(int size, Func<int, int> start)
    {
        _size = size;
        _start = start;
    }

    public int IdleCount => _idle.Count;

    /// <summary>Starts components until <c>size</c> are idle.</summary>
    public void Fill()
    {
        while (_idle.Count < _size)
        {
            if (UnixRights.Pair(out int mine, out int theirs) < 0) return;
            int pid = _start(theirs);
            Native.Sys(Nr.close, theirs);
            if (pid < 0)
            {
                Native.Sys(Nr.close, mine);
                return;
            }
            _idle.Add(new Idle(pid, mine, Native.Sys(Nr.getpgid, 0), Native.Sys(Nr.getsid, 0)));
        }
    }

    /// <summary>
    /// Hands <paramref name="state"/> to an idle component in this process's current group and session and
    /// returns its pid, or 0 when none can take it (the caller starts one cold). One whose group is stale
    /// (this process moved since it started it) is let go: a child must start in its parent's group.
    /// </summary>
    /// <param name="control">The socket to the component that took the state (<see cref="ForkControl"/>), now the caller's, or -1.</param>
    public int HandOver(ForkState state, int emulatorStderr, out int control)
    {
        control = -1;
        long group = Native.Sys(Nr.getpgid, 0), session = Native.Sys(Nr.getsid, 0);
        while (_idle.Count > 0)
        {
            var c = _idle[0];
            _idle.RemoveAt(0);
            if (!Alive(c.Pid))
            {
                // Already reaped by the check: its pid may belong to someone else now, so no kill.
                Native.Sys(Nr.close, c.Socket);
                continue;
            }
            if (c.Group != group || c.Session != session)
            {
                Stop(c);
                continue;
            }
            long r = ForkHandover.Send(c.Socket, state, emulatorStderr);
            if (r < 0)
            {
                // It died before it could read: reap it and try the next.
                Stop(c);
                continue;
            }
            // The socket stays, as the child's control socket.
            control = c.Socket;
            return c.Pid;
        }
        return 0;
    }

    /// <summary>True while the process runs; a dead one is reaped by the asking.</summary>
    static unsafe bool Alive(int pid)
    {
        int status;
        return Native.Sys(Nr.wait4, pid, (nint)(&status), 1 /* WNOHANG */, 0) == 0;
    }

    static unsafe void Stop(Idle c)
    {
        Native.Sys(Nr.close, c.Socket);
        Native.Sys(Nr.kill, c.Pid, 9);
        int status;
        Native.Sys(Nr.wait4, c.Pid, (nint)(&status), 0, 0);
    }

    /// <summary>Stops every idle component and reaps it, so none outlives this process.</summary>
    public void Dispose()
    {
        foreach (var c in _idle) Stop(c);
        _idle.Clear();
    }
}
