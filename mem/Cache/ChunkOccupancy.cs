namespace LegoEmu.Mem.Cache;

/// <summary>
/// How many cached lines each 64 KiB chunk of guest address space has (per address space), counted in
/// hashed buckets: a bucket at zero proves that none of the chunks hashed to it holds a cached line. A range
/// flush (munmap of a thread's 8 MiB stack, of which a few pages were ever touched) then looks only at the
/// chunks that may hold lines, instead of at every set the range maps to.
/// </summary>
sealed class ChunkOccupancy
{
    const int Bits = 16;
    readonly int[] _counts = new int[1 << Bits];

    /// <summary>log2 of the chunk size: 64 KiB, or one line when lines are larger.</summary>
    public int Shift { get; }

    public ChunkOccupancy(int lineShift) => Shift = Math.Max(16, lineShift);

    int Bucket(int asid, ulong addr) =>
        (int)((((addr >> Shift) + (ulong)(uint)asid * 0x9E3779B1UL) * 0x9E3779B97F4A7C15UL) >> (64 - Bits));

    public void Add(int asid, ulong lineAddr) => _counts[Bucket(asid, lineAddr)]++;

    public void Remove(int asid, ulong lineAddr) => _counts[Bucket(asid, lineAddr)]--;

    /// <summary>False when the chunk holding <paramref name="addr"/> certainly has no cached line of <paramref name="asid"/>.</summary>
    public bool MayHold(int asid, ulong addr) => _counts[Bucket(asid, addr)] != 0;
}
