using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// Path-based file-system calls that pass through to the host: the guest sees the host's files.
/// Directory descriptors are translated; structures (statx, statfs) have the guest's layout already.
/// </summary>
static class FileSystem
{
    const int AT_FDCWD = -100;

    /// <summary>How often a lock wait (flock, F_SETLKW) tries again while another process holds the lock.</summary>
    internal static readonly long LockRecheckTicks = System.Diagnostics.Stopwatch.Frequency / 100;

    /// <summary>
    /// flock: a wait for a lock held elsewhere is tried with LOCK_NB and re-tried by the scheduler, so
    /// other guest threads run and a signal interrupts it (restarting under SA_RESTART).
    /// </summary>
    static long Flock(SyscallContext x, int h)
    {
        const long LOCK_NB = 4;
        long op = x.Long(1);
        if ((op & LOCK_NB) != 0) return Sys(Nr.flock, h, op);
        long r = Sys(Nr.flock, h, op | LOCK_NB);
        if (r != -Errno.EAGAIN) return r;
        x.Wait.Recheck = System.Diagnostics.Stopwatch.GetTimestamp() + LockRecheckTicks;
        return x.Block(restartable: true);
    }

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.statx, "statx", "fsxxx", x => At(x, x.Int(0), x.Str(1), (d, p) => Buffers.WithStruct(x, x.A[4], 256, b => Sys(Nr.statx, d, p, x.Long(2), x.Long(3), b))));
        t.Add(Nr.statfs, "statfs", "sx", x => Path(x, 0, p => Buffers.WithStruct(x, x.A[1], 120, b => Sys(Nr.statfs, p, b))));
        t.Add(Nr.fstatfs, "fstatfs", "fx", x => Fd(x, 0, h => Buffers.WithStruct(x, x.A[1], 120, b => Sys(Nr.fstatfs, h, b))));
        t.Add(Nr.getxattr, "getxattr", "ssxd", x => Xattr(x, Nr.getxattr, follow: true));
        t.Add(Nr.lgetxattr, "lgetxattr", "ssxd", x => Xattr(x, Nr.lgetxattr, follow: false));
        t.Add(Nr.fgetxattr, "fgetxattr", "fsxd", x => Fd(x, 0, h => Buffers.WithPath(x.Str(1), n => Buffers.WithOutput(x, x.A[2], Len(x, 3), v => Sys(Nr.fgetxattr, h, n, x.A[2] == 0 ? 0 : v, x.Long(3))))));
        t.Add(Nr.listxattr, "listxattr", "sxd", x => Path(x, 0, p => Buffers.WithOutput(x, x.A[1], Len(x, 2), v => Sys(Nr.listxattr, p, x.A[1] == 0 ? 0 : v, x.Long(2)))));
        t.Add(Nr.llistxattr, "llistxattr", "sxd", x => Path(x, 0, p => Buffers.WithOutput(x, x.A[1], Len(x, 2), v => Sys(Nr.llistxattr, p, x.A[1] == 0 ? 0 : v, x.Long(2)))));
        t.Add(Nr.setxattr, "setxattr", "ssbdx", x => Path(x, 0, p => SetXattr(x, v => Sys(Nr.setxattr, p, v.Name, v.Value, x.Long(3), x.Long(4)))));
        t.Add(Nr.lsetxattr, "lsetxattr", "ssbdx", x => Path(x, 0, p => SetXattr(x, v => Sys(Nr.lsetxattr, p, v.Name, v.Value, x.Long(3), x.Long(4)))));
        t.Add(Nr.fsetxattr, "fsetxattr", "fsbdx", x => Fd(x, 0, h => SetXattr(x, v => Sys(Nr.fsetxattr, h, v.Name, v.Value, x.Long(3), x.Long(4)))));
        t.Add(Nr.removexattr, "removexattr", "ss", x => Path(x, 0, p => Buffers.WithPath(x.Str(1), n => Sys(Nr.removexattr, p, n))));
        t.Add(Nr.lremovexattr, "lremovexattr", "ss", x => Path(x, 0, p => Buffers.WithPath(x.Str(1), n => Sys(Nr.lremovexattr, p, n))));
        t.Add(Nr.fremovexattr, "fremovexattr", "fs", x => Fd(x, 0, h => Buffers.WithPath(x.Str(1), n => Sys(Nr.fremovexattr, h, n))));
        t.Add(Nr.chroot, "chroot", "s", Chroot);
        t.Add(Nr.flistxattr, "flistxattr", "fxd", x => Fd(x, 0, h => Buffers.WithOutput(x, x.A[1], Len(x, 2), v => Sys(Nr.flistxattr, h, x.A[1] == 0 ? 0 : v, x.Long(2)))));
        t.Add(Nr.rename, "rename", "ss", x => Path(x, 0, a => Path(x, 1, b => Sys(Nr.rename, a, b))));
        t.Add(Nr.renameat, "renameat", "fsfs", x => At(x, x.Int(0), x.Str(1), (d1, a) => At(x, x.Int(2), x.Str(3), (d2, b) => Sys(Nr.renameat, d1, a, d2, b))));
        t.Add(Nr.renameat2, "renameat2", "fsfsx", x => At(x, x.Int(0), x.Str(1), (d1, a) => At(x, x.Int(2), x.Str(3), (d2, b) => Sys(Nr.renameat2, d1, a, d2, b, x.Long(4)))));
        t.Add(Nr.link, "link", "ss", x => Path(x, 0, a => Path(x, 1, b => Sys(Nr.link, a, b))));
        t.Add(Nr.linkat, "linkat", "fsfsx", x => At(x, x.Int(0), x.Str(1), (d1, a) => At(x, x.Int(2), x.Str(3), (d2, b) => Sys(Nr.linkat, d1, a, d2, b, x.Long(4)))));
        t.Add(Nr.symlink, "symlink", "ss", x => Path(x, 0, a => Path(x, 1, b => Sys(Nr.symlink, a, b))));
        t.Add(Nr.symlinkat, "symlinkat", "sfs", x => Path(x, 0, a => At(x, x.Int(1), x.Str(2), (d, b) => Sys(Nr.symlinkat, a, d, b))));
        t.Add(Nr.chmod, "chmod", "so", x => Path(x, 0, p => Sys(Nr.chmod, p, x.Long(1))));
        t.Add(Nr.fchmod, "fchmod", "fo", x => Fd(x, 0, h => Sys(Nr.fchmod, h, x.Long(1))));
        t.Add(Nr.fchmodat, "fchmodat", "fso", x => At(x, x.Int(0), x.Str(1), (d, p) => Sys(Nr.fchmodat, d, p, x.Long(2))));
        t.Add(Nr.chown, "chown", "sdd", x => Path(x, 0, p => Sys(Nr.chown, p, x.Long(1), x.Long(2))));
        t.Add(Nr.lchown, "lchown", "sdd", x => Path(x, 0, p => Sys(Nr.lchown, p, x.Long(1), x.Long(2))));
        t.Add(Nr.fchown, "fchown", "fdd", x => Fd(x, 0, h => Sys(Nr.fchown, h, x.Long(1), x.Long(2))));
        t.Add(Nr.fchownat, "fchownat", "fsddx", x => At(x, x.Int(0), x.Str(1), (d, p) => Sys(Nr.fchownat, d, p, x.Long(2), x.Long(3), x.Long(4))));
        t.Add(Nr.utimensat, "utimensat", "fsxx", Utimensat);
        const int utime = 132, mknod = 133, utimes = 235, mknodat = 259, futimesat = 261;
        t.Add(utime, "utime", "sx", x => Path(x, 0, p => Times(x, 1, 16, t => Sys(utime, p, t))));
        t.Add(utimes, "utimes", "sx", x => Path(x, 0, p => Times(x, 1, 32, t => Sys(utimes, p, t))));
        t.Add(futimesat, "futimesat", "fsx", x => At(x, x.Int(0), x.Str(1), (d, p) => Times(x, 2, 32, t => Sys(futimesat, d, p, t))));
        t.Add(mknod, "mknod", "sox", x => Path(x, 0, p => Sys(mknod, p, x.Long(1), x.Long(2))));
        t.Add(mknodat, "mknodat", "fsox", x => At(x, x.Int(0), x.Str(1), (d, p) => Sys(mknodat, d, p, x.Long(2), x.Long(3))));
        t.Add(Nr.truncate, "truncate", "sd", x => Path(x, 0, p => Sys(Nr.truncate, p, x.Long(1))));
        t.Add(Nr.fallocate, "fallocate", "fddd", x => Fd(x, 0, h => Sys(Nr.fallocate, h, x.Long(1), x.Long(2), x.Long(3))));
        t.Add(Nr.fchdir, "fchdir", "f", x => Fd(x, 0, h => Sys(Nr.fchdir, h)));
        t.Add(Nr.sync, "sync", "", _ => Sys(Nr.sync));
        t.Add(Nr.syncfs, "syncfs", "f", x => Fd(x, 0, h => Sys(Nr.syncfs, h)));
        t.Add(Nr.flock, "flock", "fd", x => Fd(x, 0, h => Flock(x, h)));
    }

    static int Len(SyscallContext x, int n) => (int)Math.Min(x.A[n], 65536);

    static long Fd(SyscallContext x, int arg, Func<int, long> f)
    {
        int h = x.P.Fds.Host(x.Long(arg));
        return h < 0 ? h : f(h);
    }

    static long Path(SyscallContext x, int arg, Func<nint, long> f) => Buffers.WithPath(x.Str(arg), f);

    /// <summary>A dirfd and path pair: AT_FDCWD and absolute paths pass through, other descriptors are translated.</summary>
    public static long At(SyscallContext x, int dirfd, string path, Func<long, nint, long> f)
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
        if (path == "/proc/self/exe") path = x.P.ExePath;
        return Buffers.WithPath(path, p => f(d, p));
    }

    static long Xattr(SyscallContext x, int nr, bool follow)
    {
        _ = follow;
        return Path(x, 0, p => Buffers.WithPath(x.Str(1), n => Buffers.WithOutput(x, x.A[2], Len(x, 3), v => Sys(nr, p, n, x.A[2] == 0 ? 0 : v, x.Long(3)))));
    }

    /// <summary>The name (argument 1) and value (argument 2, size in argument 3) of an xattr setter, as host pointers.</summary>
    static long SetXattr(SyscallContext x, Func<(nint Name, nint Value), long> call)
    {
        const ulong XATTR_SIZE_MAX = 65536;
        if (x.A[3] > XATTR_SIZE_MAX) return -7; // E2BIG
        return Buffers.WithPath(x.Str(1), n => Buffers.WithInput(x, x.A[2], (int)x.A[3], v => call((n, x.A[2] == 0 ? 0 : v))));
    }

    /// <summary>
    /// chroot: the emulator's own root cannot move (it loads its code, the host's dynamic linker and its
    /// components through it), so only a chroot to the root directory itself succeeds. Any other directory
    /// is checked as the kernel would (ENOENT, ENOTDIR, EACCES) and then refused with EPERM and a message.
    /// </summary>
    static long Chroot(SyscallContext x)
    {
        string path = x.Str(0);
        uint mode = 0;
        long check = Buffers.WithPath(path, p =>
        {
            unsafe
            {
                byte* st = stackalloc byte[144];
                long r = Sys(Nr.newfstatat, AT_FDCWD, p, (nint)st, 0);
                mode = *(uint*)(st + 24);
                return r;
            }
        });
        if (check < 0) return check;
        if ((mode & 0xf000) != 0x4000) return -Errno.ENOTDIR;
        check = Buffers.WithPath(path, p => Sys(Nr.faccessat, AT_FDCWD, p, 1 /* X_OK */));
        if (check < 0) return check;
        string full;
        try { full = System.IO.Path.GetFullPath(new DirectoryInfo(path).ResolveLinkTarget(true)?.FullName ?? path); }
        catch (IOException) { full = path; }
        if (full == "/") return 0;
        x.P.Options.Diagnostics.WriteLine($"legoemu: chroot to {path} is not supported (the emulator's own root cannot move); the guest gets EPERM");
        return -Errno.EPERM;
    }

    /// <summary>An optional times argument (struct utimbuf or two timevals) as a host pointer; NULL means now.</summary>
    static long Times(SyscallContext x, int arg, int size, Func<nint, long> f) => x.A[arg] == 0 ? f(0) : Buffers.WithInput(x, x.A[arg], size, f);

    static long Utimensat(SyscallContext x)
    {
        // A NULL path means "the file dirfd refers to" (futimens); a NULL times array means "now".
        long Times(Func<nint, long> f) => x.A[2] == 0 ? f(0) : Buffers.WithInput(x, x.A[2], 32, f);
        if (x.A[1] == 0) return Fd(x, 0, h => Times(t => Sys(Nr.utimensat, h, 0, t, x.Long(3))));
        return At(x, x.Int(0), x.Str(1), (d, p) => Times(t => Sys(Nr.utimensat, d, p, t, x.Long(3))));
    }
}
