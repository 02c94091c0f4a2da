using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Space;

/// <summary>
/// A guest address space as the processor component manages it: VMA operations go to the home
/// memory component, and the local ExCache and p-local bookkeeping are kept consistent with them.
/// </summary>
public sealed class GuestAddressSpace
{
    /// <param name="existingAsid">Attach to an address space the component already holds (a forked child); 0 creates one.</param>
    public GuestAddressSpace(IMemoryComponent home, ExCache cache, int existingAsid = 0)
    {
        Home = home;
        Cache = cache;
        Asid = existingAsid != 0 ? existingAsid : home.CreateAddressSpace();
        if (Asid < 0) throw new InvalidOperationException($"the memory component cannot create an address space (error {-Asid})");
        // A forked child shares its parent's MAP_SHARED ranges: their lines go through the directory.
        if (existingAsid != 0)
            foreach (var v in home.Snapshot(Asid))
                if ((v.Flags & MapFlags.Shared) != 0) cache.Shared(Asid).Add(v.Start, v.End);
    }

    /// <summary>Writes back the dirty cached lines of the MAP_SHARED ranges in [start, end), so other mappings see them.</summary>
    public void WriteBackShared(ulong start, ulong end)
    {
        foreach (var (s, e) in Cache.Shared(Asid).Overlapping(start, end)) Cache.FlushRange(Asid, s, e, writeBack: true);
    }

    /// <summary>MAP_SHARED: binds the mapping at [addr, addr+length) to the shared object named <paramref name="key"/> (see <see cref="IMemoryComponent.Share"/>).</summary>
    public long Share(ulong addr, ulong length, string key, ulong offset) => Home.Share(Asid, addr, length, key, offset);

    public IMemoryComponent Home { get; }
    public ExCache Cache { get; }
    public int Asid { get; }

    /// <summary>mmap: fresh anonymous private memory becomes p-local until first written back.</summary>
    public long Map(ulong addr, ulong length, Protection prot, MapFlags flags, string name = "")
    {
        // Shared memory a fixed mapping replaces keeps what was written to it, for its other mappings.
        if ((flags & (MapFlags.Fixed | MapFlags.FixedNoReplace)) != 0 && Cache.Shared(Asid).Count > 0) WriteBackShared(addr, PageMath.Up(addr + length));
        long r = Home.Map(Asid, addr, length, prot, flags, name);
        if (r < 0) return r;
        ulong start = (ulong)r, end = start + PageMath.Up(length);
        Cache.FlushRange(Asid, start, end, writeBack: false);
        if ((flags & MapFlags.Shared) != 0) Cache.Shared(Asid).Add(start, end);
        else Cache.Shared(Asid).Remove(start, end);
        if ((flags & MapFlags.Anonymous) != 0 && (flags & MapFlags.Shared) == 0) Cache.PLocal(Asid).Add(start, end, prot);
        else Cache.PLocal(Asid).Remove(start, end);
        return r;
    }

    /// <summary>Maps memory whose contents the caller places with <see cref="Poke"/> (loader images, stacks).</summary>
    public long MapForImage(ulong addr, ulong length, Protection prot, string name)
    {
        long r = Home.Map(Asid, addr, length, prot, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, name);
        if (r >= 0)
        {
            ulong end = (ulong)r + PageMath.Up(length);
            Cache.FlushRange(Asid, (ulong)r, end, writeBack: false);
            Cache.PLocal(Asid).Remove((ulong)r, end); // its contents come from Poke, not from zero fill
        }
        return r;
    }

    public long Unmap(ulong addr, ulong length)
    {
        if (Cache.Shared(Asid).Count > 0 && PageMath.Aligned(addr) && length != 0 && addr + length > addr) WriteBackShared(addr, PageMath.Up(addr + length));
        long r = Home.Unmap(Asid, addr, length);
        if (r == 0)
        {
            ulong end = PageMath.Up(addr + length);
            Cache.FlushRange(Asid, addr, end, writeBack: false);
            Cache.PLocal(Asid).Remove(addr, end);
            Cache.Shared(Asid).Remove(addr, end);
        }
        return r;
    }

    public long Protect(ulong addr, ulong length, Protection prot)
    {
        long r = Home.Protect(Asid, addr, length, prot);
        if (r == 0 && length > 0)
        {
            ulong end = PageMath.Up(addr + length);
            // Cached lines carry the old permission bits: write them back and refetch with the new ones.
            Cache.FlushRange(Asid, addr, end, writeBack: true);
            Cache.PLocal(Asid).Protect(addr, end, prot);
        }
        return r;
    }

    public void SetBrkBase(ulong brkBase) => Home.SetBrkBase(Asid, brkBase);

    public ulong Brk(ulong newBreak)
    {
        ulong old = Home.Brk(Asid, 0);
        ulong r = Home.Brk(Asid, newBreak);
        ulong oldTop = PageMath.Up(old), newTop = PageMath.Up(r);
        if (newTop > oldTop) Cache.PLocal(Asid).Add(oldTop, newTop, Protection.ReadWrite);
        else if (newTop < oldTop)
        {
            Cache.FlushRange(Asid, newTop, oldTop, writeBack: false);
            Cache.PLocal(Asid).Remove(newTop, oldTop);
        }
        return r;
    }

    /// <summary>Writes bytes straight into the memory component, bypassing protection (loader only).</summary>
    public void Poke(ulong addr, ReadOnlySpan<byte> data, bool onlyAbsent = false) => Home.Poke(Asid, addr, data, onlyAbsent);

    /// <summary>Places whole pages of a private file mapping (loader side of mmap; see <see cref="IMemoryComponent.PokePages"/>).</summary>
    public void PokePages(ulong addr, IReadOnlyList<byte[]> pages) => Home.PokePages(Asid, addr, pages);

    /// <summary>The pages of [addr, addr+length) of a mapping made by <see cref="MapForImage"/> show the file from <paramref name="fileOffset"/> on (see <see cref="IMemoryComponent.BackWithFile"/>).</summary>
    public void BackWithFile(ulong addr, ulong length, FileBacking file, ulong fileOffset) => Home.BackWithFile(Asid, addr, length, file, fileOffset);

    public IReadOnlyList<Vma> Vmas() => Home.Snapshot(Asid);

    /// <summary>The VMAs overlapping [start, end).</summary>
    public IReadOnlyList<Vma> Vmas(ulong start, ulong end) => Home.Snapshot(Asid, start, end);
}
