using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// Sockets on the host's network stack under guest descriptor numbers. Addresses and options pass
/// through; sendmsg/recvmsg gather and scatter through the cache and translate SCM_RIGHTS descriptors.
/// </summary>
static unsafe class Net
{
    const int SOCK_CLOEXEC = 0x80000, MaxAddr = 128;
    const int socket = 41, connect = 42, accept = 43, sendto = 44, recvfrom = 45, sendmsg = 46, recvmsg = 47, shutdown = 48,
        bind = 49, listen = 50, getsockname = 51, getpeername = 52, socketpair = 53, setsockopt = 54, getsockopt = 55, accept4 = 288;

    public static void Register(SyscallTable t)
    {
        t.Add(socket, "socket", "ddd", Socket);
        t.Add(socketpair, "socketpair", "dddx", SocketPair);
        t.Add(bind, "bind", "fxd", x => Fd(x, h => AddrIn(x, 1, 2, a => Sys(bind, h, a, x.Long(2)))));
        t.Add(connect, "connect", "fxd", x => Fd(x, h => AddrIn(x, 1, 2, a => Connect(x, h, a))));
        t.Add(listen, "listen", "fd", x => Fd(x, h => Sys(listen, h, x.Long(1))));
        t.Add(accept, "accept", "fxx", x => Accept(x, 0));
        t.Add(accept4, "accept4", "fxxx", x => Accept(x, (int)x.A[3]));
        t.Add(getsockname, "getsockname", "fxx", x => Fd(x, h => AddrOut(x, 1, 2, (a, l) => Sys(getsockname, h, a, l))));
        t.Add(getpeername, "getpeername", "fxx", x => Fd(x, h => AddrOut(x, 1, 2, (a, l) => Sys(getpeername, h, a, l))));
        t.Add(shutdown, "shutdown", "fd", x => Fd(x, h => Sys(shutdown, h, x.Long(1))));
        t.Add(sendto, "sendto", "fbdxxd", SendTo);
        t.Add(recvfrom, "recvfrom", "fBdxxx", RecvFrom);
        t.Add(setsockopt, "setsockopt", "fddxd", x => Fd(x, h => Buffers.WithInput(x, x.A[3], (int)Math.Min(x.A[4], 256), v => Sys(setsockopt, h, x.Long(1), x.Long(2), x.A[3] == 0 ? 0 : v, x.Long(4)))));
        t.Add(getsockopt, "getsockopt", "fddxx", GetSockOpt);
        t.Add(sendmsg, "sendmsg", "fxx", SendMsg);
        t.Add(recvmsg, "recvmsg", "fxx", RecvMsg);
    }

    static long Fd(SyscallContext x, Func<int, long> f)
    {
        int h = x.P.Fds.Host(x.Long(0));
        return h < 0 ? h : f(h);
    }

    static long Install(SyscallContext x, long h, bool cloexec)
    {
        if (h < 0) return h;
        int g = x.P.Fds.Install((int)h, cloexec);
        if (g < 0) Sys(Nr.close, h);
        return g;
    }

    static long Socket(SyscallContext x) => Install(x, Sys(socket, x.Long(0), x.Long(1) | SOCK_CLOEXEC, x.Long(2)), (x.Long(1) & SOCK_CLOEXEC) != 0);

    static long SocketPair(SyscallContext x)
    {
        int* sv = stackalloc int[2];
        long r = Sys(socketpair, x.Long(0), x.Long(1) | SOCK_CLOEXEC, x.Long(2), (nint)sv);
        if (r < 0) return r;
        x.P.NoteForkHint();
        bool cloexec = (x.Long(1) & SOCK_CLOEXEC) != 0;
        long a = Install(x, sv[0], cloexec), b = Install(x, sv[1], cloexec);
        if (a < 0 || b < 0) return -Errno.EMFILE;
        x.Mem.Write32(x.A[3], (uint)a);
        x.Mem.Write32(x.A[3] + 4, (uint)b);
        return 0;
    }

    /// <summary>A sockaddr argument (pointer, length) copied from the guest.</summary>
    static long AddrIn(SyscallContext x, int ptrArg, int lenArg, Func<nint, long> f)
    {
        long len = x.Long(lenArg);
        if (x.A[ptrArg] == 0) return f(0);
        if (len < 0 || len > MaxAddr) return -Errno.EINVAL;
        return Buffers.WithInput(x, x.A[ptrArg], (int)len, f);
    }

