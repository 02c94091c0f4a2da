using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// Idle processor components of this process, ready for its guest's next fork: `legoemu procnode --pool-socket`
/// processes it started ahead (they have started .NET and warmed the emulator up), and components whose guest
/// (a child of this process's guest) has exited and been reaped, which come back here warm instead of ending.
/// They are this process's own children, so once one takes a fork it is the guest's child in every way the
/// kernel knows (wait4, getppid, SIGCHLD, process group, session). They hold no descriptor of the guest's
/// between guests, so an idle one never keeps a pipe open. The pool belongs to the host process and outlives
/// its guests: a component that runs one guest after another keeps its idle children for the next.
/// </summary>
public sealed class ForkPool : IDisposable
{
    sealed record Idle(int Pid, int Socket, bool Used);

    readonly List<Idle> _idle = new();

    /// <summary>Components that came back are kept up to this many; older ones are stopped.</summary>
    const int MaxIdle = 8;

    static ForkPool? _shared;
    bool _disposed;

    /// <summary>This host process's pool, made when its guest first needs one under <c>--pool</c> above 0; null before.</summary>
    public static ForkPool? Shared => Volatile.Read(ref _shared);

    /// <summary>This host process's pool, made now if need be (the guest's thread and a start-ahead timer may ask at once).</summary>
    public static ForkPool Get()
    {
        if (Volatile.Read(ref _shared) is { } pool) return pool;
        Interlocked.CompareExchange(ref _shared, new ForkPool(), null);
        return _shared!;
    }

    public int IdleCount { get { lock (_idle) return _idle.Count; } }

    /// <summary>Whether <paramref name="pid"/> is one of this pool's idle components (waits while the pool is being filled).</summary>
    public bool Holds(int pid)
    {
        lock (_idle)
            foreach (var c in _idle)
                if (c.Pid == pid) return true;
        return false;
    }

    /// <summary>Starts components until <paramref name="size"/> are idle.</summary>
    /// <param name="start">Starts one idle component with the given socket as its descriptor 3; returns its pid or a negated errno.</param>
    public void Fill(int size, Func<int, int> start)
    {
        lock (_idle)
        while (!_disposed && _idle.Count < size)
        {
            if (UnixRights.Pair(out int mine, out int theirs) < 0) return;
            int pid = start(theirs);
            Native.Sys(Nr.close, theirs);
            if (pid < 0)
            {
                Native.Sys(Nr.close, mine);
                return;
            }
            // Fresh ones go first in line: one that has run guests has more of the emulator's code compiled.
            _idle.Insert(0, new Idle(pid, mine, false));
        }
    }

    /// <summary>A child's component whose guest has exited and been reaped: it waits on <paramref name="socket"/> for the next fork.</summary>
    public void Return(int pid, int socket)
    {
        lock (_idle)
        {
            if (_disposed)
            {
                Stop(pid, socket);
                return;
            }
            _idle.Add(new Idle(pid, socket, true));
            if (_idle.Count > MaxIdle)
            {
                Stop(_idle[0]);
                _idle.RemoveAt(0);
            }
        }
    }

    /// <summary>
    /// Hands <paramref name="state"/> to an idle component in this process's current group and session and
    /// returns its pid, or 0 when none can take it (the caller starts one cold). One in another group or
    /// session (this process moved since, or the guest that ran there made a session of its own) is let go:
    /// a child must start in its parent's group.
    /// </summary>
    /// <param name="reused">Whether that component had run a guest before.</param>
    /// <param name="adopt">Called with the component's pid and socket just before the state goes out, so that its exit report
    /// (which may come at once) finds it counted as the guest's child; <paramref name="drop"/> undoes that when the send fails.</param>
    public int HandOver(ForkState state, int emulatorStderr, Action<int, int> adopt, Action<int> drop, out bool reused)
    {
        reused = false;
        long group = Native.Sys(Nr.getpgid, 0), session = Native.Sys(Nr.getsid, 0);
        while (true)
        {
            Idle c;
            lock (_idle)
            {
                if (_idle.Count == 0) break;
                c = _idle[^1];
                _idle.RemoveAt(_idle.Count - 1);
            }
            if (!Alive(c.Pid))
            {
                // Already reaped by the check: its pid may belong to someone else now, so no kill.
                Native.Sys(Nr.close, c.Socket);
                continue;
            }
            long joined = JoinedGroup(c.Pid);
            if (joined < 0)
            {
                // It ended while it started, and the wait for it reaped it: as above, no kill.
                Native.Sys(Nr.close, c.Socket);
                continue;
            }
            // A stopped one (a signal to its group from another process: the kernel stops idle components too) would
            // hold the fork's child stopped until someone continued it.
            if (joined != group || HostProcesses.Of(c.Pid) is not { } now || now.Session != session || now.State is 'T' or 't')
            {
                Stop(c);
                continue;
            }
            adopt(c.Pid, c.Socket);
            long r = ForkHandover.Send(c.Socket, state, emulatorStderr);
            if (r < 0)
            {
                // It died before it could read: reap it and try the next.
                drop(c.Pid);
                Stop(c);
                continue;
            }
            // The socket stays, as the child's control socket.
            reused = c.Used;
            return c.Pid;
        }
        return 0;
    }

    /// <summary>
    /// The process group of an idle component, once it has left the group of its own it started in (see
    /// <see cref="Native.SpawnIsolated"/>) for its starter's: a component handed a fork right after it was started may not
    /// have run that far. A start takes as long as the cold start that is the alternative, so it is waited for.
    /// </summary>
    static long JoinedGroup(int pid)
    {
        long group = Native.Sys(Nr.getpgid, pid);
        for (int waited = 0; group == pid && waited < 2000; waited++)
        {
            if (!Alive(pid)) return -LegoEmu.Mem.Errno.ESRCH;
            Thread.Sleep(1);
            group = Native.Sys(Nr.getpgid, pid);
        }
        return group;
    }

    /// <summary>True while the process runs; a dead one is reaped by the asking.</summary>
    static unsafe bool Alive(int pid)
    {
        int status;
        return Native.Sys(Nr.wait4, pid, (nint)(&status), 1 /* WNOHANG */, 0) == 0;
    }

    /// <summary>Closes the socket of an idle component, kills it and reaps it.</summary>
    public static unsafe void Stop(int pid, int socket)
    {
        Native.Sys(Nr.close, socket);
        Native.Sys(Nr.kill, pid, 9);
        int status;
        Native.Sys(Nr.wait4, pid, (nint)(&status), 0, 0);
    }

    static void Stop(Idle c) => Stop(c.Pid, c.Socket);

    /// <summary>Stops every idle component and reaps it, so none outlives this process.</summary>
    public void Dispose()
    {
        lock (_idle)
        {
            _disposed = true;
            foreach (var c in _idle) Stop(c);
            _idle.Clear();
        }
    }
}
