using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// The process's own descriptor directories (/proc/self/fd, /proc/PID/fd, /proc/thread-self/fd, /dev/fd and the
/// fdinfo directories beside them). Opened, they are the host's directories, which list the host's descriptors: the
/// emulator's runtime has dozens open, and the guest's numbers are not the host's. Their listing is made from the
/// guest's table instead, at the kernel's positions (0 ".", 1 "..", N + 2 for descriptor N, so lseek, telldir and
/// seekdir mean what they do there), and a name looked up relative to such a directory is the guest's descriptor.
/// The process's task directory is listed the same way from its live guest threads (position TID + 2).
/// </summary>
static class OwnFdListing
{
    const long PROC_SUPER_MAGIC = 0x9fa0;
    const byte DT_DIR = 4, DT_REG = 8, DT_LNK = 10;

    enum Listing { None, Fds, FdInfo, Tasks }

    /// <summary>Whether host descriptor <paramref name="h"/> is one of this process's descriptor directories; <paramref name="info"/>: fdinfo.</summary>
    public static bool Is(GuestProcess p, int h, out bool info)
    {
        var l = ListingOf(p, h);
        info = l == Listing.FdInfo;
        return l is Listing.Fds or Listing.FdInfo;
    }

    static unsafe Listing ListingOf(GuestProcess p, int h)
    {
        long* st = stackalloc long[16]; // struct statfs, 120 bytes; f_type first
        if (Sys(Nr.fstatfs, h, (nint)st) < 0 || st[0] != PROC_SUPER_MAGIC) return Listing.None;
        // /proc/PID/fd, /proc/PID/fdinfo, or the same under /proc/PID/task/TID/; /proc/PID/task
        var target = Buffers.FdTarget(h).AsSpan();
        var own = $"/proc/{p.Pid}/";
        if (!target.StartsWith(own, StringComparison.Ordinal)) return Listing.None;
        var rest = target[own.Length..];
        if (rest.SequenceEqual("task")) return Listing.Tasks;
        if (rest.StartsWith("task/", StringComparison.Ordinal))
        {
            rest = rest[5..];
            int digits = 0;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits])) digits++;
            if (digits == 0 || digits == rest.Length || rest[digits] != '/') return Listing.None;
            rest = rest[(digits + 1)..];
        }
        return rest.SequenceEqual("fdinfo") ? Listing.FdInfo : rest.SequenceEqual("fd") ? Listing.Fds : Listing.None;
    }

    /// <summary>
    /// getdents64 of host directory <paramref name="h"/> into <paramref name="buf"/>: the guest's descriptors when it is
    /// one of its descriptor directories, its threads when it is its task directory, else what the host lists.
    /// </summary>
    public static unsafe long GetDents64(GuestProcess p, int h, nint buf, int len)
    {
        var listing = ListingOf(p, h);
        if (listing == Listing.None) return Sys(Nr.getdents64, h, buf, len);
        long pos = Sys(Nr.lseek, h, 0, 1 /* SEEK_CUR */);
        if (pos < 0) return pos;
        byte* b = (byte*)buf;
        int o = 0;
        Span<byte> name = stackalloc byte[12];
        while (true)
        {
            int nameLen;
            byte type;
            long next;
            ulong ino;
            if (pos == 0 || pos == 1)
            {
                nameLen = (int)pos + 1;
                name[0] = name[1] = (byte)'.';
                type = DT_DIR;
                next = pos + 1;
                ino = 1;
            }
            else
            {
                int n = listing == Listing.Tasks ? NextThread(p, pos - 2) : NextOpen(p, pos - 2);
                if (n < 0) break;
                n.TryFormat(name, out nameLen);
                type = listing switch { Listing.Tasks => DT_DIR, Listing.FdInfo => DT_REG, _ => DT_LNK };
                next = n + 3L;
                ino = (ulong)n + 2;
            }
            // struct linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name (NUL-terminated), padded to 8 bytes
            int reclen = (19 + nameLen + 1 + 7) & ~7;
            if (o + reclen > len)
            {
                if (o == 0) return -Errno.EINVAL;
                break;
            }
            new Span<byte>(b + o, reclen).Clear();
            *(ulong*)(b + o) = ino;
            *(long*)(b + o + 8) = next;
            *(ushort*)(b + o + 16) = (ushort)reclen;
            b[o + 18] = type;
            name[..nameLen].CopyTo(new Span<byte>(b + o + 19, nameLen));
            o += reclen;
            pos = next;
        }
        Sys(Nr.lseek, h, pos, 0 /* SEEK_SET */);
        return o;
    }

    /// <summary>The lowest open guest descriptor at or above <paramref name="from"/>, or -1.</summary>
    static int NextOpen(GuestProcess p, long from)
    {
        for (long fd = Math.Max(from, 0); fd < FdTable.MaxFds; fd++)
            if (p.Fds.IsOpen(fd)) return (int)fd;
        return -1;
    }

    /// <summary>The lowest live guest thread id at or above <paramref name="from"/>, or -1.</summary>
    static int NextThread(GuestProcess p, long from)
    {
        int best = -1;
        foreach (var t in p.Threads)
            if (!t.Exited && t.Tid >= from && (best < 0 || t.Tid < best)) best = t.Tid;
        return best;
    }

    /// <summary>
    /// A path relative to host directory <paramref name="h"/> that names a guest descriptor in one of the process's
    /// descriptor directories, as the absolute path of the host's descriptor, or a guest thread in its task directory,
    /// as <see cref="FdPaths.Resolve"/> names it; else null.
    /// </summary>
    public static string? Relative(GuestProcess p, int h, string path)
    {
        if (path.Length == 0 || !char.IsAsciiDigit(path[0])) return null;
        return ListingOf(p, h) switch
        {
            Listing.Fds => FdPaths.Resolve(p, "/proc/self/fd/" + path),
            Listing.FdInfo => FdPaths.Resolve(p, "/proc/self/fdinfo/" + path),
            Listing.Tasks => FdPaths.Resolve(p, "/proc/self/task/" + path),
            _ => null,
        };
    }
}