    /// <summary>A sockaddr result with its value-result length (socklen_t*).</summary>
    static long AddrOut(SyscallContext x, int ptrArg, int lenArg, Func<nint, nint, long> f)
    {
        if (x.A[ptrArg] == 0 || x.A[lenArg] == 0) return f(0, 0);
        uint cap = x.Mem.Read32(x.A[lenArg]);
        if ((int)cap < 0) return -Errno.EINVAL;
        byte* buf = stackalloc byte[MaxAddr];
        uint len = Math.Min(cap, MaxAddr);
        long r = f((nint)buf, (nint)(&len));
        if (r < 0) return r;
        x.Mem.WriteBytes(x.A[ptrArg], new ReadOnlySpan<byte>(buf, (int)Math.Min(len, cap)));
        x.Mem.Write32(x.A[lenArg], len);
        return r;
    }

    static long Accept(SyscallContext x, int flags)
    {
        long g = x.Long(0);
        int h = x.P.Fds.Host(g);
        if (h < 0) return h;
        // accept has no non-blocking form per call: wait for a pending connection, then accept it.
        long r = Blocking.Io(x, g, h, Blocking.POLLIN, restartable: true, _ => AddrOut(x, 1, 2, (a, l) => Sys(accept4, h, a, l, flags | SOCK_CLOEXEC)), canTryNoWait: false);
        return Install(x, r, (flags & SOCK_CLOEXEC) != 0);
    }

    /// <summary>
    /// connect on a blocking socket without blocking the host thread: it is started non-blocking
    /// (O_NONBLOCK set for the moment of the call) and the thread waits for the socket to become
    /// writable, then takes the outcome from SO_ERROR. A signal interrupts the wait, which restarts
    /// under SA_RESTART and fails with EINTR otherwise, while the connection goes on, as in the kernel.
    /// </summary>
    static long Connect(SyscallContext x, int h, nint addr)
    {
        const int EINPROGRESS = 115, EALREADY = 114, O_NONBLOCK = 0x800, F_GETFL = 3, F_SETFL = 4;
        const int InProgress = 1;
        if (x.Resuming && x.Wait.Stage == InProgress)
        {
            if (!Blocking.Ready(h, Blocking.POLLOUT)) return x.BlockOn(h, Blocking.POLLOUT, restartable: true);
            int error = 0;
            uint len = 4;
            long r = Sys(getsockopt, h, 1 /* SOL_SOCKET */, 4 /* SO_ERROR */, (nint)(&error), (nint)(&len));
            if (r < 0 || error != 0) return r < 0 ? r : -error;
            // One more connect moves the socket to "connected", as a blocking connect leaves it, so
            // that a later connect says EISCONN; it returns at once on an established connection.
            long again = Sys(connect, h, addr, x.Long(2));
            return again == -106 /* EISCONN */ ? 0 : again;
        }
        long flags = Sys(Nr.fcntl, h, F_GETFL);
        if (flags < 0) return flags;
        if ((flags & O_NONBLOCK) != 0) return Sys(connect, h, addr, x.Long(2));
        Sys(Nr.fcntl, h, F_SETFL, flags | O_NONBLOCK);
        long c = Sys(connect, h, addr, x.Long(2));
        Sys(Nr.fcntl, h, F_SETFL, flags);
        if (c == -EALREADY) c = -EINPROGRESS; // on a blocking socket a connect already under way is waited for again
        if (c == -Errno.EAGAIN)
        {
            // A Unix socket whose listener's backlog is full: a blocking connect waits for room.
            x.Wait.Recheck = System.Diagnostics.Stopwatch.GetTimestamp() + FileSystem.LockRecheckTicks;
            return x.Block(restartable: true);
        }
        if (c != -EINPROGRESS) return c;
        x.Wait.Stage = InProgress;
        return x.BlockOn(h, Blocking.POLLOUT, restartable: true);
    }

    /// <summary>
    /// A send or receive that may wait, done without blocking the host thread (see <see cref="Blocking"/>,
    /// which also applies SO_RCVTIMEO/SO_SNDTIMEO). A guest MSG_DONTWAIT is a plain non-blocking call.
    /// </summary>
    static long SocketIo(SyscallContext x, long g, int h, short events, int flags, Func<int, long> call)
    {
        if ((flags & Blocking.MSG_DONTWAIT) != 0) return call(flags);
        return Blocking.Io(x, g, h, events, restartable: true, noWait => call(noWait ? flags | Blocking.MSG_DONTWAIT : flags));
    }

    /// <summary>A send on a broken stream raises SIGPIPE unless MSG_NOSIGNAL asked it not to.</summary>
    static long BrokenPipe(SyscallContext x, long r, long flags)
    {
        const int EPIPE = 32, MSG_NOSIGNAL = 0x4000;
        if (r == -EPIPE && (flags & MSG_NOSIGNAL) == 0) x.P.RaiseSignal(new SignalInfo(13, 0, Pid: x.P.Pid));
        return r;
    }

