namespace LegoEmu.Mem;

/// <summary>Bytes from the kernel's random pool, for connection secrets and the guest's AT_RANDOM.</summary>
/// <remarks>
/// Through getrandom(2): reading /dev/urandom through <see cref="File.OpenHandle"/> made its first <c>SafeFileHandle</c>
/// by reflection, which the runtime JIT-compiled on the guest's thread at every start (and RandomNumberGenerator would
/// load OpenSSL).
/// </remarks>
public static unsafe class KernelRandom
{
    public static void Fill(Span<byte> into)
    {
        int done = 0;
        fixed (byte* p = into)
            while (done < into.Length)
            {
                // At most 256 bytes a call, which the kernel never cuts short once its pool is ready (from early boot).
                long n = HostCode.Syscall(318 /* getrandom */, (nint)(p + done), Math.Min(256, into.Length - done), 0, 0, 0, 0);
                if (n <= 0) break;
                done += (int)n;
            }
        if (done == into.Length) return;
        // A kernel without getrandom (before 3.17), or a seccomp filter that refuses it.
        using var urandom = File.OpenHandle("/dev/urandom");
        if (RandomAccess.Read(urandom, into, 0) != into.Length) throw new IOException("short read from /dev/urandom");
    }

    public static byte[] Bytes(int count)
    {
        var b = new byte[count];
        Fill(b);
        return b;
    }
}
