using System.Buffers;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Syscalls.Areas;

/// <summary>Host bounce buffers for moving data between guest memory (through the cache) and host calls.</summary>
static unsafe class Buffers
{
    /// <summary>The largest single host transfer; longer requests become short reads, which POSIX allows.</summary>
    public const int Chunk = 1 << 20;

    public static byte[] Rent(long n) => ArrayPool<byte>.Shared.Rent((int)Math.Clamp(n, 1, Chunk));
    public static void Return(byte[] b) => ArrayPool<byte>.Shared.Return(b);

    /// <summary>Calls <paramref name="call"/> with a pinned host copy of guest bytes [addr, addr+len).</summary>
    public static long WithInput(SyscallContext x, ulong addr, int len, Func<nint, long> call)
    {
        var buf = Rent(len);
        try
        {
            x.Mem.ReadBytes(addr, buf.AsSpan(0, len));
            fixed (byte* p = buf) return call((nint)p);
        }
        finally { Return(buf); }
    }

    /// <summary>Gives <paramref name="call"/> a zeroed host buffer of <paramref name="len"/> bytes and copies
    /// back <c>copyBack(result)</c> bytes to the guest when the call succeeds.</summary>
    public static long WithOutput(SyscallContext x, ulong addr, int len, Func<nint, long> call, Func<long, int> copyBack)
    {
        var buf = Rent(len);
        try
        {
            Array.Clear(buf, 0, len);
            long r;
            fixed (byte* p = buf) r = call((nint)p);
            if (r >= 0 && addr != 0)
            {
                int n = Math.Min(copyBack(r), len);
                if (n > 0) x.Mem.WriteBytes(addr, buf.AsSpan(0, n));
            }
            return r;
        }
        finally { Return(buf); }
    }

    /// <summary>Output buffer whose valid length is the call's result (read, getcwd, readlink).</summary>
    public static long WithOutput(SyscallContext x, ulong addr, int len, Func<nint, long> call) =>
        WithOutput(x, addr, len, call, r => (int)r);

    /// <summary>Fixed-size output structure (stat, timespec, utsname …).</summary>
    public static long WithStruct(SyscallContext x, ulong addr, int size, Func<nint, long> call) =>
        WithOutput(x, addr, size, call, _ => size);

    /// <summary>
    /// True when every page of [addr, addr+len) is mapped writable. Reads check this before a host call
    /// consumes data that could then not be delivered: the kernel leaves a pipe's or socket's bytes in
    /// place when the buffer is bad. Each page's first byte is rewritten with its own value.
    /// </summary>
    public static bool Writable(SyscallContext x, ulong addr, long len)
    {
        if (len <= 0) return true;
        ulong end = addr + (ulong)len;
        try
        {
            for (ulong a = addr; a < end; a = (a & ~0xfffUL) + 0x1000)
                x.Mem.Write8(a, x.Mem.Read8(a));
        }
        catch (LegoEmu.Mem.MemoryFault)
        {
            return false;
        }
        return true;
    }

    /// <summary>Passes a path to the host as a NUL-terminated UTF-8 string.</summary>
    public static long WithPath(string path, Func<nint, long> call)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes) return call((nint)p);
    }
}
