namespace LegoEmu.Mem.Remote;

/// <summary>
/// The secrets that let a connection claim an address space on a memory node (see MemoryNodeServer.Spaces.cs):
/// 64 bits from the kernel's random pool. Read from /dev/urandom rather than through RandomNumberGenerator,
/// which loads OpenSSL on Linux, milliseconds of every process start.
/// </summary>
public static class SpaceKeys
{
    public static ulong New()
    {
        Span<byte> b = stackalloc byte[8];
        using (var urandom = File.OpenHandle("/dev/urandom"))
            if (RandomAccess.Read(urandom, b, 0) != 8) throw new IOException("short read from /dev/urandom");
        return BitConverter.ToUInt64(b);
    }
}
