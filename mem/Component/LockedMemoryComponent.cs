namespace LegoEmu.Mem.Component;

/// <summary>
/// Serialises calls into a memory component shared by this process's guest and a server thread that
/// serves it to other processor components (a forked child reaching its parent's memory).
/// </summary>
public sealed class LockedMemoryComponent(InProcessMemoryComponent inner) : IMemoryComponent
{
    public InProcessMemoryComponent Inner { get; } = inner;
    /// <summary>The lock every user of <see cref="Inner"/> takes, the memory-node server included.</summary>
    public object Gate => Inner;

    public ComponentStats Stats => Inner.Stats;
    public int CreateAddressSpace(int requestedAsid = 0) { lock (Gate) return Inner.CreateAddressSpace(requestedAsid); }
    public void DestroyAddressSpace(int asid) { lock (Gate) Inner.DestroyAddressSpace(asid); }
    public int ForkAddressSpace(int asid, int requestedAsid = 0) { lock (Gate) return Inner.ForkAddressSpace(asid, requestedAsid); }
    public long Map(int asid, ulong addr, ulong length, Protection prot, MapFlags flags, string name) { lock (Gate) return Inner.Map(asid, addr, length, prot, flags, name); }
    public long Share(int asid, ulong addr, ulong length, string key, ulong offset) { lock (Gate) return Inner.Share(asid, addr, length, key, offset); }
    public long Unmap(int asid, ulong addr, ulong length) { lock (Gate) return Inner.Unmap(asid, addr, length); }
    public long Protect(int asid, ulong addr, ulong length, Protection prot) { lock (Gate) return Inner.Protect(asid, addr, length, prot); }
    public void SetBrkBase(int asid, ulong brkBase) { lock (Gate) Inner.SetBrkBase(asid, brkBase); }
    public ulong Brk(int asid, ulong newBreak) { lock (Gate) return Inner.Brk(asid, newBreak); }
    public FillStatus Fill(int asid, ulong lineAddr, Span<byte> destination, out Protection prot) { lock (Gate) return Inner.Fill(asid, lineAddr, destination, out prot); }
    public void WriteBack(int asid, ulong lineAddr, ReadOnlySpan<byte> data) { lock (Gate) Inner.WriteBack(asid, lineAddr, data); }

    public FillStatus WriteBackAndFill(int asid, ulong victimAddr, ReadOnlySpan<byte> victim, ulong lineAddr, Span<byte> destination, out Protection prot, out bool combined)
    {
        lock (Gate) return Inner.WriteBackAndFill(asid, victimAddr, victim, lineAddr, destination, out prot, out combined);
    }

    public void Poke(int asid, ulong addr, ReadOnlySpan<byte> data, bool onlyAbsent = false) { lock (Gate) Inner.Poke(asid, addr, data, onlyAbsent); }
    public void PokePages(int asid, ulong addr, IReadOnlyList<byte[]> pages) { lock (Gate) Inner.PokePages(asid, addr, pages); }
    public void BackWithFile(int asid, ulong addr, ulong length, FileBacking file, ulong fileOffset) { lock (Gate) Inner.BackWithFile(asid, addr, length, file, fileOffset); }
    public IReadOnlyList<Vma> Snapshot(int asid) { lock (Gate) return Inner.Snapshot(asid); }
    public IReadOnlyList<Vma> Snapshot(int asid, ulong start, ulong end) { lock (Gate) return Inner.Snapshot(asid, start, end); }
}
