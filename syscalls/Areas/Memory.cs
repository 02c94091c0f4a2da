using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>The address space: brk, mmap (anonymous and file-backed private), munmap, mprotect, mremap, madvise.</summary>
static class Memory
{
    const int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_GROWSDOWN = 0x100,
        MAP_FIXED_NOREPLACE = 0x100000;
    const int MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.brk, "brk", "x", Brk);
        t.Add(Nr.mmap, "mmap", "xdxxfx", Mmap);
        t.Add(Nr.munmap, "munmap", "xd", Munmap);
        t.Add(Nr.mprotect, "mprotect", "xdx", Mprotect);
        t.Add(Nr.mremap, "mremap", "xddxx", Mremap);
        t.Add(Nr.madvise, "madvise", "xdd", Madvise);
        t.Add(Nr.msync, "msync", "xdx", Msync);
        t.Add(Nr.mincore, "mincore", "xdx", Mincore);
    }

    static Protection Prot(ulong p) => (Protection)(p & 7);

    /// <summary>brk: growth past RLIMIT_DATA, RLIMIT_AS or the overcommit rule leaves the break where it was.</summary>
    static long Brk(SyscallContext x)
    {
        ulong current = x.P.Space.Brk(0);
        ulong want = x.A[0];
        if (want > current && PageMath.Up(want) > PageMath.Up(current)
            && x.P.CheckMapLimits(PageMath.Up(want) - PageMath.Up(current), privateWritable: true, dataSegment: true) < 0)
            return (long)current;
        return (long)x.P.Space.Brk(want);
    }

    static long Mmap(SyscallContext x)
    {
        ulong addr = x.A[0], len = x.A[1];
        int flags = (int)x.A[3];
        int fd = (int)x.A[4];
        long off = (long)x.A[5];
        var prot = Prot(x.A[2]);
        int type = flags & 3;
        if (len == 0 || (type != MAP_SHARED && type != MAP_PRIVATE) || (off & 0xfff) != 0) return -Errno.EINVAL;
        if (len > VmaSet.TaskSize) return -Errno.ENOMEM;
        const int MAP_NORESERVE = 0x4000;
        long limits = x.P.CheckMapLimits(PageMath.Up(len),
            type == MAP_PRIVATE && (prot & Protection.Write) != 0 && (flags & MAP_NORESERVE) == 0);
        if (limits < 0) return limits;
        var mf = (type == MAP_SHARED ? MapFlags.Shared : MapFlags.Private)
                 | ((flags & MAP_FIXED) != 0 ? MapFlags.Fixed : 0)
                 | ((flags & MAP_FIXED_NOREPLACE) != 0 ? MapFlags.FixedNoReplace : 0)
                 | ((flags & MAP_GROWSDOWN) != 0 ? MapFlags.GrowsDown : 0);
        if ((flags & MAP_ANONYMOUS) != 0)
        {
            long r = x.P.Space.Map(addr, len, prot, mf | MapFlags.Anonymous);
            if (r < 0) return r;
            // Only a fixed mapping can replace code: any other lands where nothing was mapped (and whatever
            // was decoded there went when it was unmapped). Scanning the decoded blocks costs per mmap.
            if ((mf & (MapFlags.Fixed | MapFlags.FixedNoReplace)) != 0) x.P.Blocks.Invalidate((ulong)r, (ulong)r + len);
            // Shared anonymous memory is an object of its own, which a fork hands to the child as it is.
            if (type == MAP_SHARED && Bind(x, (ulong)r, len, x.P.NewAnonymousObjectKey(), 0) is long err and < 0) return err;
            return r;
        }

        int h = x.P.Fds.Host(fd);
        if (h < 0) return h;
        // The open file's access mode decides, as in the kernel: it must be readable, and writable
        // through a shared writable mapping.
        long mode = Sys(Nr.fcntl, h, 3 /* F_GETFL */);
        if (mode < 0) return mode;
        if ((mode & 0x200000) != 0) return -Errno.EBADF; // O_PATH
        if ((mode & 3) == 1 || (type == MAP_SHARED && (prot & Protection.Write) != 0 && (mode & 3) != 2)) return -Errno.EACCES;
        string name = MappingName(Buffers.FdTarget(h));
        string? key = null;
        if (type == MAP_SHARED)
        {
            // Every shared mapping of one file (or memfd) shows the same frames: the object is named by the inode.
            var (dev, ino) = FileId(h);
            key = $"file:{dev}:{ino}";
        }
        long m = x.P.Space.Map(addr, len, prot, mf, name);
        if (m < 0) return m;
        ulong start = (ulong)m;
        if ((mf & (MapFlags.Fixed | MapFlags.FixedNoReplace)) != 0) x.P.Blocks.Invalidate(start, start + len);
        if (key != null && Bind(x, start, len, key, (ulong)off) is long bindErr and < 0) return bindErr;
        // A private file mapping shows the file's pages: read when first touched, through the process's page cache, when
        // the file can be told apart from other versions of itself, else copied now.
        if (key == null && PrivatePages(x, h, start, len, off)) return m;
        var buf = Buffers.Rent(Buffers.Chunk);
        try
        {
            ulong done = 0;
            while (done < len)
            {
                int n = (int)Math.Min(len - done, (ulong)Buffers.Chunk);
                long r;
                unsafe { fixed (byte* p = buf) r = Sys(Nr.pread64, h, (nint)p, n, off + (long)done); }
                if (r < 0) { x.P.Space.Unmap(start, len); return r; }
                if (r == 0) break;
                // A shared file object keeps the pages some mapping already holds: they may be newer than the file.
                x.P.Space.Poke(start + done, buf.AsSpan(0, (int)r), onlyAbsent: key != null);
                done += (ulong)r;
                if (r < n) break;
            }
        }
        finally { Buffers.Return(buf); }
        if (type == MAP_SHARED && (prot & Protection.Write) != 0)
        {
            // Writes reach the file on msync, munmap and exit: the mapping keeps its own host descriptor.
            long dupFd = Sys(Nr.fcntl, h, 1030 /* F_DUPFD_CLOEXEC */, 3);
            if (dupFd < 0) { x.P.Space.Unmap(start, len); return dupFd; }
            x.P.SharedFileMappings.Add(new SharedFileMapping(start, start + PageMath.Up(len), (int)dupFd, off));
        }
        return m;
    }

    /// <summary>
    /// Backs a private mapping of a regular file with the file itself (<see cref="FileBacking"/>): each page is read when
    /// first touched, at most once per version of the file in this process (<see cref="FilePages"/>), and shared until
    /// written. Pages past the end of the file stay zeros. False when the file is not a regular one (a device, a pipe)
    /// or cannot be read that way: the caller copies it as it reads.
    /// </summary>
    static unsafe bool PrivatePages(SyscallContext x, int h, ulong start, ulong len, long off)
    {
        byte* st = stackalloc byte[144];
        if (Sys(Nr.fstat, h, (nint)st) < 0) return false;
        const uint S_IFMT = 0xf000, S_IFREG = 0x8000;
        if ((*(uint*)(st + 24) & S_IFMT) != S_IFREG) return false;
        // struct stat: st_dev 0, st_ino 8, st_size 48, st_mtim 88, st_ctim 104.
        var version = new FileVersion(*(ulong*)st, *(ulong*)(st + 8), *(long*)(st + 48),
            *(long*)(st + 88) * 1_000_000_000 + *(long*)(st + 96), *(long*)(st + 104) * 1_000_000_000 + *(long*)(st + 112));
        ulong inFile = PageMath.Up((ulong)version.Size);
        if ((ulong)off >= inFile) return true; // nothing of the file to show
        var backing = FileBacking.Shared(version, () =>
        {
            // A descriptor of the mapping's own: the guest may close its descriptor, or replace the path, meanwhile.
            long dup = Sys(Nr.fcntl, h, 1030 /* F_DUPFD_CLOEXEC */, 3);
            return dup < 0 ? null : new Microsoft.Win32.SafeHandles.SafeFileHandle((nint)dup, ownsHandle: true);
        });
        if (backing == null) return false;
        x.P.Space.BackWithFile(start, Math.Min(PageMath.Up(len), inFile - (ulong)off), backing, (ulong)off);
        return true;
    }

    /// <summary>Writes the bytes of writable MAP_SHARED file mappings overlapping [start, end) to their files.</summary>
    public static void SyncShared(GuestProcess p, ulong start, ulong end, bool release)
    {
        var buf = Buffers.Rent(Buffers.Chunk);
        try
        {
            foreach (var sm in p.SharedFileMappings.ToList())
            {
                ulong s = Math.Max(sm.Start, start), e = Math.Min(sm.End, end);
                if (s >= e) continue;
                // The file size bounds what a shared mapping writes back (pages past EOF stay in memory).
                long size = FileSize(sm.HostFd);
                for (ulong a = s; a < e; a += (ulong)Buffers.Chunk)
                {
                    long fileOff = sm.FileOffset + (long)(a - sm.Start);
                    long n = Math.Min((long)Math.Min(e - a, (ulong)Buffers.Chunk), size - fileOff);
                    if (n <= 0) break;
                    p.View.ReadBytes(a, buf.AsSpan(0, (int)n));
                    unsafe { fixed (byte* b = buf) Sys(Nr.pwrite64, sm.HostFd, (nint)b, n, fileOff); }
                }
                if (release && s == sm.Start && e == sm.End)
                {
                    Sys(Nr.close, sm.HostFd);
                    p.SharedFileMappings.Remove(sm);
                }
            }
        }
        finally { Buffers.Return(buf); }
    }

    /// <summary>Binds a fresh MAP_SHARED mapping to its shared object; on failure the mapping goes again.</summary>
    static long Bind(SyscallContext x, ulong start, ulong len, string key, ulong offset)
    {
        long r = x.P.Space.Share(start, len, key, offset);
        if (r < 0)
        {
            x.P.Space.Unmap(start, len);
            return r;
        }
        x.P.EnsureSharedCoherence();
        return 0;
    }

    static unsafe (ulong Dev, ulong Ino) FileId(int h)
    {
        byte* st = stackalloc byte[144];
        return Sys(Nr.fstat, h, (nint)st) < 0 ? (0, (ulong)h) : (*(ulong*)st, *(ulong*)(st + 8));
    }

    static unsafe long FileSize(int h)
    {
        byte* st = stackalloc byte[144];
        return Sys(Nr.fstat, h, (nint)st) < 0 ? 0 : *(long*)(st + 48);
    }

    /// <summary>
    /// A mapping's name as the memory component keeps it, which must be UTF-8 (its protocol checks): a byte of a
    /// file name that is not UTF-8 (a lone surrogate, see GuestText) is kept as NUL and the byte, NUL being the one
    /// character no path holds. <see cref="ShownName"/> undoes it.
    /// </summary>
    internal static string MappingName(string path)
    {
        if (!path.Any(char.IsSurrogate)) return path;
        var sb = new System.Text.StringBuilder(path.Length + 8);
        foreach (char c in path)
            if (c >= 0xDC80 && c <= 0xDCFF) sb.Append('\0').Append((char)(c - 0xDC00));
            else sb.Append(c);
        return sb.ToString();
    }

    /// <summary>The name a mapping shows, its file name's bytes as they are (see <see cref="MappingName"/>).</summary>
    internal static string ShownName(string name)
    {
        if (!name.Contains('\0')) return name;
        var sb = new System.Text.StringBuilder(name.Length);
        for (int i = 0; i < name.Length; i++)
            if (name[i] == '\0' && i + 1 < name.Length) sb.Append((char)(0xDC00 + name[++i]));
            else sb.Append(name[i]);
        return sb.ToString();
    }

    static long Munmap(SyscallContext x)
    {
        if (x.P.SharedFileMappings.Count > 0 && PageMath.Aligned(x.A[0]) && x.A[1] != 0)
            SyncShared(x.P, x.A[0], PageMath.Up(x.A[0] + x.A[1]), release: true);
        long r = x.P.Space.Unmap(x.A[0], x.A[1]);
        if (r == 0) x.P.Blocks.Invalidate(x.A[0], x.A[0] + x.A[1]);
        return r;
    }

    static long Mprotect(SyscallContext x)
    {
        const ulong PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;
        // The kernel refuses unknown protection bits rather than dropping them.
        if ((x.A[2] & ~(7UL | PROT_GROWSDOWN | PROT_GROWSUP)) != 0 || (x.A[2] & (PROT_GROWSDOWN | PROT_GROWSUP)) == (PROT_GROWSDOWN | PROT_GROWSUP)) return -Errno.EINVAL;
        long r = x.P.Space.Protect(x.A[0], x.A[1], Prot(x.A[2]));
        // Decoded code stays valid while it stays executable (stores into it drop it themselves).
        if (r == 0 && (Prot(x.A[2]) & Protection.Exec) == 0) x.P.Blocks.Invalidate(x.A[0], x.A[0] + x.A[1]);
        return r;
    }

    static long Mremap(SyscallContext x)
    {
        ulong old = x.A[0], oldLen = PageMath.Up(x.A[1]), newLen = PageMath.Up(x.A[2]);
        int flags = (int)x.A[3];
        if (!PageMath.Aligned(old) || newLen == 0 || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) != 0) return -Errno.EINVAL;
        bool fixedTarget = (flags & MREMAP_FIXED) != 0;
        ulong target = x.A[4];
        if (fixedTarget && ((flags & MREMAP_MAYMOVE) == 0 || !PageMath.Aligned(target) || (target < old + oldLen && old < target + newLen) || target + newLen > VmaSet.TaskSize))
            return -Errno.EINVAL;
        var vmas = x.P.Space.Vmas(old, ulong.MaxValue);
        var vma = vmas.FirstOrDefault(v => v.Contains(old));
        if (vma == null || old + oldLen > vma.End) return -Errno.EFAULT;
        // Where the object of a shared mapping continues: a moved or grown mapping shows the same frames.
        string? key = vma.Object?.Key;
        ulong objectOffset = vma.ObjectOffset + (old - vma.Start);
        if (oldLen == 0)
        {
            // old_len 0 asks for a second mapping of the same shared pages; private ones have none to share.
            if ((vma.Flags & MapFlags.Shared) == 0 || key == null || (flags & MREMAP_MAYMOVE) == 0) return -Errno.EINVAL;
            long view = x.P.Space.Map(fixedTarget ? target : 0, newLen, vma.Prot, (vma.Flags & (MapFlags.Shared | MapFlags.Anonymous)) | (fixedTarget ? MapFlags.Fixed : 0), vma.Name);
            if (view < 0) return view;
            x.P.Blocks.Invalidate((ulong)view, (ulong)view + newLen);
            return Bind(x, (ulong)view, newLen, key, objectOffset) is long e and < 0 ? e : view;
        }
        if (!fixedTarget && newLen <= oldLen)
        {
            if (newLen < oldLen) x.P.Space.Unmap(old + newLen, oldLen - newLen);
            return (long)old;
        }
        if (!fixedTarget)
        {
            bool canGrow = !vmas.Any(v => v.Start < old + newLen && v.End > old + oldLen && v != vma) && old + newLen <= VmaSet.TaskSize;
            if (canGrow && vma.End == old + oldLen)
            {
                long r = x.P.Space.Map(old + oldLen, newLen - oldLen, vma.Prot, (vma.Flags & ~MapFlags.FixedNoReplace) | MapFlags.Fixed, vma.Name);
                if (r >= 0 && key != null && Bind(x, old + oldLen, newLen - oldLen, key, objectOffset + oldLen) is long e and < 0) return e;
                if (r >= 0) return (long)old;
            }
            if ((flags & MREMAP_MAYMOVE) == 0) return -Errno.ENOMEM;
        }
        var placement = vma.Flags & (MapFlags.Private | MapFlags.Shared | MapFlags.Anonymous);
        if (key != null)
        {
            // A shared mapping moves without copying: the new range shows the same object.
            x.P.Space.WriteBackShared(old, old + oldLen);
            long moved = x.P.Space.Map(fixedTarget ? target : 0, newLen, vma.Prot, fixedTarget ? placement | MapFlags.Fixed : placement, vma.Name);
            if (moved < 0) return moved;
            x.P.Blocks.Invalidate((ulong)moved, (ulong)moved + newLen);
            if (Bind(x, (ulong)moved, newLen, key, objectOffset) is long e and < 0) return e;
            MoveSharedFileMapping(x.P, old, oldLen, (ulong)moved, newLen);
            x.P.Space.Unmap(old, oldLen);
            x.P.Blocks.Invalidate(old, old + oldLen);
            return moved;
        }
        long n = x.P.Space.Map(fixedTarget ? target : 0, newLen, vma.Prot | Protection.Write, fixedTarget ? placement | MapFlags.Fixed : placement, vma.Name);
        if (n < 0) return n;
        x.P.Blocks.Invalidate((ulong)n, (ulong)n + newLen);
        // Move the contents through the cache so dirty lines are carried over.
        ulong keep = Math.Min(oldLen, newLen);
        var buf = Buffers.Rent(Buffers.Chunk);
        try
        {
            for (ulong o = 0; o < keep; o += (ulong)Buffers.Chunk)
            {
                int k = (int)Math.Min(keep - o, (ulong)Buffers.Chunk);
                x.Mem.ReadBytes(old + o, buf.AsSpan(0, k));
                x.Mem.WriteBytes((ulong)n + o, buf.AsSpan(0, k));
            }
        }
        finally { Buffers.Return(buf); }
        if ((vma.Prot & Protection.Write) == 0) x.P.Space.Protect((ulong)n, newLen, vma.Prot);
        x.P.Space.Unmap(old, oldLen);
        x.P.Blocks.Invalidate(old, old + oldLen);
        return n;
    }

    /// <summary>A moved shared file mapping is written back from its new place.</summary>
    static void MoveSharedFileMapping(GuestProcess p, ulong old, ulong oldLen, ulong moved, ulong newLen)
    {
        int i = p.SharedFileMappings.FindIndex(sm => sm.Start == old);
        if (i < 0) return;
        var sm = p.SharedFileMappings[i];
        p.SharedFileMappings[i] = sm with { Start = moved, End = moved + Math.Min(newLen, sm.End - sm.Start) };
    }

    /// <summary>msync: writable shared file mappings in the range are written to their files; private ones have nothing to write.</summary>
    static long Msync(SyscallContext x)
    {
        const int MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;
        int flags = x.Int(2);
        if (!PageMath.Aligned(x.A[0]) || (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) != 0 || (flags & (MS_ASYNC | MS_SYNC)) == (MS_ASYNC | MS_SYNC)) return -Errno.EINVAL;
        ulong end = PageMath.Up(x.A[0] + x.A[1]);
        if (!FullyMapped(x, x.A[0], end)) return -Errno.ENOMEM;
        if (x.P.SharedFileMappings.Count > 0) SyncShared(x.P, x.A[0], end, release: false);
        return 0;
    }

    /// <summary>mincore: every mapped page counts as resident, since the memory component always holds it.</summary>
    static long Mincore(SyscallContext x)
    {
        if (!PageMath.Aligned(x.A[0])) return -Errno.EINVAL;
        ulong end = PageMath.Up(x.A[0] + x.A[1]);
        if (!FullyMapped(x, x.A[0], end)) return -Errno.ENOMEM;
        int pages = (int)((end - x.A[0]) >> PageMath.PageShift);
        var vec = new byte[pages];
        Array.Fill(vec, (byte)1);
        x.Mem.WriteBytes(x.A[2], vec);
        return 0;
    }

    static bool FullyMapped(SyscallContext x, ulong start, ulong end) => VmaSet.Covers(x.P.Space.Vmas(start, end), start, end);

    /// <summary>
    /// madvise: MADV_DONTNEED makes private anonymous pages read back as zeros; the other known advice
    /// is only a hint here. Unknown advice is EINVAL, and a range with unmapped pages is ENOMEM after the
    /// mapped ones were advised, as the kernel does.
    /// </summary>
    static long Madvise(SyscallContext x)
    {
        const int MADV_DONTNEED = 4;
        int advice = (int)x.A[2];
        bool known = advice is >= 0 and <= 4 or >= 8 and <= 25 or >= 100 and <= 103;
        if (!PageMath.Aligned(x.A[0]) || !known) return -Errno.EINVAL;
        ulong start = x.A[0], end = PageMath.Up(x.A[0] + x.A[1]);
        if (end < start) return -Errno.EINVAL;
        if (end == start) return 0;
        if (advice == MADV_DONTNEED)
        {
            // Private anonymous pages read back as zeros afterwards: remap them fresh.
            foreach (var v in x.P.Space.Vmas(start, end))
            {
                if ((v.Flags & MapFlags.Anonymous) == 0 || (v.Flags & MapFlags.Shared) != 0) continue;
                ulong s = Math.Max(v.Start, start), e = Math.Min(v.End, end);
                x.P.Space.Map(s, e - s, v.Prot, v.Flags | MapFlags.Fixed, v.Name);
            }
        }
        return FullyMapped(x, start, end) ? 0 : -Errno.ENOMEM;
    }
}
