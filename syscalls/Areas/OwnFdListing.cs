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
/// </summary>
static class OwnFdListing
{
    const long PROC_SUPER_MAGIC = 0x9fa0;
    const byte DT_DIR = 4, DT_REG = 8, DT_LNK = 10;

    /// <summary>Whether host descriptor <paramref name="h"/> is one of this process's descriptor directories; <paramref name="info"/>: fdinfo.</summary>
    public static unsafe bool Is(GuestProcess p, int h, out bool info)
    {
        info = false;
        long* st = stackalloc long[16]; // struct statfs, 120 bytes; f_type first
        if (Sys(Nr.fstatfs, h, (nint)st) < 0 || st[0] != PROC_SUPER_MAGIC) return false;
        // /proc/PID/fd, /proc/PID/fdinfo, or the same under /proc/PID/task/TID/
        var target = Buffers.FdTarget(h).AsSpan();
        var own = $"/proc/{p.Pid}/";
        if (!target.StartsWith(own, StringComparison.Ordinal)) return false;
        var rest = target[own.Length..];
        if (rest.StartsWith("task/", StringComparison.Ordinal))
        {
            rest = rest[5..];
            int digits = 0;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits])) digits++;
            if (digits == 0 || digits == rest.Length || rest[digits] != '/') return false;
            rest = rest[(digits + 1)..];
        }
        info = rest.SequenceEqual("fdinfo");
        return info || rest.SequenceEqual("fd");
    }

    /// <summary>
    /// getdents64 of host directory <paramref name="h"/> into <paramref name="buf"/>: the guest's descriptors when it is
    /// one of its descriptor directories, else what the host lists.
    /// </summary>
    public static unsafe long GetDents64(GuestProcess p, int h, nint buf, int len)
    {
        if (!Is(p, h, out bool info)) return Sys(Nr.getdents64, h, buf, len);
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
                int fd = NextOpen(p, pos - 2);
                if (fd < 0) break;
                fd.TryFormat(name, out nameLen);
                type = info ? DT_REG : DT_LNK;
                next = fd + 3L;
                ino = (ulong)fd + 2;
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

    /// <summary>
    /// A path relative to host directory <paramref name="h"/> that names a guest descriptor in one of the process's
    /// descriptor directories, as the absolute path of the host's descriptor; else null.
    /// </summary>
    public static string? Relative(GuestProcess p, int h, string path)
    {
        if (path.Length == 0 || !char.IsAsciiDigit(path[0]) || !Is(p, h, out bool info)) return null;
        return FdPaths.Resolve(p, (info ? "/proc/self/fdinfo/" : "/proc/self/fd/") + path);
    }
}
