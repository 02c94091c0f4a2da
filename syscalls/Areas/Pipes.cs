using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>pipe/pipe2, poll/ppoll and select/pselect6: host pipes and readiness under guest descriptor numbers.</summary>
static class Pipes
{
    const int O_CLOEXEC = 0x80000;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.pipe, "pipe", "x", x => Pipe(x, 0));
        t.Add(Nr.pipe2, "pipe2", "xx", x => Pipe(x, (int)x.A[1]));
        t.Add(Nr.poll, "poll", "xdd", x => Poll(x, x.A[0], x.Long(1), timeoutNs: x.Int(2) < 0 ? -1 : x.Int(2) * 1_000_000L));
        t.Add(Nr.ppoll, "ppoll", "xdxxd", PPoll);
        t.Add(Nr.select, "select", "dxxxx", x => Select(x, pselect: false));
        t.Add(Nr.pselect6, "pselect6", "dxxxxx", x => Select(x, pselect: true));
    }

    /// <summary>
    /// select/pselect6 as a poll over the same descriptors: the fd_sets are bitmaps of guest numbers,
    /// which poll translates; the timeout is written back for select, as Linux does.
    /// </summary>
    static unsafe long Select(SyscallContext x, bool pselect)
    {
        const short POLLIN = 1, POLLPRI = 2, POLLOUT = 4, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32;
        int nfds = x.Int(0);
        if (nfds < 0 || nfds > FdTable.MaxFds) return -Errno.EINVAL;
        int words = (nfds + 63) / 64;
        ulong[] Load(ulong addr)
        {
            var set = new ulong[Math.Max(words, 1)];
            for (int w = 0; w < words && addr != 0; w++) set[w] = x.Mem.Read64(addr + (ulong)w * 8);
            return set;
        }
        ulong[] rd = Load(x.A[1]), wr = Load(x.A[2]), ex = Load(x.A[3]);
        var fds = new List<(int fd, short events)>();
        for (int fd = 0; fd < nfds; fd++)
        {
            ulong bit = 1UL << (fd & 63);
            int w = fd >> 6;
            short ev = (short)(((rd[w] & bit) != 0 ? POLLIN : 0) | ((wr[w] & bit) != 0 ? POLLOUT : 0) | ((ex[w] & bit) != 0 ? POLLPRI : 0));
            if (ev == 0) continue;
            if (!x.P.Fds.IsOpen(fd)) return -Errno.EBADF;
            fds.Add((fd, ev));
        }
        long timeoutNs = -1;
        if (x.A[4] != 0)
        {
            long sec = (long)x.Mem.Read64(x.A[4]), sub = (long)x.Mem.Read64(x.A[4] + 8);
            if (sec < 0 || sub < 0) return -Errno.EINVAL;
            if (pselect && sub >= 1_000_000_000) return -Errno.EINVAL; // select folds whole seconds of tv_usec in, as Linux does
            timeoutNs = sec > long.MaxValue / 2_000_000_000 ? long.MaxValue : sec * 1_000_000_000 + (pselect ? sub : sub * 1000);
        }
        var pfd = new byte[Math.Max(fds.Count, 1) * 8];
        for (int k = 0; k < fds.Count; k++)
        {
            BitConverter.TryWriteBytes(pfd.AsSpan(k * 8), x.P.Fds.Host(fds[k].fd));
            BitConverter.TryWriteBytes(pfd.AsSpan(k * 8 + 4), fds[k].events);
        }
        if (pselect && x.A[5] != 0)
        {
            ulong set = x.Mem.Read64(x.A[5]);
            if (set != 0)
            {
                if (x.Mem.Read64(x.A[5] + 8) != 8) return -Errno.EINVAL;
                x.BeginTemporaryMask(x.Mem.Read64(set));
            }
        }
        long deadline = timeoutNs < 0 ? long.MaxValue : x.DeadlineAfterNs(timeoutNs);
        long r = WaitReady(x, pfd, fds.Count, deadline);
        if (r == SyscallContext.Blocked || r < 0) return x.EndTemporaryMask(r);
        x.EndTemporaryMask(r);
        if (r < 0) return r;
        Array.Clear(rd);
        Array.Clear(wr);
        Array.Clear(ex);
        long ready = 0;
        for (int k = 0; k < fds.Count; k++)
        {
            short re = BitConverter.ToInt16(pfd, k * 8 + 6);
            int fd = fds[k].fd;
            ulong bit = 1UL << (fd & 63);
            int w = fd >> 6;
            // As the kernel does: errors and hang-ups make a descriptor readable (and writable, for POLLERR).
            if ((re & (POLLIN | POLLHUP | POLLERR)) != 0 && (fds[k].events & POLLIN) != 0) { rd[w] |= bit; ready++; }
            if ((re & (POLLOUT | POLLERR)) != 0 && (fds[k].events & POLLOUT) != 0) { wr[w] |= bit; ready++; }
            if ((re & POLLPRI) != 0 && (fds[k].events & POLLPRI) != 0) { ex[w] |= bit; ready++; }
            if ((re & POLLNVAL) != 0) return -Errno.EBADF;
        }
        void Store(ulong addr, ulong[] set)
        {
            for (int w = 0; w < words && addr != 0; w++) x.Mem.Write64(addr + (ulong)w * 8, set[w]);
        }
        Store(x.A[1], rd);
        Store(x.A[2], wr);
        Store(x.A[3], ex);
        if (!pselect && x.A[4] != 0 && timeoutNs >= 0)
        {
            long left = SyscallContext.TicksToNs(Math.Max(0, deadline - System.Diagnostics.Stopwatch.GetTimestamp()));
            x.Mem.Write64(x.A[4], (ulong)(left / 1_000_000_000));
            x.Mem.Write64(x.A[4] + 8, (ulong)(left % 1_000_000_000 / 1000));
        }
        return ready;
    }

    static unsafe long Pipe(SyscallContext x, int flags)
    {
        if ((flags & ~(O_CLOEXEC | 0x800 | 0x4000)) != 0) return -Errno.EINVAL; // O_NONBLOCK, O_DIRECT
        int* fds = stackalloc int[2];
        long r = Sys(Nr.pipe2, (nint)fds, flags | O_CLOEXEC);
        if (r < 0) return r;
        x.P.NoteForkHint();
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

    /// <summary>ppoll: poll with a timespec timeout and a temporary signal mask.</summary>
    static long PPoll(SyscallContext x)
    {
        long timeoutNs = -1;
        if (x.A[2] != 0)
        {
            long sec = (long)x.Mem.Read64(x.A[2]), nsec = (long)x.Mem.Read64(x.A[2] + 8);
            if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000) return -Errno.EINVAL;
            timeoutNs = sec > long.MaxValue / 2_000_000_000 ? long.MaxValue : sec * 1_000_000_000 + nsec;
        }
        if (x.A[3] != 0)
        {
            if (x.A[4] != 8) return -Errno.EINVAL;
            x.BeginTemporaryMask(x.Mem.Read64(x.A[3]));
        }
        return x.EndTemporaryMask(Poll(x, x.A[0], x.Long(1), timeoutNs));
    }

    /// <summary>
    /// Polls host pollfds without waiting; when none is ready and the deadline is still ahead, the
    /// thread blocks on them (an interrupted poll is never restarted, as the kernel's isn't).
    /// </summary>
    static unsafe long WaitReady(SyscallContext x, byte[] pfd, int n, long deadline)
    {
        long r;
        fixed (byte* p = pfd) r = Sys(Nr.poll, (nint)p, n, 0);
        if (r != 0 || System.Diagnostics.Stopwatch.GetTimestamp() >= deadline) return r;
        for (int k = 0; k < n; k++)
        {
            int fd = BitConverter.ToInt32(pfd, k * 8);
            if (fd >= 0) x.Wait.Fds.Add((fd, BitConverter.ToInt16(pfd, k * 8 + 4)));
        }
        x.Wait.Deadline = deadline;
        long b = x.Block(restartable: false);
        if (b != SyscallContext.Blocked) x.Wait.Fds.Clear();
        return b;
    }

    /// <summary>struct pollfd {int fd; short events; short revents;}: descriptors are translated both ways.</summary>
    static long Poll(SyscallContext x, ulong fdsAddr, long n, long timeoutNs)
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
        long deadline = timeoutNs < 0 ? long.MaxValue : x.DeadlineAfterNs(timeoutNs);
        long r = WaitReady(x, buf, (int)n, deadline);
        if (r < 0) return r;
        for (int k = 0; k < n; k++) BitConverter.TryWriteBytes(buf.AsSpan(k * 8), guestFds[k]);
        x.Mem.WriteBytes(fdsAddr, buf);
        return r;
    }
}
