using LegoEmu.Mem;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// signalfd/signalfd4: pending signals of a mask read as signalfd_siginfo records instead of running
/// handlers. The descriptor is a host eventfd that <see cref="SignalFds"/> keeps readable while such a
/// signal is pending, so it can be polled; read is emulated here.
/// </summary>
static class SignalFd
{
    const int signalfd = 282, signalfd4 = 289, SFD_CLOEXEC = 0x80000, SFD_NONBLOCK = 0x800, RecordSize = 128;

    public static void Register(SyscallTable t)
    {
        t.Add(signalfd, "signalfd", "fxd", x => Create(x, 0));
        t.Add(signalfd4, "signalfd4", "fxdx", x => Create(x, x.Int(3)));
    }

    static long Create(SyscallContext x, int flags)
    {
        if ((flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) != 0 || x.A[2] != 8) return -Errno.EINVAL;
        ulong mask = x.Mem.Read64(x.A[1]) & ~(SignalState.Bit(9) | SignalState.Bit(19));
        ulong pending = Volatile.Read(ref x.P.Signals.Pending);
        int fd = x.Int(0);
        if (fd != -1)
        {
            int h = x.P.Fds.Host(fd);
            if (h < 0) return h;
            if (!x.P.SignalFds.TryGetMask(h, out _)) return -Errno.EINVAL;
            x.P.SignalFds.SetMask(h, mask, pending);
            return fd;
        }
        long host = x.P.SignalFds.Create(mask, (flags & SFD_NONBLOCK) != 0, pending);
        if (host < 0) return host;
        int g = x.P.Fds.Install((int)host, (flags & SFD_CLOEXEC) != 0);
        if (g < 0) x.P.CloseHost((int)host);
        return g;
    }

    /// <summary>
    /// read on a signalfd: takes pending signals of the mask, lowest first, one 128-byte record each.
    /// With none pending it fails with EAGAIN on a non-blocking descriptor, and otherwise blocks until
    /// one arrives (restartable, as the kernel's read is).
    /// </summary>
    public static long Read(SyscallContext x, int h, ulong mask)
    {
        long room = (long)Math.Min(x.A[2], int.MaxValue) / RecordSize;
        if (room == 0) return -Errno.EINVAL;
        var s = x.P.Signals;
        long written = 0;
        var rec = new byte[RecordSize];
        while (written < room)
        {
            int sig = s.Peek(mask, out var info);
            if (sig == 0) break;
            Array.Clear(rec);
            BitConverter.TryWriteBytes(rec.AsSpan(0), (uint)sig);
            BitConverter.TryWriteBytes(rec.AsSpan(8), info.Code);
            BitConverter.TryWriteBytes(rec.AsSpan(12), (uint)info.Pid);
            BitConverter.TryWriteBytes(rec.AsSpan(16), (uint)info.Uid);
            BitConverter.TryWriteBytes(rec.AsSpan(36), (uint)info.TrapNo);
            BitConverter.TryWriteBytes(rec.AsSpan(72), info.Address);
            // Written before the signal is taken: a bad buffer leaves it pending, as EFAULT does in the kernel.
            x.Mem.WriteBytes(x.A[1] + (ulong)(written * RecordSize), rec);
            s.Take(sig);
            written++;
        }
        if (written > 0)
        {
            x.P.PendingChanged();
            return written * RecordSize;
        }
        if (Blocking.NonBlocking(h)) return -Errno.EAGAIN;
        x.Wait.WakeSignals = mask;
        return x.Block(restartable: true);
    }
}
