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
    public RegionCode Code { get; private set; } = null!;
    /// <summary>
    /// The entry point of <see cref="Code"/>'s method, which a chained exit calls directly with the region as its first
    /// argument: through the delegate, each region change loaded the delegate first, one more dependent load (a cache
    /// miss as often as not) between an exit and the next region's code.
    /// </summary>
    internal nint CodeAddress;

    /// <summary>Gives the region its compiled method (static, parameters as RegionCompiler.Parameters).</summary>
    internal void SetCode(System.Reflection.MethodInfo method)
    {
        Code = (RegionCode)method.CreateDelegate(typeof(RegionCode), this);
        CodeAddress = EntryPoint(method);
    }

    static readonly System.Reflection.MethodInfo DynamicDescriptor =
        typeof(System.Reflection.Emit.DynamicMethod).GetMethod("GetMethodDescriptor", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)
        ?? throw new MissingMethodException(nameof(System.Reflection.Emit.DynamicMethod), "GetMethodDescriptor");

    /// <summary>A static method's callable address; a dynamic method's handle is only reachable through its descriptor.</summary>
    static nint EntryPoint(System.Reflection.MethodInfo method) => method is System.Reflection.Emit.DynamicMethod
        ? ((RuntimeMethodHandle)DynamicDescriptor.Invoke(method, null)!).GetFunctionPointer()
        : method.MethodHandle.GetFunctionPointer();
    /// <summary>
    /// Where the region's exits went last: guest address and the block there, whose region the exit enters directly
    /// when it still has one (a dropped or evicted region clears its blocks' <see cref="Block.Region"/>). Filled by the
    /// dispatcher after an exit found no link; entries indexed by address. Most regions have a few hot exits, but an
    /// interpreter's dispatch (an indirect jump per bytecode, CPython's eval loop) leaves one region for dozens of
    /// others, and a small function's RET for every place it is called from: a table that starts small and doubles
    /// when a link would push out another live one. With a fixed 32 entries, jq's exits that found their slot taken
    /// by another address sent 24 M of its 188 M region entries back through the dispatcher.
    /// </summary>
    internal RegionLink[] Links = new RegionLink[LinkSlots];
    /// <summary>The link table's first size (also the most targets an indirect jump learns, see Translator.NoteIndirect).</summary>
    internal const int LinkSlots = 32;
    /// <summary>The most a region's link table grows to.</summary>
    internal const int MaxLinkSlots = 1024;

    static int LinkSlot(ulong rip, int mask) => (int)((rip ^ (rip >> 5)) & (uint)mask);

    /// <summary>The region that runs at <paramref name="rip"/> when the exit there is linked, else null.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal Region? Linked(ulong rip)
    {
        // One read of the table: the dispatcher may replace it with a larger one meanwhile. The slot is below the
        // length: no bounds check (its throw would cost every exit a frame).
        var links = Links;
        ref var l = ref System.Runtime.CompilerServices.Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(links), LinkSlot(rip, links.Length - 1));
        // The block's own address is checked too: two threads linking the same slot at once can leave one's address
        // beside the other's block, and a region entered at an address that is none of its entries runs its head.
        return l.Ip == rip && l.Target is { } t && t.Start == rip ? t.Region : null;
    }

    /// <summary>
    /// Remembers that the exit to <paramref name="rip"/> continues in <paramref name="target"/>'s region. A slot held
    /// by another address whose region is still live doubles the table instead (up to <see cref="MaxLinkSlots"/>),
    /// filled before it replaces the old one, so a translated exit on another thread sees either whole.
    /// </summary>
    internal void Link(ulong rip, Block target)
    {
        var links = Links;
        ref var l = ref links[LinkSlot(rip, links.Length - 1)];
        if (l.Ip != rip && l.Target?.Region != null && links.Length < MaxLinkSlots)
        {
            var bigger = new RegionLink[links.Length * 2];
            foreach (var old in links)
                if (old.Target?.Region != null) bigger[LinkSlot(old.Ip, bigger.Length - 1)] = old;
            ref var n = ref bigger[LinkSlot(rip, bigger.Length - 1)];
            n.Target = target;
            n.Ip = rip;
            Links = bigger;
            return;
        }
        // The block first: a reader that sees the address sees its block (stores stay in order on x86-64).
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
    /// <summary>Computes SSE floating point inline (see RegionEmitter.UsesFloatingPoint).</summary>
    public bool UsesFloatingPoint;
    /// <summary>Compiled with calls to the slow path on a miss (see RegionEmitter.MissCalls).</summary>
    public bool MissCalls { get; internal set; }
    /// <summary>Has address groups that leave at their first access when their range is not in one line (see RegionEmitter.GroupsAlone).</summary>
    internal bool LeavingGroups { get; set; }

    /// <summary>True when some block of the region has code in [start, end).</summary>
    public bool Overlaps(ulong start, ulong end)
    {
        if (end <= Low || start >= High) return false;
        foreach (var b in Blocks)
            if (b.Start < end && b.Insns[^1].NextIp > start) return true;
        return false;
    }
}
