using System.Runtime.InteropServices;

namespace LegoEmu.Mem.Cache;

/// <summary>
/// Memory for front tables, mapped in the low 2 GiB of the address space when the kernel allows it
/// (<c>MAP_32BIT</c>): translated code then reaches an entry as <c>[index + table]</c> with the table's
/// address as a 32-bit displacement, one instruction and no register where a 64-bit address took two and
/// a register in every inline probe. A few released tables are kept for the next view, so a component
/// running short guests one after another maps nothing new.
/// </summary>
static unsafe class FrontTableMemory
{
    const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20, Map32Bit = 0x40;
    const int KeptSpares = 4;

    [DllImport("libc", SetLastError = true)]
    static extern nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    static extern int munmap(nint addr, nuint length);

    static readonly Stack<nint> Spares = new();

    /// <summary>Zeroed or previously used memory of <paramref name="bytes"/> (the caller initialises every entry).</summary>
    internal static void* Rent(int bytes)
    {
        lock (Spares)
            if (Spares.Count > 0) return (void*)Spares.Pop();
        nint p = MapAtFixedPlace(bytes);
        if (p == -1) p = mmap(0, (nuint)bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous | Map32Bit, -1, 0);
        if (p == -1) p = mmap(0, (nuint)bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (p == -1) throw new OutOfMemoryException($"cannot map {bytes >> 10} KiB for an ExCache front table (errno {Marshal.GetLastPInvokeError()})");
        return (void*)p;
    }

    /// <summary>
    /// The first few tables go to the same addresses in every process (the first free of <see cref="FixedSlots"/>
    /// places from <see cref="FixedBase"/>): translated code embeds its table's address, so the code cache's
    /// precompiled regions fit any process whose table landed where theirs did. -1 when all are taken.
    /// </summary>
    static nint MapAtFixedPlace(int bytes)
    {
        nint stride = ((nint)bytes + SlotAlign - 1) & ~(nint)(SlotAlign - 1);
        for (int k = 0; k < FixedSlots; k++)
        {
            nint want = FixedBase + k * stride;
            nint p = mmap(want, (nuint)bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapFixedNoReplace, -1, 0);
            if (p == want) return p;
            if (p != -1) _ = munmap(p, (nuint)bytes); // a kernel without MAP_FIXED_NOREPLACE treats the address as a hint
        }
        return -1;
    }

    const nint FixedBase = 0x3000_0000;
    const int FixedSlots = 8, SlotAlign = 1 << 20, MapFixedNoReplace = 0x100000;

    /// <summary>Takes back a table nothing probes any more.</summary>
    internal static void Return(void* table, int bytes)
    {
        lock (Spares)
            if (Spares.Count < KeptSpares)
            {
                Spares.Push((nint)table);
                return;
            }
        _ = munmap((nint)table, (nuint)bytes);
    }
}
