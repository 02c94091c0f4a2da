using System.Runtime.InteropServices;

namespace LegoEmu.Mem.Cache;

/// <summary>
/// The ExCache's line storage: one anonymous host mapping, zero and uncommitted until touched, on which
/// transparent huge pages are requested once the guest has filled enough of it (<see cref="RequestHugePages"/>).
/// With the way-major layout (<see cref="ExCache"/>) a guest array fills it contiguously, so 2 MiB host pages
/// cover 512 guest lines with one TLB entry, as the kernel would give the guest natively when it backs a large
/// region with huge pages.
/// </summary>
static unsafe class LineStore
{
    const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20, MadvHugepage = 14, MadvFree = 8, MadvCollapse = 25;
    const long HugePage = 2L << 20;

    [DllImport("libc", SetLastError = true)]
    static extern nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    static extern int munmap(nint addr, nuint length);

    [DllImport("libc", SetLastError = true)]
    static extern int madvise(nint addr, nuint length, int advice);

    /// <summary>Maps <paramref name="size"/> zero bytes, in small pages until <see cref="RequestHugePages"/>.</summary>
    internal static byte* Allocate(long size)
    {
        nint p = mmap(0, (nuint)size, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (p == -1) throw new OutOfMemoryException($"cannot map {size >> 20} MiB for the ExCache lines (errno {Marshal.GetLastPInvokeError()})");
        return (byte*)p;
    }

    /// <summary>
    /// Asks for huge pages from now on. Not from the start: each first touch of a huge page zeroes 2 MiB (0.1 ms, and
    /// several ms when the kernel must compact memory for it), which a short program whose few thousand lines are
    /// scattered over the store pays for every line, while only a large working set gains from the TLB reach.
    /// Advice only, so its absence is not an error.
    /// </summary>
    internal static void RequestHugePages(byte* p, long size)
    {
        if (size >= HugePage) _ = madvise((nint)p, (nuint)size, MadvHugepage);
    }

    /// <summary>Makes the pages of [p, p + size) one huge page now (Linux 6.1 and later; advice only, like the rest).</summary>
    internal static void Collapse(byte* p, long size)
    {
        if (size == HugePage) _ = madvise((nint)p, (nuint)size, MadvCollapse);
    }

    internal static void Free(byte* p, long size) => _ = munmap((nint)p, (nuint)size);

    /// <summary>
    /// Lets the kernel take the pages back when it needs memory; until then they stay mapped and are rewritten
    /// without a fault. Their bytes become unspecified, which a cache never reads before it fills a line.
    /// </summary>
    internal static void ReleaseLazily(byte* p, long size) => _ = madvise((nint)p, (nuint)size, MadvFree);
}
