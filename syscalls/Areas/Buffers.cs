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

    /// <summary>
    /// How many bytes at the start of [addr, addr+len) the guest may write (<paramref name="write"/>) or read,
    /// page by page. A transfer stops at the first bad page and reports what it moved, as the kernel's copy does;
    /// only a transfer that can move nothing fails with EFAULT.
    /// </summary>
    public static long AccessiblePrefix(SyscallContext x, ulong addr, long len, bool write)
    {
        if (len <= 0) return 0;
        ulong end = addr + (ulong)len;
        if (end < addr) end = ulong.MaxValue;
        for (ulong a = addr; a < end; a = (a & ~0xfffUL) + 0x1000)
        {
            try
            {
                byte b = x.Mem.Read8(a);
                if (write) x.Mem.Write8(a, b);
            }
            catch (LegoEmu.Mem.MemoryFault)
            {
                return (long)(a - addr);
            }
            if ((a & ~0xfffUL) + 0x1000 < a) break; // the last page of the address space
        }
        return len;
    }

    /// <summary>The same over the concatenation of an iovec array, up to <paramref name="len"/> bytes.</summary>
    public static long AccessiblePrefix(SyscallContext x, List<(ulong addr, long len)> iov, long len, bool write)
    {
        long done = 0;
        foreach (var (a, l) in iov)
        {
            if (done >= len) break;
            long want = Math.Min(l, len - done);
            long ok = AccessiblePrefix(x, a, want, write);
            done += ok;
            if (ok < want) break;
        }
        return Math.Min(done, len);
    }

    /// <summary>What a host descriptor names (its /proc/self/fd link), with the bytes of a name that is not UTF-8 kept; "" when unreadable.</summary>
    public static string FdTarget(int h)
    {
        var b = new byte[4096];
        long n;
        fixed (byte* p = b)
        {
            nint q = (nint)p;
            n = WithPath($"/proc/self/fd/{h}", path => LegoEmu.Syscalls.Host.Native.Sys(LegoEmu.Syscalls.Abi.Nr.readlink, path, q, b.Length));
        }
        return n <= 0 ? "" : LegoEmu.Loader.Image.GuestText.Decode(b.AsSpan(0, (int)n));
    }

    /// <summary>Passes a path to the host as the NUL-terminated bytes it was read from (see <see cref="LegoEmu.Loader.Image.GuestText"/>).</summary>
    public static long WithPath(string path, Func<nint, long> call)
    {
        var bytes = LegoEmu.Loader.Image.GuestText.Encode(path, nul: true);
        fixed (byte* p = bytes) return call((nint)p);
    }
}
