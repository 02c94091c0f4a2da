using LegoEmu.Syscalls.Abi;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// POSIX per-process timers (timer_create). Each is a host timerfd on the timer's clock; a watcher thread
/// sleeps in epoll over them and, when one expires, asks the guest's thread for a safe point, where the
/// expirations are read and the notification is raised: a signal for the process (SIGEV_SIGNAL) or for one
/// thread (SIGEV_THREAD_ID, what glibc's SIGEV_THREAD helper thread uses), or nothing (SIGEV_NONE). Expirations
/// while the timer's signal is still pending are its overrun count, as with the kernel.
/// </summary>
public sealed class PosixTimers : IDisposable
{
    public const int SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD_ID = 4;
    const int TFD_NONBLOCK = 0x800, TFD_CLOEXEC = 0x80000, EPOLLIN = 1, EPOLLONESHOT = 1 << 30;
    const int timerfd_create = 283, epoll_create1 = 291, epoll_ctl = 233, epoll_wait = 232, EPOLL_CTL_ADD = 1, EPOLL_CTL_MOD = 3, EPOLL_CTL_DEL = 2;

    /// <summary>One timer: its host timerfd and how it notifies.</summary>
    public sealed class Timer(int id, int fd, int notify, int signo, int tid, ulong value)
    {
        public readonly int Id = id, Fd = fd, Notify = notify, Signo = signo, Tid = tid;
        public readonly ulong Value = value;
        /// <summary>Overrun of the signal delivered last (timer_getoverrun), and of the one still pending.</summary>
        public int Overrun, PendingOverrun;
        public bool SignalPending;
    }

    readonly GuestProcess _process;
    readonly Dictionary<int, Timer> _timers = new();
    readonly int _epoll;
    readonly Thread _watcher;
    volatile bool _due, _stopping;

    public PosixTimers(GuestProcess process)
    {
        _process = process;
        _epoll = (int)Sys(epoll_create1, TFD_CLOEXEC);
        if (_epoll < 0) throw new InvalidOperationException($"epoll_create1 for POSIX timers failed: errno {-_epoll}");
        _watcher = new Thread(Watch) { IsBackground = true, Name = "posix-timers" };
        _watcher.Start();
    }

    /// <summary>timer_create: a new timer id, or a negated errno (the clock is checked by the host's timerfd). A null value means the id.</summary>
    public long Create(int clock, int notify, int signo, int tid, ulong? value)
    {
        long fd = Sys(timerfd_create, clock, TFD_NONBLOCK | TFD_CLOEXEC);
        if (fd < 0) return fd == -Mem.Errno.EINVAL ? -Mem.Errno.EINVAL : fd;
        int id = 0;
        while (_timers.ContainsKey(id)) id++;
        var t = new Timer(id, (int)fd, notify, signo, tid, value ?? (ulong)id);
        lock (_timers) _timers[id] = t;
        Arm(t, EPOLL_CTL_ADD);
        return id;
    }

    public Timer? Get(long id)
    {
        lock (_timers) return id >= 0 && id <= int.MaxValue && _timers.TryGetValue((int)id, out var t) ? t : null;
    }

    public bool Delete(long id)
    {
        Timer? t;
        lock (_timers) if (!_timers.Remove((int)id, out t)) return false;
        Ctl(EPOLL_CTL_DEL, t.Fd, 0);
        Sys(Nr.close, t.Fd);
        return true;
    }

    public int Count { get { lock (_timers) return _timers.Count; } }

    /// <summary>execve deletes every timer.</summary>
    public void DeleteAll()
    {
        foreach (var id in _timers.Keys.ToArray()) Delete(id);
    }

    unsafe void Ctl(int op, int fd, int events)
    {
        long* ev = stackalloc long[2]; // struct epoll_event { u32 events; u64 data; } packed: 12 bytes
        *(uint*)ev = (uint)events;
        *(long*)((byte*)ev + 4) = fd;
        Sys(epoll_ctl, _epoll, op, fd, (nint)ev);
    }

    void Arm(Timer t, int op) => Ctl(op, t.Fd, EPOLLIN | EPOLLONESHOT);

    unsafe void Watch()
    {
        byte* events = stackalloc byte[12 * 16];
        while (!_stopping)
        {
            long n = Sys(epoll_wait, _epoll, (nint)events, 16, 200);
            if (n <= 0 || _stopping) continue;
            _due = true;
            _process.RequestSafePointFromAnyThread();
        }
    }

    /// <summary>On the guest's thread, at a safe point: reads what expired and raises the notifications.</summary>
    public unsafe void Serve()
    {
        if (!_due) return;
        _due = false;
        Timer[] all;
        lock (_timers) all = [.. _timers.Values];
        ulong count;
        foreach (var t in all)
        {
            if (Sys(Nr.read, t.Fd, (nint)(&count), 8) != 8) { Arm(t, EPOLL_CTL_MOD); continue; }
            Arm(t, EPOLL_CTL_MOD);
            int n = (int)Math.Min(count, int.MaxValue);
            if (t.Notify == SIGEV_NONE) continue;
            bool stillPending = t.SignalPending && (Volatile.Read(ref _process.Signals.Pending) & SignalState.Bit(t.Signo)) != 0;
            if (stillPending)
            {
                t.PendingOverrun = (int)Math.Min((long)t.PendingOverrun + n, int.MaxValue);
                t.Overrun = t.PendingOverrun;
                continue;
            }
            t.PendingOverrun = n - 1;
            t.Overrun = t.PendingOverrun;
            t.SignalPending = true;
            // siginfo of a timer: si_code SI_TIMER, si_timerid and si_overrun where kill's si_pid and si_uid go, si_value.
            var info = new SignalInfo(t.Signo, -2, Pid: t.Id, Uid: t.PendingOverrun, Value: t.Value);
            if (t.Notify == SIGEV_THREAD_ID) _process.RaiseSignalAt(t.Tid, info, keepDirected: true);
            else _process.RaiseSignal(info);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var id in _timers.Keys.ToArray()) Delete(id);
    }
}
