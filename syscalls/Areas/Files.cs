using System.Text;
using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>File descriptors and file I/O: open/close/read/write and friends, stat, ioctl, readlink.</summary>
static class Files
{
    const int AT_FDCWD = -100;
    const int O_CLOEXEC = 0x80000;
    const int AT_EMPTY_PATH = 0x1000;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.read, "read", "fBd", Read);
        t.Add(Nr.write, "write", "fbd", Write);
        t.Add(Nr.pread64, "pread64", "fBdd", Pread);
        t.Add(Nr.pwrite64, "pwrite64", "fbdd", Pwrite);
        t.Add(Nr.readv, "readv", "fid", Readv);
        t.Add(Nr.writev, "writev", "fid", Writev);
        t.Add(Nr.open, "open", "sxo", x => OpenAt(x, AT_FDCWD, x.Str(0), (int)x.A[1], (int)x.A[2]));
        t.Add(Nr.openat, "openat", "fsxo", x => OpenAt(x, x.Int(0), x.Str(1), (int)x.A[2], (int)x.A[3]));
        t.Add(openat2, "openat2", "fsxd", OpenAt2);
        t.Add(Nr.close, "close", "f", Close);
        t.Add(Nr.lseek, "lseek", "fdd", x => HostFd(x, 0, h => Sys(Nr.lseek, h, x.Long(1), x.Long(2))));
        t.Add(Nr.fstat, "fstat", "fx", x => HostFd(x, 0, h => Buffers.WithStruct(x, x.A[1], 144, p => Sys(Nr.fstat, h, p))));
        t.Add(Nr.stat, "stat", "sx", x => StatAt(x, AT_FDCWD, x.Str(0), x.A[1], 0));
        t.Add(Nr.lstat, "lstat", "sx", x => StatAt(x, AT_FDCWD, x.LinkStr(0), x.A[1], 0x100));
        t.Add(Nr.newfstatat, "newfstatat", "fsxx", x => StatAt(x, x.Int(0), x.A[1] == 0 ? "" : (x.A[3] & 0x100) != 0 ? x.LinkStr(1) : x.Str(1), x.A[2], (int)x.A[3]));
        t.Add(Nr.readlink, "readlink", "sxd", x => ReadLink(x, AT_FDCWD, x.LinkStr(0), x.A[1], x.Long(2)));
        t.Add(Nr.readlinkat, "readlinkat", "fsxd", x => ReadLink(x, x.Int(0), x.LinkStr(1), x.A[2], x.Long(3)));
        t.Add(Nr.access, "access", "sd", x => WithDir(x, AT_FDCWD, x.Str(0), (d, p) => Sys(Nr.faccessat, d, p, x.Long(1))));
        t.Add(Nr.faccessat, "faccessat", "fsd", x => WithDir(x, x.Int(0), x.Str(1), (d, p) => Sys(Nr.faccessat, d, p, x.Long(2))));
        t.Add(Nr.faccessat2, "faccessat2", "fsdx", x => WithDir(x, x.Int(0), x.Str(1), (d, p) => Sys(Nr.faccessat2, d, p, x.Long(2), x.Long(3))));
        t.Add(Nr.ioctl, "ioctl", "fxx", Ioctl);
        t.Add(Nr.dup, "dup", "f", x => { int h = x.P.Fds.Host(x.Long(0)); return h < 0 ? h : x.P.Fds.Install(h, false); });
        t.Add(Nr.dup2, "dup2", "ff", x => x.A[0] == x.A[1] ? (x.P.Fds.IsOpen(x.Long(0)) ? x.Long(0) : -Errno.EBADF) : Dup(x, x.Int(0), x.Int(1), false));
        t.Add(Nr.dup3, "dup3", "ffx", x => x.A[0] == x.A[1] || (x.A[2] & ~(ulong)O_CLOEXEC) != 0 ? -Errno.EINVAL : Dup(x, x.Int(0), x.Int(1), (x.A[2] & O_CLOEXEC) != 0));
        t.Add(Nr.fcntl, "fcntl", "fdx", Fcntl);
        t.Add(Nr.getcwd, "getcwd", "Bd", x => Buffers.WithOutput(x, x.A[0], (int)Math.Min(x.A[1], 4096), p => Sys(Nr.getcwd, p, (long)Math.Min(x.A[1], 4096))));
        t.Add(Nr.chdir, "chdir", "s", x => Buffers.WithPath(x.Str(0), p => Sys(Nr.chdir, p)));
        t.Add(Nr.getdents, "getdents", "fxd", GetDents);
        t.Add(Nr.getdents64, "getdents64", "fxd", x => HostFd(x, 0, h => Output(x, x.A[1], (int)Math.Min(x.A[2], Buffers.Chunk), p => OwnFdListing.GetDents64(x.P, h, p, (int)Math.Min(x.A[2], Buffers.Chunk)))));
        t.Add(Nr.unlink, "unlink", "s", x => Buffers.WithPath(x.Str(0), p => Sys(Nr.unlink, p)));
        t.Add(Nr.unlinkat, "unlinkat", "fsx", x => WithDir(x, x.Int(0), x.Str(1), (d, p) => Sys(Nr.unlinkat, d, p, x.Long(2))));
        t.Add(Nr.mkdir, "mkdir", "so", x => Buffers.WithPath(x.Str(0), p => Sys(Nr.mkdir, p, x.Long(1))));
        t.Add(Nr.mkdirat, "mkdirat", "fso", x => WithDir(x, x.Int(0), x.Str(1), (d, p) => Sys(Nr.mkdirat, d, p, x.Long(2))));
        t.Add(Nr.rmdir, "rmdir", "s", x => Buffers.WithPath(x.Str(0), p => Sys(Nr.rmdir, p)));
        t.Add(Nr.umask, "umask", "o", x => Sys(Nr.umask, x.Long(0)));
        t.Add(Nr.fsync, "fsync", "f", x => HostFd(x, 0, h => Sys(Nr.fsync, h)));
        t.Add(Nr.fdatasync, "fdatasync", "f", x => HostFd(x, 0, h => Sys(Nr.fdatasync, h)));
        // Advice about the file's page cache is the host's to take (sort and cp give it).
        t.Add(Nr.fadvise64, "fadvise64", "fxxd", x => HostFd(x, 0, h => Sys(Nr.fadvise64, h, (long)x.A[1], (long)x.A[2], x.Long(3))));
        const int readahead = 187, sync_file_range = 277;
        t.Add(readahead, "readahead", "fdd", x => HostFd(x, 0, h => Sys(readahead, h, x.Long(1), x.Long(2))));
        t.Add(sync_file_range, "sync_file_range", "fddx", x => HostFd(x, 0, h => Sys(sync_file_range, h, x.Long(1), x.Long(2), x.Long(3))));
        t.Add(Nr.ftruncate, "ftruncate", "fd", x => HostFd(x, 0, h => Sys(Nr.ftruncate, h, x.Long(1))));
        t.Add(Nr.creat, "creat", "so", x => OpenAt(x, AT_FDCWD, x.Str(0), 0x41 | 0x200 /* O_CREAT|O_WRONLY|O_TRUNC */, (int)x.A[1]));
        t.Add(Nr.sendfile, "sendfile", "ffxd", SendFile);
        t.Add(Nr.copy_file_range, "copy_file_range", "fxfxdx", CopyFileRange);
        t.Add(Nr.close_range, "close_range", "ddx", CloseRange);
        t.Add(Nr.memfd_create, "memfd_create", "sx", x => Buffers.WithPath(x.Str(0), n =>
        {
            long h = Sys(Nr.memfd_create, n, x.Long(1) | 1 /* MFD_CLOEXEC */);
            if (h < 0) return h;
            int g = x.P.Fds.Install((int)h, (x.Long(1) & 1) != 0);
            if (g < 0) Sys(Nr.close, h);
            return g;
        }));
    }

    static long HostFd(SyscallContext x, int arg, Func<int, long> f)
    {
        int h = x.P.Fds.Host(x.Long(arg));
        return h < 0 ? h : f(h);
    }

    /// <summary>Resolves a dirfd argument (AT_FDCWD or a guest descriptor) and passes the path.</summary>
    static long WithDir(SyscallContext x, int dirfd, string path, Func<long, nint, long> f)
    {
        long d = dirfd;
        if (dirfd != AT_FDCWD && !path.StartsWith('/'))
        {
            int h = x.P.Fds.Host(dirfd);
            if (h < 0) return h;
            d = h;
            // A descriptor number under the guest's own descriptor directory is the guest's descriptor.
            if (OwnFdListing.Relative(x.P, h, path) is { } own) (d, path) = (AT_FDCWD, own);
        }
        return Buffers.WithPath(path, p => f(d, p));
    }

    /// <summary>
    /// The old getdents: the host's getdents64 records rewritten in place as struct linux_dirent
    /// (d_ino, d_off, d_reclen, d_name, NUL, d_type in the last byte). Both layouts need the same
    /// aligned record length, so whatever fits one fits the other.
    /// </summary>
    static unsafe long GetDents(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        int len = (int)Math.Min(x.A[2], Buffers.Chunk);
        return Output(x, x.A[1], len, p =>
        {
            long r = OwnFdListing.GetDents64(x.P, h, p, len);
            byte* b = (byte*)p;
            for (long o = 0; o < r;)
            {
                ushort reclen = *(ushort*)(b + o + 16);
                byte type = b[o + 18];
                int nameLen = 0;
                while (b[o + 19 + nameLen] != 0) nameLen++;
                Buffer.MemoryCopy(b + o + 19, b + o + 18, nameLen, nameLen);
                b[o + 18 + nameLen] = 0;
                b[o + reclen - 1] = type;
                o += reclen;
            }
            return r;
        });
    }

    /// <summary>An output buffer the host call fills from its start; one mapped only in part stops the host where it stops the guest.</summary>
    static long Output(SyscallContext x, ulong addr, int len, Func<nint, long> call)
    {
        long ok = Buffers.AccessiblePrefix(x, addr, len, write: true);
        return ok < len ? PartialBuffers.Read(x, addr, ok, call) : Buffers.WithOutput(x, addr, len, call);
    }

    static long Read(SyscallContext x)
    {
        long g = x.Long(0);
        int h = x.P.Fds.Host(g);
        if (h < 0) return h;
        if (x.P.SignalFds.TryGetMask(h, out ulong mask)) return SignalFd.Read(x, h, mask);
        int n = (int)Math.Min(x.A[2], Buffers.Chunk);
        long ok = Buffers.AccessiblePrefix(x, x.A[1], n, write: true);
        if (ok < n) return PartialBuffers.Read(x, x.A[1], ok, p => Blocking.Io(x, g, h, Blocking.POLLIN, restartable: true, noWait => Blocking.Read(h, p, n, noWait)));
        return Buffers.WithOutput(x, x.A[1], n, p => Blocking.Io(x, g, h, Blocking.POLLIN, restartable: true, noWait => Blocking.Read(h, p, n, noWait)));
    }

    /// <summary>
    /// Files, directories and block devices move what the buffer allows and report a short count at a hole
    /// (the kernel copies page by page), whatever the size of the request.
    /// </summary>
    static bool ShortTransfers(SyscallContext x, long guestFd) => x.P.Fds.Kind(guestFd) == FdKind.NeverBlocks;

    static long Pread(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        int n = (int)Math.Min(x.A[2], Buffers.Chunk);
        long ok = Buffers.AccessiblePrefix(x, x.A[1], n, write: true);
        if (ok < n) return PartialBuffers.Read(x, x.A[1], ok, p => Sys(Nr.pread64, h, p, n, x.Long(3)));
        return Buffers.WithOutput(x, x.A[1], n, p => Sys(Nr.pread64, h, p, n, x.Long(3)));
    }

    /// <summary>pwrite64 of all of [addr, addr+len) unless the host reports an error or a short write (positioned I/O never waits).</summary>
    static long PwriteAll(SyscallContext x, int h, ulong addr, long len, long offset)
    {
        long done = 0;
        while (done < len)
        {
            int n = (int)Math.Min(len - done, Buffers.Chunk);
            long r = Buffers.WithInput(x, addr + (ulong)done, n, p => Sys(Nr.pwrite64, h, p, n, offset + done));
            if (r < 0) return done > 0 ? done : r;
            done += r;
            if (r < n) break;
        }
        return done;
    }

    static long Write(SyscallContext x)
    {
        long g = x.Long(0);
        int h = x.P.Fds.Host(g);
        if (h < 0) return h;
        ulong addr = x.A[1];
        long len = x.Long(2);
        if (len < 0) return -Errno.EINVAL;
        if (x.P.Fds.Kind(g) == FdKind.ThreadName) return ProcTasks.WriteComm(x, h, addr, len);
        long ok = Buffers.AccessiblePrefix(x, addr, len, write: false);
        if (ok < len && ok < Buffers.Chunk && !ShortTransfers(x, g))
        {
            int n = (int)Math.Min(len, Buffers.Chunk);
            return BrokenPipe(x, PartialBuffers.Write(x, addr, ok, p => Blocking.Io(x, g, h, Blocking.POLLOUT, restartable: true, noWait => Blocking.Write(h, p, n, noWait))));
        }
        if (ok == 0 && len > 0) return -Errno.EFAULT;
        return BrokenPipe(x, Blocking.WriteAll(x, g, h, ok, (off, dst) => x.Mem.ReadBytes(addr + (ulong)off, dst), (p, n, noWait) => Blocking.Write(h, p, n, noWait)));
    }

    /// <summary>Writing to a pipe nobody reads raises SIGPIPE as well as failing with EPIPE.</summary>
    static long BrokenPipe(SyscallContext x, long r)
    {
        const int EPIPE = 32;
        if (r == -EPIPE) x.P.RaiseSignal(new SignalInfo(13, 0, Pid: x.P.Pid));
        return r;
    }

    static long Pwrite(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        if (x.Long(3) < 0) return -Errno.EINVAL;
        long ok = Buffers.AccessiblePrefix(x, x.A[1], x.Long(2), write: false);
        if (ok == 0 && x.Long(2) > 0) return -Errno.EFAULT;
        return PwriteAll(x, h, x.A[1], ok, x.Long(3));
    }

    /// <summary>A guest iovec array as (address, length) pairs; null when the count or a length is invalid.</summary>
    internal static List<(ulong addr, long len)>? Iovecs(SyscallContext x, ulong iov, long count)
    {
        if (count < 0 || count > 1024) return null;
        var list = new List<(ulong, long)>((int)count);
        for (long k = 0; k < count; k++)
        {
            ulong b = x.Mem.Read64(iov + (ulong)k * 16);
            long l = (long)x.Mem.Read64(iov + (ulong)k * 16 + 8);
            if (l < 0) return null;
            list.Add((b, l));
        }
        return list;
    }

    internal static long Writev(SyscallContext x)
    {
        long g = x.Long(0);
        int h = x.P.Fds.Host(g);
        if (h < 0) return h;
        var iov = Iovecs(x, x.A[1], x.Long(2));
        if (iov == null) return -Errno.EINVAL;
        long total = 0;
        foreach (var (_, l) in iov) total += l;
        long ok = Buffers.AccessiblePrefix(x, iov, total, write: false);
        if (ok < total && ok < Buffers.Chunk && !ShortTransfers(x, g))
        {
            int n = (int)Math.Min(total, Buffers.Chunk);
            return BrokenPipe(x, PartialBuffers.WriteV(x, iov, ok, p => Blocking.Io(x, g, h, Blocking.POLLOUT, restartable: true, noWait => Blocking.Write(h, p, n, noWait))));
        }
        if (ok == 0 && total > 0) return -Errno.EFAULT;
        total = ok;
        // Gathering up to a whole chunk keeps one host write per call, so lines from the guest are not split.
        return BrokenPipe(x, Blocking.WriteAll(x, g, h, total, (off, dst) => Gather(x, iov, off, dst), (p, n, noWait) => Blocking.Write(h, p, n, noWait)));
    }

    /// <summary>Copies bytes [from, from + dst.Length) of the concatenated iovecs into <paramref name="dst"/>.</summary>
    internal static void Gather(SyscallContext x, List<(ulong addr, long len)> iov, long from, Span<byte> dst)
    {
        int o = 0;
        foreach (var (a, l) in iov)
        {
            if (o == dst.Length) break;
            if (from >= l) { from -= l; continue; }
            int k = (int)Math.Min(l - from, dst.Length - o);
            x.Mem.ReadBytes(a + (ulong)from, dst.Slice(o, k));
            o += k;
            from = 0;
        }
    }

    /// <summary>Copies <paramref name="src"/> into the concatenated iovecs, from their start.</summary>
    internal static void Scatter(SyscallContext x, List<(ulong addr, long len)> iov, ReadOnlySpan<byte> src)
    {
        int o = 0;
        foreach (var (a, l) in iov)
        {
            if (o >= src.Length) break;
            int k = (int)Math.Min(l, src.Length - o);
            x.Mem.WriteBytes(a, src.Slice(o, k));
            o += k;
        }
    }

    internal static long Readv(SyscallContext x)
    {
        long g = x.Long(0);
        int h = x.P.Fds.Host(g);
        if (h < 0) return h;
        var iov = Iovecs(x, x.A[1], x.Long(2));
        if (iov == null) return -Errno.EINVAL;
        long total = 0;
        foreach (var (_, l) in iov) total += l;
        int n = (int)Math.Min(total, Buffers.Chunk);
        long ok = Buffers.AccessiblePrefix(x, iov, n, write: true);
        if (ok < n) return PartialBuffers.ReadV(x, iov, ok, p => Blocking.Io(x, g, h, Blocking.POLLIN, restartable: true, noWait => Blocking.Read(h, p, n, noWait)));
        var buf = Buffers.Rent(n);
        try
        {
            long r;
            unsafe
            {
                fixed (byte* p = buf)
                {
                    nint q = (nint)p;
                    r = Blocking.Io(x, g, h, Blocking.POLLIN, restartable: true, noWait => Blocking.Read(h, q, n, noWait));
                }
            }
            if (r <= 0) return r;
            Scatter(x, iov, buf.AsSpan(0, (int)r));
            return r;
        }
        finally { Buffers.Return(buf); }
    }

    static long OpenAt(SyscallContext x, int dirfd, string path, int flags, int mode, Func<long, nint, long>? open = null)
    {
        // Under the guest's own descriptor or task directory, a number is the guest's: absolute from here on.
        if (dirfd != AT_FDCWD && !path.StartsWith('/') && x.P.Fds.Host(dirfd) is int dir and >= 0 && OwnFdListing.Relative(x.P, dir, path) is { } own)
            (dirfd, path) = (AT_FDCWD, own);
        if (path == "/proc/self/exe" || path == $"/proc/{x.P.Pid}/exe") path = x.P.ExePath;
        if ((path.StartsWith("/proc/", StringComparison.Ordinal) || path.StartsWith("/sys/devices/system/cpu/", StringComparison.Ordinal)) && Proc.TryOpen(x, path, flags, out long procFd)) return procFd;
        long h = WithDir(x, dirfd, path, open ?? ((d, p) => Sys(Nr.openat, d, p, flags | O_CLOEXEC, mode)));
        if (h < 0) return h;
        // Host descriptors are always close-on-exec: the guest's own flag lives in the table.
        int g = x.P.Fds.Install((int)h, (flags & O_CLOEXEC) != 0);
        if (g < 0) Sys(Nr.close, h);
        return g;
    }

    const int openat2 = 437;

    /// <summary>
    /// openat2: struct open_how (flags, mode, resolve) goes to the host's openat2 as the guest wrote it, so the
    /// host checks its size, flags and RESOLVE_* bits, with close-on-exec added as for every host descriptor.
    /// </summary>
    static unsafe long OpenAt2(SyscallContext x)
    {
        const ulong OpenHowSize = 24, PageSize = 4096;
        ulong size = x.A[3];
        if (size < OpenHowSize) return -Errno.EINVAL;
        if (size > PageSize) return -7; // E2BIG
        var how = new byte[size];
        x.Mem.ReadBytes(x.A[2], how);
        ulong flags = BitConverter.ToUInt64(how, 0);
        BitConverter.TryWriteBytes(how.AsSpan(0), flags | O_CLOEXEC);
        return OpenAt(x, x.Int(0), x.Str(1), (int)flags, (int)BitConverter.ToUInt64(how, 8), (d, p) =>
        {
            fixed (byte* h = how) return Sys(openat2, d, p, (nint)h, (long)size);
        });
    }

    /// <summary>An optional loff_t* argument: copied in, passed to the host, and the updated value copied back.</summary>
    internal static unsafe long WithOffset(SyscallContext x, ulong ptr, Func<nint, long> call)
    {
        if (ptr == 0) return call(0);
        long off = (long)x.Mem.Read64(ptr);
        long r = call((nint)(&off));
        if (r >= 0) x.Mem.Write64(ptr, (ulong)off);
        return r;
    }

    static long SendFile(SyscallContext x)
    {
        int o = x.P.Fds.Host(x.Long(0)), i = x.P.Fds.Host(x.Long(1));
        if (o < 0) return o;
        if (i < 0) return i;
        return WithOffset(x, x.A[2], p => Sys(Nr.sendfile, o, i, p, x.Long(3)));
    }

    static long CopyFileRange(SyscallContext x)
    {
        int i = x.P.Fds.Host(x.Long(0)), o = x.P.Fds.Host(x.Long(2));
        if (i < 0) return i;
        if (o < 0) return o;
        return WithOffset(x, x.A[1], pi => WithOffset(x, x.A[3], po => Sys(Nr.copy_file_range, i, pi, o, po, x.Long(4), x.Long(5))));
    }

    static long CloseRange(SyscallContext x)
    {
        const ulong CLOSE_RANGE_CLOEXEC = 4;
        uint first = (uint)x.A[0], last = (uint)Math.Min(x.A[1], FdTable.MaxFds - 1);
        if (first > (uint)x.A[1]) return -Errno.EINVAL;
        for (uint g = first; g <= last && g < FdTable.MaxFds; g++)
        {
            if (!x.P.Fds.IsOpen(g)) continue;
            if ((x.A[2] & CLOSE_RANGE_CLOEXEC) != 0) { x.P.Fds.SetCloseOnExec((int)g, true); continue; }
            int h = x.P.Fds.Remove(g);
            if (h >= 0 && x.P.Fds.References(h) == 0) x.P.CloseHost(h);
        }
        return 0;
    }

    static long Close(SyscallContext x)
    {
        int h = x.P.Fds.Remove(x.Long(0));
        if (h < 0) return h;
        // A host descriptor shared by dup'ed guest descriptors stays open until the last one closes.
        if (x.P.Fds.References(h) > 0) return 0;
        x.P.SignalFds.Closed(h);
        return LegoEmu.Syscalls.Host.StandardDescriptors.Close(h);
    }

    static long Dup(SyscallContext x, int oldFd, int newFd, bool cloexec)
    {
        int h = x.P.Fds.Host(oldFd);
        if (h < 0) return h;
        if (newFd < 0 || newFd >= x.P.Fds.Limit) return -Errno.EBADF;
        int old = x.P.Fds.Remove(newFd);
        if (old >= 0 && x.P.Fds.References(old) == 0 && old != h) x.P.CloseHost(old);
        x.P.Fds.InstallAt(newFd, h, cloexec);
        return newFd;
    }

    static long Fcntl(SyscallContext x)
    {
        int g = x.Int(0);
        int h = x.P.Fds.Host(g);
        if (h < 0) return h;
        const int F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_DUPFD_CLOEXEC = 1030;
        switch (x.Int(1))
        {
            case F_DUPFD:
            case F_DUPFD_CLOEXEC:
                // A lowest number at or past RLIMIT_NOFILE is EINVAL; none free below it is EMFILE.
                if (x.A[2] >= (ulong)x.P.Fds.Limit) return -Errno.EINVAL;
                return x.P.Fds.Install(h, x.Int(1) == F_DUPFD_CLOEXEC, x.Int(2));
            case F_GETFD: return x.P.Fds.CloseOnExec(g) ? 1 : 0;
            case F_SETFD: x.P.Fds.SetCloseOnExec(g, (x.A[2] & 1) != 0); return 0;
            case 3: // F_GETFL
            case 4: // F_SETFL
            case 8: case 9: // F_SETOWN, F_GETOWN
            case 11: // F_GETSIG
            case 1024: case 1025: // F_SETLEASE, F_GETLEASE: a lease break is signalled (SIGIO) to the owner, the emulator's pid = the guest's
            case 1026: // F_NOTIFY: the directory's events arrive as SIGIO, which HostSignals forwards
            case 1031: case 1032: case 1033: case 1034: // pipe size, seals
                return Sys(Nr.fcntl, h, x.Long(1), x.Long(2));
            case 10: // F_SETSIG: only the default (0) and SIGIO itself, the signals the host may send the emulator for the guest
                return x.A[2] is 0 or 29 ? Sys(Nr.fcntl, h, 10, x.Long(2)) : -Errno.EINVAL;
            case 15: // F_SETOWN_EX: struct f_owner_ex { int type; pid_t pid; }
                return Buffers.WithInput(x, x.A[2], 8, p => Sys(Nr.fcntl, h, 15, p));
            case 16: // F_GETOWN_EX
                return Buffers.WithStruct(x, x.A[2], 8, p => Sys(Nr.fcntl, h, 16, p));
            case 5: case 6: case 7: // F_GETLK, F_SETLK, F_SETLKW: struct flock in, and out for F_GETLK
            case 36: case 37: case 38: // the open-file-description variants
                return Buffers.WithInput(x, x.A[2], 32, p =>
                {
                    // A waiting lock (F_SETLKW, F_OFD_SETLKW) is tried without waiting and re-tried by the
                    // scheduler, so other guest threads run and a signal interrupts it.
                    int cmd = x.Int(1);
                    bool waits = cmd is 7 or 38;
                    long r = Sys(Nr.fcntl, h, waits ? cmd - 1 : cmd, p);
                    if (waits && (r == -Errno.EAGAIN || r == -Errno.EACCES))
                    {
                        x.Wait.Recheck = System.Diagnostics.Stopwatch.GetTimestamp() + FileSystem.LockRecheckTicks;
                        return x.Block(restartable: true);
                    }
                    if (r == 0 && (x.Int(1) == 5 || x.Int(1) == 36))
                        unsafe { x.Mem.WriteBytes(x.A[2], new ReadOnlySpan<byte>((void*)p, 32)); }
                    return r;
                });
            default:
                return -Errno.EINVAL;
        }
    }

    static long StatAt(SyscallContext x, int dirfd, string path, ulong buf, int flags)
    {
        if ((flags & AT_EMPTY_PATH) != 0 && path.Length == 0)
        {
            int h = x.P.Fds.Host(dirfd);
            if (h < 0) return h;
            return Buffers.WithStruct(x, buf, 144, p => Sys(Nr.fstat, h, p));
        }
        if (path == "/proc/self/exe") path = x.P.ExePath;
        return WithDir(x, dirfd, path, (d, p) => Buffers.WithStruct(x, buf, 144, b => Sys(Nr.newfstatat, d, p, b, flags)));
    }

    static long ReadLink(SyscallContext x, int dirfd, string path, ulong buf, long size)
    {
        if (size <= 0) return -Errno.EINVAL;
        if (path == "/proc/self/exe" || path == $"/proc/{x.P.Pid}/exe")
        {
            // The guest's own path, not the emulator's: programs locate their data files through it.
            var bytes = LegoEmu.Loader.Image.GuestText.Encode(x.P.ExePath);
            int n = (int)Math.Min(bytes.Length, size);
            x.Mem.WriteBytes(buf, bytes.AsSpan(0, n));
            return n;
        }
        int len = (int)Math.Min(size, 4096);
        return WithDir(x, dirfd, path, (d, p) => Buffers.WithOutput(x, buf, len, b => Sys(Nr.readlinkat, d, p, b, len)));
    }

    static long Ioctl(SyscallContext x)
    {
        int h = x.P.Fds.Host(x.Long(0));
        if (h < 0) return h;
        ulong req = x.A[1] & 0xffff_ffff;
        const int Value = int.MinValue; // the argument is a number, not a pointer
        const ulong TIOCGPTPEER = 0x5441, FIONCLEX = 0x5450, FIOCLEX = 0x5451;
        switch (req)
        {
            case TIOCGPTPEER:
            {
                // The pseudo-terminal's other end, opened by the host: a new guest descriptor.
                long peer = Sys(Nr.ioctl, h, (long)req, (x.Long(2) & ~O_CLOEXEC) | O_CLOEXEC);
                if (peer < 0) return peer;
                int g = x.P.Fds.Install((int)peer, (x.Long(2) & O_CLOEXEC) != 0);
                if (g < 0) Sys(Nr.close, peer);
                return g;
            }
            case FIOCLEX:
            case FIONCLEX:
                // Host descriptors stay close-on-exec; the guest's flag lives in the table.
                x.P.Fds.SetCloseOnExec(x.Int(0), req == FIOCLEX);
                return 0;
        }
        int size = req switch
        {
            0x80045430 or 0x80045439 or 0x80045440 => 4, // TIOCGPTN, TIOCGPTLCK, TIOCGEXCL
            0x40045431 => -4, // TIOCSPTLCK
            0x5429 => 4, // TIOCGSID
            0x5410 => -4, // TIOCSPGRP
            0x5411 => 4, // TIOCOUTQ
            0x5420 or 0x5452 => -4, // TIOCPKT, FIOASYNC
            0x5409 or 0x540A or 0x540B or 0x540C or 0x540D or 0x540E or 0x5422 => Value, // TCSBRK, TCXONC, TCFLSH, TIOCEXCL, TIOCNXCL, TIOCSCTTY, TIOCNOTTY
            0x5401 => 36, // TCGETS: struct termios
            0x5402 or 0x5403 or 0x5404 => -36, // TCSETS, TCSETSW, TCSETSF read a termios
            0x5413 => 8, // TIOCGWINSZ
            0x5414 => -8, // TIOCSWINSZ
            0x540f => 4, // TIOCGPGRP
            0x541b => 4, // FIONREAD
            0x5421 => -4, // FIONBIO
            _ => 0,
        };
        if (size == 0) return -Errno.ENOTTY;
        if (size == Value) return Sys(Nr.ioctl, h, (long)req, x.Long(2));
        if (size > 0) return Buffers.WithStruct(x, x.A[2], size, p => Sys(Nr.ioctl, h, (long)req, p));
        return Buffers.WithInput(x, x.A[2], -size, p => Sys(Nr.ioctl, h, (long)req, p));
    }
}
