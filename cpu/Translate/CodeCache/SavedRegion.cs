namespace LegoEmu.Cpu.Translate.CodeCache;

/// <summary>
/// What the code cache keeps of one compiled region besides its code: the blocks it was compiled from (address,
/// length and fingerprint, checked before the code is used), and what the code expects of its <see cref="Region"/>.
/// </summary>
sealed class SavedRegion
{
    /// <summary>The static method of the saved assembly that holds the region's code.</summary>
    public required string Method;
    /// <summary>The region's place in the index (and its method's in the saved type).</summary>
    public int Ordinal;
    public required bool MissCalls;
    public required bool Wide;
    public required int IlBytes;
    public required SavedBlock[] Blocks;
    public required bool[] EntryBlocks;
    /// <summary>The addresses of the instructions the code runs through their interpreter handlers, in the order it indexes them.</summary>
    public required ulong[] Interpreted;
    public required FaultSite[] FaultSites;

    public ulong Head => Blocks[0].Start;
}

/// <summary>One block of a <see cref="SavedRegion"/>.</summary>
readonly record struct SavedBlock(ulong Start, int Instructions, ulong Hash);
