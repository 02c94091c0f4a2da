using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>pipe/pipe2 and poll/ppoll: host pipes under guest descriptor numbers.</summary>
static class Pipes
{
    const int O_CLOEXEC = 0x80000;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.pipe, "pipe", "x", x => Pipe(x, 0));
        t.Add(Nr.pipe2, "pipe2", "xx", x => Pipe(x, (int)x.A[1]));
        t.Add(Nr.poll, "poll", "xdd", x => Poll(x, x.A[0], x.Long(1), timeoutMs: x.Int(2), ts: 0));
        t.Add(Nr.ppoll, "ppoll", "xdxxd", x => Poll(x, x.A[0], x.Long(1), timeoutMs: -2, ts: x.A[2]));
    }

    static unsafe long Pipe(SyscallContext x, int flags)
    {
        if ((flags & ~(O_CLOEXEC | 0x800 | 0x4000)) != 0) return -Errno.EINVAL; // O_NONBLOCK, O_DIRECT
        int* fds = stackalloc int[2];
        long r = Sys(Nr.pipe2, (nint)fds, flags | O_CLOEXEC);
        if (r < 0) return r;
        bool cloexec = (flags & O_CLOEXEC) != 0;
        int g0 = x.P.Fds.Install(fds[0], cloexec);
        int g1 = g0 < 0 ? g0 : x.P.Fds.Install(fds[1], cloexec);
        if (g0 < 0 || g1 < 0)
        {
            if (g0 >= 0) x.P.Fds.Remove(g0);
            Sys(Nr.close, fds[0]);
            Sys(Nr.close, fds[1]);
            return -Errno.EMFILE;
        }
        try
        {
            x.Mem.Write32(x.A[0], (uint)g0);
            x.Mem.Write32(x.A[0] + 4, (uint)g1);
        }
        catch (MemoryFault)
        {
            x.P.Fds.Remove(g0);
            x.P.Fds.Remove(g1);
            Sys(Nr.close, fds[0]);
            Sys(Nr.close, fds[1]);
            throw;
        }
        return 0;
    }

    /// <summary>struct pollfd {int fd; short events; short revents;}: descriptors are translated both ways.</summary>
    static unsafe long Poll(SyscallContext x, ulong fdsAddr, long n, int timeoutMs, ulong ts)
    {
        if (n < 0 || n > FdTable.MaxFds * 4) return -Errno.EINVAL;
        var buf = new byte[n * 8];
        x.Mem.ReadBytes(fdsAddr, buf);
        var guestFds = new int[n];
        for (int k = 0; k < n; k++)
        {
            int g = BitConverter.ToInt32(buf, k * 8);
            guestFds[k] = g;
            // A negative fd is ignored by poll; an unknown one must report POLLNVAL, so pass an invalid host fd.
            int h = g < 0 ? -1 : x.P.Fds.Host(g);
            BitConverter.TryWriteBytes(buf.AsSpan(k * 8), g < 0 ? -1 : h < 0 ? int.MaxValue : h);
        }
        long r;
        fixed (byte* p = buf)
        {
            if (timeoutMs != -2) r = Sys(Nr.poll, (nint)p, n, timeoutMs);
            else if (ts == 0) r = Sys(Nr.ppoll, (nint)p, n, 0, 0, 8);
            else
            {
                long sec = (long)x.Mem.Read64(ts), nsec = (long)x.Mem.Read64(ts + 8);
                long* tsp = stackalloc long[2];
                tsp[0] = sec;
                tsp[1] = nsec;
                r = Sys(Nr.ppoll, (nint)p, n, (nint)tsp, 0, 8);
            }
        }
        for (int k = 0; k < n; k++) BitConverter.TryWriteBytes(buf.AsSpan(k * 8), guestFds[k]);
        x.Mem.WriteBytes(fdsAddr, buf);
        return r;
    }
}
