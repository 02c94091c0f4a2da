using LegoEmu.Syscalls.Abi;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// A host eventfd the scheduler polls together with the descriptors blocked threads wait on. Anything
/// that may end a wait from outside the guest's own instruction stream (a host signal, SIGCHLD) signals
/// it, so the idle scheduler wakes at once; an eventfd stays readable until drained, so no wake-up is lost.
/// </summary>
public sealed unsafe class WakeEvent : IDisposable
{
    const int EFD_NONBLOCK = 0x800, EFD_CLOEXEC = 0x80000, eventfd2 = 290;

    /// <summary>The host descriptor to poll for POLLIN.</summary>
    public int Fd { get; }

    /// <summary>
    /// Held by every write and read, and by the close: threads that are not the guest's (a processor component's
    /// link, a memory node's directory, a host signal) may signal at any moment, also while and after the process
    /// ends. A write after the close would land in whatever the runtime opened under the same number next (the
    /// runtime's own thread start-up pipes: a thread pool worker then fails to start, and the emulator aborts).
    /// </summary>
    readonly object _lock = new();
    bool _closed;

    public WakeEvent()
    {
        long fd = Sys(eventfd2, 0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) throw new InvalidOperationException($"eventfd for the scheduler failed: errno {-fd}");
        Fd = (int)fd;
    }

    /// <summary>Makes the next (or current) scheduler poll return; safe from any thread, including signal callbacks, also after Dispose.</summary>
    public void Signal()
    {
        ulong one = 1;
        lock (_lock)
            if (!_closed) Sys(Nr.write, Fd, (nint)(&one), 8);
    }

    /// <summary>Consumes pending wake-ups.</summary>
    public void Drain()
    {
        ulong value;
        lock (_lock)
            if (!_closed) Sys(Nr.read, Fd, (nint)(&value), 8);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_closed) return;
            _closed = true;
            Sys(Nr.close, Fd);
        }
    }
}