    static long SendTo(SyscallContext x)
    {
        long g = x.Long(0);
        int h = x.P.Fds.Host(g);
        if (h < 0) return h;
        int n = (int)Math.Min(x.A[2], Buffers.Chunk);
        int flags = x.Int(3);
        Func<nint, long> send = b => AddrIn(x, 4, 5, a => SocketIo(x, g, h, Blocking.POLLOUT, flags, f => Sys(sendto, h, b, n, f, a, x.A[4] == 0 ? 0 : x.Long(5))));
        long ok = Buffers.AccessiblePrefix(x, x.A[1], n, write: false);
        return BrokenPipe(x, ok < n ? PartialBuffers.Write(x, x.A[1], ok, send) : Buffers.WithInput(x, x.A[1], n, send), flags);
    }

    static long RecvFrom(SyscallContext x)
    {
        long g = x.Long(0);
        int h = x.P.Fds.Host(g);
        if (h < 0) return h;
        int n = (int)Math.Min(x.A[2], Buffers.Chunk);
        Func<nint, long> receive = b => AddrOut(x, 4, 5, (a, l) => SocketIo(x, g, h, Blocking.POLLIN, x.Int(3), f => Sys(recvfrom, h, b, n, f, a, l)));
        long ok = Buffers.AccessiblePrefix(x, x.A[1], n, write: true);
        return ok < n ? PartialBuffers.Read(x, x.A[1], ok, receive) : Buffers.WithOutput(x, x.A[1], n, receive);
    }

    static long GetSockOpt(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        if (x.A[4] == 0) return -Errno.EFAULT;
        uint cap = Math.Min(x.Mem.Read32(x.A[4]), 256);
        byte* v = stackalloc byte[256];
        uint len = cap;
        long r = Sys(getsockopt, h, x.Long(1), x.Long(2), (nint)v, (nint)(&len));
        if (r < 0) return r;
        x.Mem.WriteBytes(x.A[3], new ReadOnlySpan<byte>(v, (int)Math.Min(len, cap)));
        x.Mem.Write32(x.A[4], len);
        return r;
    }

    // struct msghdr: name(8) namelen(4)+pad(4) iov(8) iovlen(8) control(8) controllen(8) flags(4)+pad(4) = 56 bytes.

    internal static long SendMsg(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        ulong m = x.A[1];
        ulong name = x.Mem.Read64(m), iov = x.Mem.Read64(m + 16), iovlen = x.Mem.Read64(m + 24), control = x.Mem.Read64(m + 32), clen = x.Mem.Read64(m + 40);
        uint namelen = x.Mem.Read32(m + 8);
        if (iovlen > 1024 || clen > 4096 || namelen > MaxAddr) return -Errno.EINVAL;
        var parts = Files.Iovecs(x, iov, (long)iovlen);
        if (parts == null) return -Errno.EINVAL;
        long total = Math.Min(parts.Sum(p => p.len), Buffers.Chunk);
        long ok = Buffers.AccessiblePrefix(x, parts, total, write: false);
        if (ok < total) return PartialBuffers.WriteV(x, parts, ok, d => SendMsgFrom(x, h, d, total, name, namelen, control, clen));
        var data = new byte[total];
        Files.Gather(x, parts, 0, data);
        fixed (byte* d = data) return SendMsgFrom(x, h, (nint)d, total, name, namelen, control, clen);
    }

    /// <summary>sendmsg of <paramref name="total"/> bytes at host <paramref name="d"/> with the guest's address and control data.</summary>
    static long SendMsgFrom(SyscallContext x, int h, nint d, long total, ulong name, uint namelen, ulong control, ulong clen)
    {
        var nameBuf = new byte[namelen];
        if (namelen > 0) x.Mem.ReadBytes(name, nameBuf);
        var ctl = new byte[clen];
        if (clen > 0)
        {
            x.Mem.ReadBytes(control, ctl);
            if (!TranslateRights(x, ctl, toHost: true)) return -Errno.EBADF;
        }
        fixed (byte* nb = nameBuf, cb = ctl)
        {
            long* hiov = stackalloc long[2];
            hiov[0] = d;
            hiov[1] = total;
            byte* hm = stackalloc byte[56];
            new Span<byte>(hm, 56).Clear();
            *(long*)hm = namelen > 0 ? (long)nb : 0;
            *(uint*)(hm + 8) = namelen;
            *(long*)(hm + 16) = (long)hiov;
            *(long*)(hm + 24) = 1;
            *(long*)(hm + 32) = clen > 0 ? (long)cb : 0;
            *(long*)(hm + 40) = (long)clen;
            long g = x.Long(0);
            return BrokenPipe(x, SocketIo(x, g, h, Blocking.POLLOUT, x.Int(2), f => Sys(sendmsg, h, (nint)hm, f)), x.Long(2));
        }
    }

