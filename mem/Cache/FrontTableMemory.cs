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

    // A capacity: List<T>() reads the empty array of List<T>'s static constructor, which ReadyToRun leaves to the JIT
    // for a value-type T (a compile on the guest's thread at start-up).
    static readonly List<nint> Spares = new(KeptSpares);

    /// <summary>
    /// Zeroed or previously used memory of <paramref name="bytes"/> (the caller initialises every entry). With
    /// <paramref name="fixedPlace"/>, the lowest free of <see cref="FixedSlots"/> places from <see cref="FixedBase"/>
    /// when one is: translated code embeds its table's address, so the code cache's precompiled regions fit every
    /// process whose table is where theirs was. Only a process's own guest asks for one, so the emulator's private
    /// warm-up guest, thread hosts and earlier guests of a reused component do not move it.
    /// </summary>
    internal static void* Rent(int bytes, bool fixedPlace = false)
    {
        nint stride = ((nint)bytes + SlotAlign - 1) & ~(nint)(SlotAlign - 1);
        lock (Spares)
        {
            if (fixedPlace)
            {
                for (int k = 0; k < FixedSlots; k++)
                {
                    nint want = FixedBase + k * stride;
                    if (Spares.Remove(want)) return (void*)want;
                    nint placed = HostCode.Map(want, (nuint)bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapFixedNoReplace, -1, 0, out _);
                    if (placed == want) return (void*)placed;
                    if (placed != -1) HostCode.Unmap(placed, (nuint)bytes); // a kernel without MAP_FIXED_NOREPLACE took it as a hint
                }
            }
            else if (Spares.Count > 0)
            {
                // The newest spare: a fixed place is left for a guest that wants one only when another is there.
                int k = Spares.Count - 1;
                while (k > 0 && IsFixedPlace(Spares[k], stride)) k--;
                nint p = Spares[k];
                Spares.RemoveAt(k);
                return (void*)p;
            }
        }
        nint m = HostCode.Map(0, (nuint)bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous | Map32Bit, -1, 0, out _);
        int errno = 0;
        if (m == -1) m = HostCode.Map(0, (nuint)bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0, out errno);
        if (m == -1) throw new OutOfMemoryException($"cannot map {bytes >> 10} KiB for an ExCache front table (errno {errno})");
        return (void*)m;
    }

    static bool IsFixedPlace(nint p, nint stride) => p >= FixedBase && p < FixedBase + FixedSlots * stride && (p - FixedBase) % stride == 0;

    const nint FixedBase = 0x3000_0000;
    const int FixedSlots = 8, SlotAlign = 1 << 20, MapFixedNoReplace = 0x100000;

    /// <summary>Takes back a table nothing probes any more.</summary>
    internal static void Return(void* table, int bytes)
    {
        lock (Spares)
            if (Spares.Count < KeptSpares)
            {
                Spares.Add((nint)table);
                return;
            }
        HostCode.Unmap((nint)table, (nuint)bytes);
    }
}
