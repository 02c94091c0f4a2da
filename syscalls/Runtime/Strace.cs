using System.Text;
using LegoEmu.Mem;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>Formats system calls strace-style: <c>write(1, "hi\n", 3) = 3</c>.</summary>
public static class Strace
{
    const int MaxShown = 32;

    public static string Format(SyscallContext ctx, SyscallTable table, long result)
    {
        int nr = ctx.Number;
        string name = (uint)nr < SyscallTable.Size && table.Names[nr] != null ? table.Names[nr]! : $"syscall_{nr}";
        string sig = (uint)nr < SyscallTable.Size ? table.Signatures[nr] ?? "xxxxxx" : "xxxxxx";
        var sb = new StringBuilder(name).Append('(');
        for (int k = 0; k < sig.Length; k++)
        {
            if (k > 0) sb.Append(", ");
            ulong a = ctx.A[k];
            switch (sig[k])
            {
                case 'd': sb.Append((long)a); break;
                case 'f': sb.Append((int)a); break;
                case 'o': sb.Append("0").Append(Convert.ToString((long)a, 8)); break;
                case 's': sb.Append(Quote(ctx, a, -1)); break;
                case 'b': sb.Append(Quote(ctx, a, k + 1 < 6 ? (long)ctx.A[k + 1] : 0)); break;
                case 'B': sb.Append(result >= 0 ? Quote(ctx, a, result) : Hex(a)); break;
                default: sb.Append(Hex(a)); break;
            }
        }
        sb.Append(") = ");
        if (result < 0 && result > -4096) sb.Append("-1 ").Append(ErrnoName((int)-result));
        else if (result > 0xffff || result < 0) sb.Append("0x").Append(result.ToString("x"));
        else sb.Append(result);
        return sb.ToString();
    }

    static string Hex(ulong a) => a == 0 ? "NULL" : "0x" + a.ToString("x");

    static string Quote(SyscallContext ctx, ulong addr, long len)
    {
        if (addr == 0) return "NULL";
        try
        {
            byte[] data;
            bool more = false;
            if (len < 0)
            {
                data = ctx.Mem.ReadCString(addr, 4096);
            }
            else
            {
                int n = (int)Math.Min(len, MaxShown);
                more = len > MaxShown;
                data = new byte[n];
                ctx.Mem.ReadBytes(addr, data);
            }
            var sb = new StringBuilder("\"");
            foreach (byte b in data)
            {
                sb.Append(b switch
                {
                    (byte)'\n' => "\\n",
                    (byte)'\t' => "\\t",
                    (byte)'\r' => "\\r",
                    (byte)'"' => "\\\"",
                    (byte)'\\' => "\\\\",
                    >= 32 and < 127 => ((char)b).ToString(),
                    _ => $"\\x{b:x2}",
                });
            }
            sb.Append('"');
            if (more) sb.Append("...");
            return sb.ToString();
        }
        catch (MemoryFault)
        {
            return Hex(addr);
        }
    }

    static readonly string[] ErrnoNames =
    {
        "0", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD", "EAGAIN",
        "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR", "EISDIR", "EINVAL",
        "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS", "EMLINK", "EPIPE", "EDOM",
        "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY", "ELOOP",
    };

    public static string ErrnoName(int e) => e > 0 && e < ErrnoNames.Length ? ErrnoNames[e] : e == 512 ? "ERESTARTSYS (restarted after the signal handler)" : $"E{e}";
}
