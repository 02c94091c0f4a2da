using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// Descriptor I/O that may wait for another party (pipes, sockets, terminals, eventfd …) without
/// blocking the host thread. The transfer is first tried without waiting (RWF_NOWAIT, MSG_DONTWAIT);
/// when it would wait on a descriptor the guest left blocking, the thread blocks in the scheduler on
/// the descriptor's readiness and the call runs again when it is ready. Descriptors that refuse a
/// non-blocking attempt (terminals) are polled first instead.
/// </summary>
static unsafe class Blocking
{
    public const short POLLIN = 1, POLLOUT = 4;
    public const int RWF_NOWAIT = 8, MSG_DONTWAIT = 0x40;
    const int O_NONBLOCK = 0x800, F_GETFL = 3, EOPNOTSUPP = 95, preadv2 = 327, pwritev2 = 328;

    /// <summary>
    /// Runs <paramref name="op"/> on guest descriptor <paramref name="guestFd"/> (host <paramref name="h"/>).
    /// op(true) must not wait (or may answer -EOPNOTSUPP); op(false) is the plain call. A transfer that
    /// would wait blocks the thread on <paramref name="events"/>; when a signal interrupts it, the call
    /// fails with EINTR or is restarted, as <paramref name="restartable"/> and SA_RESTART say.
    /// <paramref name="canTryNoWait"/> is false for calls with no non-blocking form (accept).
    /// </summary>
    public static long Io(SyscallContext x, long guestFd, int h, short events, bool restartable, Func<bool, long> op, bool canTryNoWait = true)
    {
        var kind = x.P.Fds.Kind(guestFd);
        if (kind is FdKind.NeverBlocks or FdKind.ThreadName) return op(false);
        if (kind is FdKind.NoWait or FdKind.Socket && canTryNoWait)
        {
            long r = op(true);
            if (r == -EOPNOTSUPP) x.P.Fds.SetKind(guestFd, FdKind.PollFirst);
            else if (r != -Errno.EAGAIN || NonBlocking(h)) return r;
            else return SocketTimeout(x, kind, h, events, x.BlockOn(h, events, restartable));
        }
        // No way to try without waiting: wait for readiness, then make the plain call, which then returns at once.
        if (Ready(h, events) || NonBlocking(h)) return op(false);
        return SocketTimeout(x, kind, h, events, x.BlockOn(h, events, restartable));
    }

    /// <summary>
    /// A socket's SO_RCVTIMEO/SO_SNDTIMEO bound its waits: the deadline is set when the wait begins,
    /// and once it has passed the call fails with EAGAIN, as the kernel's does.
    /// </summary>
    static long SocketTimeout(SyscallContext x, FdKind kind, int h, short events, long r)
    {
        if (r != SyscallContext.Blocked || kind != FdKind.Socket) return r;
        if (!x.Resuming)
        {
            long timeoutNs = SocketTimeoutNs(h, events == POLLIN ? 20 /* SO_RCVTIMEO */ : 21 /* SO_SNDTIMEO */);
            if (timeoutNs > 0) x.DeadlineAfterNs(timeoutNs);
            return r;
        }
        if (System.Diagnostics.Stopwatch.GetTimestamp() < x.Wait.Deadline) return r;
        x.Wait.Active = false;
        return -Errno.EAGAIN;
    }

    static long SocketTimeoutNs(int h, int option)
    {
        long* tv = stackalloc long[2];
        uint len = 16;
        if (Sys(55 /* getsockopt */, h, 1 /* SOL_SOCKET */, option, (nint)tv, (nint)(&len)) < 0) return 0;
        return tv[0] * 1_000_000_000 + tv[1] * 1000;
    }

    /// <summary>
    /// A read into a bad guest buffer fails with EFAULT once there is data to deliver; until then it
    /// answers as the descriptor would (EAGAIN, or a wait), as the kernel checks the buffer only when
    /// it copies.
    /// </summary>
    public static bool FaultsNow(SyscallContext x, long guestFd, int h, List<(ulong addr, long len)> parts)
    {
        foreach (var (a, l) in parts)
            if (FaultsNow(x, guestFd, h, a, l)) return true;
        return false;
    }

    /// <summary>The same for one buffer (no allocation: this is on every read).</summary>
    public static bool FaultsNow(SyscallContext x, long guestFd, int h, ulong addr, long len) =>
        !Buffers.Writable(x, addr, len) && (x.P.Fds.Kind(guestFd) == FdKind.NeverBlocks || Ready(h, POLLIN));