    internal static long RecvMsg(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        ulong m = x.A[1];
        ulong iov = x.Mem.Read64(m + 16), iovlen = x.Mem.Read64(m + 24), clen = x.Mem.Read64(m + 40);
        if (iovlen > 1024 || clen > 4096) return -Errno.EINVAL;
        var parts = Files.Iovecs(x, iov, (long)iovlen);
        if (parts == null) return -Errno.EINVAL;
        long total = Math.Min(parts.Sum(p => p.len), Buffers.Chunk);
        long ok = Buffers.AccessiblePrefix(x, parts, total, write: true);
        if (ok < total) return PartialBuffers.ReadV(x, parts, ok, d => RecvMsgInto(x, h, m, d, total));
        var data = new byte[total];
        fixed (byte* d = data)
        {
            long r = RecvMsgInto(x, h, m, (nint)d, total);
            if (r > 0) Files.Scatter(x, parts, data.AsSpan(0, (int)r));
            return r;
        }
    }

    /// <summary>
    /// recvmsg into <paramref name="total"/> bytes at host <paramref name="d"/>; the guest's msghdr at <paramref name="m"/>
    /// gets the address, control data and flags. The data itself is the caller's to copy.
    /// </summary>
    static long RecvMsgInto(SyscallContext x, int h, ulong m, nint d, long total)
    {
        ulong name = x.Mem.Read64(m), control = x.Mem.Read64(m + 32), clen = x.Mem.Read64(m + 40);
        uint namelen = x.Mem.Read32(m + 8);
        var nameBuf = new byte[Math.Min(namelen, (uint)MaxAddr)];
        var ctl = new byte[clen];
        long r;
        byte* hm = stackalloc byte[56];
        fixed (byte* nb = nameBuf, cb = ctl)
        {
            long* hiov = stackalloc long[2];
            hiov[0] = d;
            hiov[1] = total;
            new Span<byte>(hm, 56).Clear();
            *(long*)hm = name != 0 ? (long)nb : 0;
            *(uint*)(hm + 8) = (uint)nameBuf.Length;
            *(long*)(hm + 16) = (long)hiov;
            *(long*)(hm + 24) = 1;
            *(long*)(hm + 32) = clen > 0 ? (long)cb : 0;
            *(long*)(hm + 40) = (long)clen;
            // Descriptors received through SCM_RIGHTS arrive close-on-exec on the host; the guest's flag is kept in the table.
            long g = x.Long(0);
            nint hmp = (nint)hm;
            r = SocketIo(x, g, h, Blocking.POLLIN, x.Int(2), f => Sys(recvmsg, h, hmp, f | 0x40000000 /* MSG_CMSG_CLOEXEC */));
        }
        if (r < 0) return r;
        uint gotName = *(uint*)(hm + 8);
        ulong gotCtl = *(ulong*)(hm + 40);
        if (name != 0) x.Mem.WriteBytes(name, nameBuf.AsSpan(0, (int)Math.Min(gotName, (uint)nameBuf.Length)));
        x.Mem.Write32(m + 8, gotName);
        if (gotCtl > 0)
        {
            var got = ctl.AsSpan(0, (int)gotCtl).ToArray();
            TranslateRights(x, got, toHost: false, (x.Long(2) & 0x40000000) != 0);
            x.Mem.WriteBytes(control, got);
        }
        x.Mem.Write64(m + 40, gotCtl);
        x.Mem.Write32(m + 48, *(uint*)(hm + 48));
        return r;
    }

    /// <summary>Rewrites the descriptors of SCM_RIGHTS messages between guest and host numbering.</summary>
    static bool TranslateRights(SyscallContext x, byte[] ctl, bool toHost, bool cloexec = false)
    {
        int o = 0;
        while (o + 16 <= ctl.Length)
        {
            long len = BitConverter.ToInt64(ctl, o);
            int level = BitConverter.ToInt32(ctl, o + 8), type = BitConverter.ToInt32(ctl, o + 12);
            if (len < 16 || o + len > ctl.Length) break;
            if (level == 1 /* SOL_SOCKET */ && type == 1 /* SCM_RIGHTS */)
            {
                for (int p = o + 16; p + 4 <= o + len; p += 4)
                {
                    int fd = BitConverter.ToInt32(ctl, p);
                    int mapped;
                    if (toHost)
                    {
                        mapped = x.P.Fds.Host(fd);
                        if (mapped < 0) return false;
                    }
                    else mapped = x.P.Fds.Install(fd, cloexec);
                    BitConverter.TryWriteBytes(ctl.AsSpan(p), mapped);
                }
            }
            o += (int)((len + 7) & ~7L);
        }
        return true;
    }
}
