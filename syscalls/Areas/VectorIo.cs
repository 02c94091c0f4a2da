using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// Positioned vector I/O: preadv, pwritev and their *2 forms with RWF_* flags. The guest's iovecs are
/// gathered into (or scattered from) one host buffer and the host does one positioned call; offset -1
/// of the *2 forms means the file position, which is readv/writev (and may wait like them).
/// </summary>
static class VectorIo
{
    const ulong RwfKnown = 0x1f; // RWF_HIPRI, RWF_DSYNC, RWF_SYNC, RWF_NOWAIT, RWF_APPEND

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.preadv, "preadv", "fidd", x => Read(x, x.Long(3), 0, positionAllowed: false));
        t.Add(Nr.pwritev, "pwritev", "fidd", x => Write(x, x.Long(3), 0, positionAllowed: false));
        t.Add(Nr.preadv2, "preadv2", "fiddx", x => Read(x, x.Long(3), x.A[5], positionAllowed: true));
        t.Add(Nr.pwritev2, "pwritev2", "fiddx", x => Write(x, x.Long(3), x.A[5], positionAllowed: true));
    }

    static long Read(SyscallContext x, long offset, ulong flags, bool positionAllowed)
    {
        if ((flags & ~RwfKnown) != 0) return -Errno.ENOTSUP;
        if (offset == -1 && positionAllowed && flags == 0) return Files.Readv(x);
        if (offset < 0 && !(offset == -1 && positionAllowed)) return -Errno.EINVAL;
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        var iov = Files.Iovecs(x, x.A[1], x.Long(2));
        if (iov == null) return -Errno.EINVAL;
        long total = 0;
        foreach (var (_, l) in iov) total += l;
        int n = (int)Math.Min(total, Buffers.Chunk);
        long ok = Buffers.AccessiblePrefix(x, iov, n, write: true);
        if (ok < n) return PartialBuffers.ReadV(x, iov, ok, p => PositionedRead(h, p, n, offset, flags));
        var buf = Buffers.Rent(n);
        try
        {
            long r;
            unsafe
            {
                fixed (byte* p = buf) r = PositionedRead(h, (nint)p, n, offset, flags);
            }
            if (r <= 0) return r;
            Files.Scatter(x, iov, buf.AsSpan(0, (int)r));
            return r;
        }
        finally { Buffers.Return(buf); }
    }

    static unsafe long PositionedRead(int h, nint p, int n, long offset, ulong flags)
    {
        long* hv = stackalloc long[2];
        hv[0] = p;
        hv[1] = n;
        return Sys(Nr.preadv2, h, (nint)hv, 1, offset, 0, (long)flags);
    }

    static long Write(SyscallContext x, long offset, ulong flags, bool positionAllowed)
    {
        if ((flags & ~RwfKnown) != 0) return -Errno.ENOTSUP;
        if (offset == -1 && positionAllowed && flags == 0) return Files.Writev(x);
        if (offset < 0 && !(offset == -1 && positionAllowed)) return -Errno.EINVAL;
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        var iov = Files.Iovecs(x, x.A[1], x.Long(2));
        if (iov == null) return -Errno.EINVAL;
        long total = 0;
        foreach (var (_, l) in iov) total += l;
        long ok = Buffers.AccessiblePrefix(x, iov, total, write: false);
        if (ok == 0 && total > 0) return -Errno.EFAULT;
        long done = 0;
        var buf = Buffers.Rent(Math.Min(Math.Max(ok, 1), Buffers.Chunk));
        var hostIov = new long[2];
        try
        {
            do
            {
                int n = (int)Math.Min(ok - done, Buffers.Chunk);
                Files.Gather(x, iov, done, buf.AsSpan(0, n));
                long r;
                unsafe
                {
                    fixed (byte* p = buf)
                    fixed (long* hv = hostIov)
                    {
                        hv[0] = (nint)p;
                        hv[1] = n;
                        r = Sys(Nr.pwritev2, h, (nint)hv, 1, offset == -1 ? -1 : offset + done, 0, (long)flags);
                    }
                }
                if (r < 0) return done > 0 ? done : r;
                done += r;
                if (r < n) break;
            } while (done < ok);
            return done;
        }
        finally { Buffers.Return(buf); }
    }
}