    /// <summary>The guest set O_NONBLOCK on the open file: EAGAIN is the answer, not a wait.</summary>
    public static bool NonBlocking(int h) => (Sys(Nr.fcntl, h, F_GETFL) & O_NONBLOCK) != 0;

    /// <summary>poll with no wait: does the descriptor report one of <paramref name="events"/> (or an error or hang-up)?</summary>
    public static bool Ready(int h, short events)
    {
        long pfd = (uint)h | ((long)(ushort)events << 32);
        long r = Sys(Nr.poll, (nint)(&pfd), 1, 0);
        return r != 0;
    }

    /// <summary>read(2) or, without waiting, preadv2(…, -1, RWF_NOWAIT) into a host buffer.</summary>
    public static long Read(int h, nint p, long n, bool noWait)
    {
        if (!noWait) return CompleteMemoryDeviceRead(h, p, n, Sys(Nr.read, h, p, n));
        long* iov = stackalloc long[2];
        iov[0] = p;
        iov[1] = n;
        return CompleteMemoryDeviceRead(h, p, n, Sys(preadv2, h, (nint)iov, 1, -1, -1, RWF_NOWAIT));
    }

    /// <summary>
    /// A read of /dev/zero, /dev/urandom or another memory device stops early only when a signal arrives. The
    /// emulator's runtime signals its own threads (garbage collection, thread suspension) and the guest never
    /// sees those, so a short read there goes on for the rest, as it would natively.
    /// </summary>
    static long CompleteMemoryDeviceRead(int h, nint p, long n, long r)
    {
        if (r <= 0 || r >= n || !IsMemoryDevice(h)) return r;
        while (r < n)
        {
            long more = Sys(Nr.read, h, p + (nint)r, n - r);
            if (more <= 0) break;
            r += more;
        }
        return r;
    }

    /// <summary>A character device of major 1 (mem, null, zero, full, random, urandom …), which never blocks.</summary>
    static bool IsMemoryDevice(int h)
    {
        byte* st = stackalloc byte[144];
        if (Sys(Nr.fstat, h, (nint)st) < 0 || (*(uint*)(st + 24) & 0xf000) != 0x2000) return false; // st_mode: S_IFCHR
        ulong rdev = *(ulong*)(st + 40);
        return (((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfffUL)) == 1;
    }

    /// <summary>write(2) or, without waiting, pwritev2(…, -1, RWF_NOWAIT) from a host buffer.</summary>
    public static long Write(int h, nint p, long n, bool noWait)
    {
        if (!noWait) return Sys(Nr.write, h, p, n);
        long* iov = stackalloc long[2];
        iov[0] = p;
        iov[1] = n;
        return Sys(pwritev2, h, (nint)iov, 1, -1, -1, RWF_NOWAIT);
    }

    /// <summary>
    /// Writes all of a byte sequence (guest memory gathered by <paramref name="gather"/>) as a blocking
    /// write does: a pipe or socket that takes only part waits for room and takes the rest, and a
    /// signal after some bytes went out ends the call with that count. Bytes already written survive a
    /// block in <see cref="BlockedCall.Progress"/>.
    /// </summary>
    public static long WriteAll(SyscallContext x, long guestFd, int h, long total, Action<long, Span<byte>> gather, Func<nint, int, bool, long> write)
    {
        long done = x.Resuming ? x.Wait.Progress : 0;
        bool mayBlock = x.P.Fds.Kind(guestFd) != FdKind.NeverBlocks;
        var buf = Buffers.Rent(Math.Min(Math.Max(total - done, 1), Buffers.Chunk));
        try
        {
            while (done < total || total == 0)
            {
                int n = (int)Math.Min(total - done, Buffers.Chunk);
                gather(done, buf.AsSpan(0, n));
                long r;
                fixed (byte* p = buf)
                {
                    nint q = (nint)p;
                    r = Io(x, guestFd, h, POLLOUT, restartable: true, noWait => write(q, n, noWait));
                }
                if (r == SyscallContext.Blocked)
                {
                    x.Wait.Progress = done;
                    return r;
                }
                if (r < 0) return done > 0 ? done : r; // an error, EINTR or a restart after a partial write reports the bytes written
                done += r;
                if (total == 0 || (r < n && !mayBlock) || r == 0) break;
            }
            return done;
        }
        finally { Buffers.Return(buf); }
    }
}
