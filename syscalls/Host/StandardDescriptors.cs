using LegoEmu.Syscalls.Abi;

namespace LegoEmu.Syscalls.Host;

/// <summary>
/// Host descriptors 0, 1 and 2 of an emulator process are never left free. A free one is the next number the
/// .NET runtime or the emulator opens for itself (the runtime's own wake-up pipe at the start of a component, a
/// socket to a memory node, a child's pidfd), and a component points 0-2 at /dev/null between two guests: that
/// silently replaced such a descriptor, and the runtime thread polling its pipe then spun on /dev/null for ever.
/// So where the guest releases one of them (close, dup2 over it, exit), /dev/null takes its place.
/// </summary>
public static class StandardDescriptors
{
    const int O_RDWR = 2, O_CLOEXEC = 0x80000, F_GETFD = 1, FD_CLOEXEC = 1;

    /// <summary>Closes host descriptor <paramref name="fd"/>; 0 to 2 get /dev/null in the same step. 0 or a negated errno.</summary>
    public static long Close(int fd)
    {
        // Not while a process is being started: its copy of the descriptor table would keep this one open (see Native.SpawnGate).
        Native.SpawnGate.EnterReadLock();
        try { return CloseNow(fd); }
        finally { Native.SpawnGate.ExitReadLock(); }
    }

    static long CloseNow(int fd)
    {
        if (fd is < 0 or > 2) return Native.Sys(Nr.close, fd);
        long devNull = Areas.Buffers.WithPath("/dev/null", p => Native.Sys(Nr.open, p, O_RDWR | O_CLOEXEC));
        if (devNull < 0) return Native.Sys(Nr.close, fd);
        // dup2 closes what was there and leaves no moment at which another thread could take the number;
        // the copy is not close-on-exec, so a component started from here finds its 0-2 open as well.
        long r = Native.Sys(Nr.dup2, devNull, fd);
        Native.Sys(Nr.close, devNull);
        return r < 0 ? r : 0;
    }

    /// <summary>Whether a process started now would inherit <paramref name="fd"/>: it is open and not close-on-exec.</summary>
    public static bool Inherited(int fd)
    {
        long flags = Native.Sys(Nr.fcntl, fd, F_GETFD);
        return flags >= 0 && (flags & FD_CLOEXEC) == 0;
    }
}
