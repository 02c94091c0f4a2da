namespace LegoEmu.Mem.Component;

/// <summary>What a fill request found at the memory component.</summary>
public enum FillStatus
{
    /// <summary>The line's bytes were copied from a frame.</summary>
    Data,
    /// <summary>The line is mapped but has no frame yet: it reads as zeros.</summary>
    Zero,
    /// <summary>No mapping covers the line.</summary>
    Unmapped,
}

/// <summary>
/// The memory component (mComponent) as a processor component sees it: VMA operations for the
/// address spaces it is home of, and line-granular reads and write-backs. Implemented in-process
/// today; the same contract is what a remote memory node serves.
/// </summary>
public interface IMemoryComponent
{
    /// <summary>Creates an empty address space and returns its id (the requested one when non-zero, or -EEXIST).</summary>
    int CreateAddressSpace(int requestedAsid = 0);

    /// <summary>Drops an address space with all its VMAs and frames.</summary>
    void DestroyAddressSpace(int asid);

    /// <summary>fork: a copy-on-write duplicate of an address space; returns the new id.</summary>
    int ForkAddressSpace(int asid, int requestedAsid = 0);

    /// <summary>mmap semantics; returns the mapped address or a negated errno.</summary>
    long Map(int asid, ulong addr, ulong length, Protection prot, MapFlags flags, string name);

    /// <summary>
    /// MAP_SHARED: the mapping at [addr, addr+length) shows the shared object named <paramref name="key"/> from
    /// byte <paramref name="offset"/> on, the same frames every other mapping of that key shows. Returns 1 when
    /// the object was made now (the caller fills it, from a file say), 0 when it existed, or a negated errno.
    /// </summary>
    long Share(int asid, ulong addr, ulong length, string key, ulong offset);

    /// <summary>munmap semantics; 0 or a negated errno.</summary>
    long Unmap(int asid, ulong addr, ulong length);

    /// <summary>mprotect semantics; 0 or a negated errno.</summary>
    long Protect(int asid, ulong addr, ulong length, Protection prot);

    /// <summary>Sets where the heap starts (end of the loaded image).</summary>
    void SetBrkBase(int asid, ulong brkBase);

    /// <summary>brk semantics: moves the break when possible and returns the (possibly unchanged) break.</summary>
    ulong Brk(int asid, ulong newBreak);

    /// <summary>Reads one cache line; <paramref name="prot"/> is the protection of the VMA holding it.</summary>
    FillStatus Fill(int asid, ulong lineAddr, Span<byte> destination, out Protection prot);

    /// <summary>Stores a dirty line evicted from a processor's cache.</summary>
    void WriteBack(int asid, ulong lineAddr, ReadOnlySpan<byte> data);

    /// <summary>
    /// A miss that evicted a dirty line: the write-back travels with the fill when both lines live on the
    /// same component (one round trip instead of two). Returns whether the write-back was combined.
    /// </summary>
    FillStatus WriteBackAndFill(int asid, ulong victimAddr, ReadOnlySpan<byte> victim, ulong lineAddr, Span<byte> destination,
        out Protection prot, out bool combined);

    /// <summary>Writes bytes regardless of protection: the loader's way of placing an image.</summary>
    /// <remarks>With <paramref name="onlyAbsent"/>, pages that already have a frame keep it (a shared file object loads only what no mapping holds yet).</remarks>
    void Poke(int asid, ulong addr, ReadOnlySpan<byte> data, bool onlyAbsent = false);

    /// <summary>
    /// Places whole pages of a private file mapping (<see cref="FilePages"/>) from <paramref name="addr"/> on; the arrays
    /// are never written. A component in this process shares them copy-on-write; others receive their bytes.
    /// </summary>
    void PokePages(int asid, ulong addr, IReadOnlyList<byte[]> pages)
    {
        foreach (var page in pages)
        {
            Poke(asid, addr, page);
            addr += PageMath.PageSize;
        }
    }

    /// <summary>
    /// Makes the pages of [addr, addr+length) of a fresh private mapping (page aligned) show <paramref name="file"/>
    /// from byte <paramref name="fileOffset"/> on. A component in this process reads each page when it is first
    /// filled (see <see cref="InProcessMemoryComponent.BackWithFile"/>); others receive the bytes now.
    /// </summary>
    void BackWithFile(int asid, ulong addr, ulong length, FileBacking file, ulong fileOffset) => PlaceFilePages(this, asid, addr, length, file, fileOffset);

    /// <summary>Places the file's pages of [addr, addr+length) in <paramref name="component"/> at once (what <see cref="BackWithFile"/> does where pages cannot wait).</summary>
    static void PlaceFilePages(IMemoryComponent component, int asid, ulong addr, ulong length, FileBacking file, ulong fileOffset)
    {
        var pages = file.Pages((long)(fileOffset >> PageMath.PageShift), (int)(PageMath.Up(length) >> PageMath.PageShift))
            ?? throw new MemoryFault(addr, AccessKind.Read, FaultReason.NoMemory);
        component.PokePages(asid, addr, pages);
    }

    /// <summary>A snapshot of the address space's VMAs in address order.</summary>
    IReadOnlyList<Vma> Snapshot(int asid);

    /// <summary>A snapshot of the VMAs overlapping [start, end) only (what a range call needs, without copying them all).</summary>
    IReadOnlyList<Vma> Snapshot(int asid, ulong start, ulong end) => Snapshot(asid).Where(v => v.Start < end && start < v.End).ToArray();

    /// <summary>Counters of this component.</summary>
    ComponentStats Stats { get; }
}

/// <summary>Traffic and occupancy counters of one memory component.</summary>
public sealed class ComponentStats
{
    public long CapacityFrames = long.MaxValue;
    public long Fills;
    public long ZeroFills;
    public long WriteBacks;
    public long BytesOut;
    public long BytesIn;
    public long Frames;
}
