namespace LegoEmu.Mem.Remote;

/// <summary>
/// The secrets that let a connection claim an address space on a memory node (see MemoryNodeServer.Spaces.cs):
/// 64 bits from the kernel's random pool (<see cref="KernelRandom"/>).
/// </summary>
public static class SpaceKeys
{
    public static ulong New()
    {
        Span<byte> b = stackalloc byte[8];
        KernelRandom.Fill(b);
        return BitConverter.ToUInt64(b);
    }
}
