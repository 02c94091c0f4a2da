using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// Compiled code of a region: runs from where the guest's RIP is until an exit, with a time slice of
/// <c>budget</c> blocks; returns what is left of it (zero or less when used up). An exit to another compiled
/// region may continue there directly (a tail call) while the slice lasts and the host wants nothing.
/// </summary>
public delegate long RegionCode(CpuState c, long budget);

/// <summary>A fault stub's place in the guest code (see <see cref="Region.FaultSites"/>).</summary>
internal readonly record struct FaultSite(ulong Ip, long Retired, long Accesses, int Block, bool Miss);

/// <summary>One of <see cref="Region.Links"/>: an exit's guest address and the block it reached.</summary>
internal struct RegionLink
{
    public ulong Ip;
    public Block? Target;
}

/// <summary>
/// A region of hot guest code compiled to IL: a head block and the hot successors reached from it through
/// direct jumps, calls, fall-throughs and conditional branches. It is entered at its head, and at the other
/// blocks marked in <see cref="Region.EntryBlocks"/>: the compiled code starts where the guest's RIP is.
/// </summary>
public sealed class Region
{
    internal Region(ulong head, Block[] blocks)
    {
        Head = head;
        Blocks = blocks;
        ulong lo = ulong.MaxValue, hi = 0;
        int n = 0;
        foreach (var b in blocks)
        {
            lo = Math.Min(lo, b.Start);
            var last = b.Insns[^1];
            hi = Math.Max(hi, last.NextIp);
            n += b.Insns.Length;
        }
        Low = lo;
        High = hi;
        InstructionCount = n;
    }

    // Empty arrays of our own: Array.Empty of these value types is a static constructor the runtime's JIT compiles.
    static readonly Insn[] NoInsns = new Insn[0];
    static readonly FaultSite[] NoFaultSites = new FaultSite[0];

    public ulong Head { get; }
    /// <summary>The blocks compiled into the region, head first.</summary>
    public Block[] Blocks { get; }
    /// <summary>Which of <see cref="Blocks"/> the dispatcher may enter the compiled code at (the head always).</summary>
    internal bool[] EntryBlocks { get; set; } = Array.Empty<bool>();
    /// <summary>Copies of the instructions that run through their interpreter handlers.</summary>
    internal Insn[] Interpreted { get; set; } = NoInsns;
    /// <summary>
    /// Where each fault stub of the compiled code stands: the faulting instruction, how many instructions of
    /// its block retired before it, and the block's inline accesses counted by then. A stub passes only its
    /// index, so the IL of a memory instruction's fault path is a few bytes.
    /// </summary>
    internal FaultSite[] FaultSites = NoFaultSites;
    /// <summary>Lowest and one past the highest guest address of the region's code.</summary>
    public ulong Low { get; }
    public ulong High { get; }
    public int InstructionCount { get; }
    /// <summary>Size of the IL, a proxy for the code-cache footprint.</summary>
    public int IlBytes { get; internal set; }
    public RegionCode Code { get; internal set; } = null!;
    /// <summary>
    /// Where the region's exits went last: guest address and the block there, whose region the exit enters directly
    /// when it still has one (a dropped or evicted region clears its blocks' <see cref="Block.Region"/>). Filled by the
    /// dispatcher after an exit found no link; entries indexed by address. Most regions have a few hot exits, but an
    /// interpreter's dispatch (an indirect jump per bytecode, CPython's eval loop) leaves one region for dozens of
    /// others: with 8 entries a fifth of python's region changes went back through the dispatcher, with 32 a twentieth
    /// (a float loop's CPU time 10 % less).
    /// </summary>
    internal readonly RegionLink[] Links = new RegionLink[LinkSlots];
    internal const int LinkSlots = 32;

    internal static int LinkSlot(ulong rip) => (int)((rip ^ (rip >> 5)) & (LinkSlots - 1));

    /// <summary>The region that runs at <paramref name="rip"/> when the exit there is linked, else null.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal Region? Linked(ulong rip)
    {
        // LinkSlot is below LinkSlots, the array's length: no bounds check (its throw would cost every exit a frame).
        ref var l = ref System.Runtime.CompilerServices.Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(Links), LinkSlot(rip));
        return l.Ip == rip ? l.Target?.Region : null;
    }

    /// <summary>Remembers that the exit to <paramref name="rip"/> continues in <paramref name="target"/>'s region.</summary>
    internal void Link(ulong rip, Block target)
    {
        ref var l = ref Links[LinkSlot(rip)];
        l.Target = target;
        l.Ip = rip;
    }
    /// <summary>Times the region was entered; the code cache evicts the coldest.</summary>
    public long Entries;
    /// <summary>
    /// At this many <see cref="Entries"/> the region is planned again with the wide limits (see
    /// <see cref="RegionPlanner"/>): a chained exit into it returns to the dispatcher instead, which asks the
    /// translator. Never once a region's head has had Translator.MaxWidenings wide plans, nor again for a region asked for once.
    /// </summary>
    public long WidenAt = long.MaxValue;
    /// <summary>Planned with the wide limits.</summary>
    public bool Wide { get; internal set; }
    /// <summary>How many wide plans its head has had (see Translator.Widen).</summary>
    internal int Widenings { get; set; }
    /// <summary>Blocks made entries because the dispatcher arrived there from outside the region (see Translator.Request).</summary>
    internal IReadOnlySet<ulong> AddedEntries { get; set; } = NoAddedEntries;
    internal static readonly IReadOnlySet<ulong> NoAddedEntries = new HashSet<ulong>();
    /// <summary>How many times this region's code was compiled again for an added entry.</summary>
    internal int EntryRecompiles { get; set; }
    /// <summary>The region's counters for <c>run --profile</c>; null when compiled without a profile.</summary>
    internal RegionProfile? Profile { get; set; }
    /// <summary>Guest instructions the region has run, and how often it left at a front-table miss.</summary>
    public long InstructionsRun, MissExits;
    /// <summary>The counters at the start of the current window of miss exits (Translator.NoteMissExit).</summary>
    internal long InstructionsAtMissWindow, HitsAtMissWindow, FillsAtMissWindow;
    /// <summary>Compiled with calls to the slow path on a miss (see RegionEmitter.MissCalls).</summary>
    public bool MissCalls { get; internal set; }

    /// <summary>True when some block of the region has code in [start, end).</summary>
    public bool Overlaps(ulong start, ulong end)
    {
        if (end <= Low || start >= High) return false;
        foreach (var b in Blocks)
            if (b.Start < end && b.Insns[^1].NextIp > start) return true;
        return false;
    }
}
