using System.Runtime.InteropServices;

namespace LegoEmu.Mem.Cache;

/// <summary>
/// The ExCache's line storage: one anonymous host mapping, zero and uncommitted until touched. It gets huge pages
/// exactly when the kernel's policy gives them to any anonymous mapping (transparent huge pages "always"), as the
/// guest's own memory would natively; it does not ask for them. Asking (MADV_HUGEPAGE once 4 MiB were filled, and
/// MADV_COLLAPSE of the chunks filled before) made memloop's loop up to 5 % faster on the TLB's reach, but a fresh
/// huge page's first touch costs 4-14 ms where the host hands out unbacked memory (a virtual machine whose free
/// memory is reported to its hypervisor): filling 256 MiB took 1.2-1.6 s of system time instead of 0.2 s.
/// </summary>
static unsafe class LineStore
{
    const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20, MadvFree = 8;

    /// <summary>Maps <paramref name="size"/> zero bytes.</summary>
    internal static byte* Allocate(long size)
    {
        nint p = HostCode.Map(0, (nuint)size, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0, out int errno);
        if (p == -1) throw new OutOfMemoryException($"cannot map {size >> 20} MiB for the ExCache lines (errno {errno})");
        return (byte*)p;
    }

    internal static void Free(byte* p, long size) => HostCode.Unmap((nint)p, (nuint)size);

    /// <summary>
    /// Lets the kernel take the pages back when it needs memory; until then they stay mapped and are rewritten
    /// without a fault. Their bytes become unspecified, which a cache never reads before it fills a line.
    /// </summary>
    internal static void ReleaseLazily(byte* p, long size) => _ = HostCode.Advise((nint)p, (nuint)size, MadvFree);
}
