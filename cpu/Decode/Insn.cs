using System.Runtime.InteropServices;
using Iced.Intel;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Decode;

/// <summary>
/// One decoded instruction ready to run: Iced's instruction plus its handler and a pre-digested
/// memory operand, so the interpreter never re-inspects prefixes or addressing forms.
/// </summary>
public unsafe struct Insn
{
    public delegate*<CpuState, ref Insn, void> Exec;
    /// <summary>The real handler when <see cref="Exec"/> is a wrapper (SSE floating point runs bracketed by the guest MXCSR).</summary>
    public delegate*<CpuState, ref Insn, void> Inner;
    public Instruction I;
    /// <summary>Displacement, or the absolute address for RIP-relative operands.</summary>
    public ulong Disp;
    public sbyte Base;
    public sbyte Index;
    public byte ScaleShift;
    /// <summary>0 none, 1 FS, 2 GS.</summary>
    public byte Seg;
    public bool Addr32;
    /// <summary>Operand size in bits of the instruction's main operand (8..64), from operand 0.</summary>
    public byte OpBits;
    /// <summary>Width in bits of the memory operand, when there is one.</summary>
    public ushort MemBits;
    /// <summary>Condition code 0..15 for Jcc/SETcc/CMOVcc, -1 otherwise.</summary>
    public sbyte Cc;
    /// <summary>For shaped handlers: GPR or XMM index of operand 0 and of operand 1 when they are registers.</summary>
    public byte R0, R1;
    /// <summary>For shaped handlers: 8 when operand 0 / operand 1 is AH..BH (bits 8..15 of its slot), else 0.</summary>
    public byte Sh0, Sh1;
    /// <summary>Set after the first execution (see HandlerTable's MXCSR bracket).</summary>
    public bool Warm;
    /// <summary>For shaped handlers: the immediate truncated to its use, a masked shift count, or a branch target.</summary>
    public ulong Imm;

    // Iced keeps both (the next address and the length), so a copy of its own would only make every Insn 16 bytes longer.
    public readonly ulong Ip => I.IP;
    public readonly ulong NextIp => I.NextIP;
}

/// <summary>A straight-line run of instructions ending at a control transfer, decoded once.</summary>
/// <remarks>
/// The fields the dispatcher reads for every block it runs (the region and the start beside it, which names the block
/// in a successor cache, the successor it checks first, the instructions, the count and the flags) come first, in 56
/// bytes: interpreted start-up code runs hundreds of thousands of blocks a few hundred times each, and the block's
/// first touch is a cache miss. Left to the runtime's layout, the references came first and the counters last, and a
/// block's dispatch touched two or three cache lines.
/// </remarks>
[StructLayout(LayoutKind.Explicit)]
public sealed unsafe class Block
{
    /// <summary>The compiled region entered at this block, once the translator has published one.</summary>
    [FieldOffset(0)] public volatile LegoEmu.Cpu.Translate.Region? Region;
    [FieldOffset(8)] readonly ulong _start;
    /// <summary>One-entry successor caches: most blocks continue to one or two places (where each starts is its <see cref="Start"/>).</summary>
    [FieldOffset(16)] public Block? Next1;
    /// <summary>
    /// The block's instructions, in memory that <see cref="_storage"/> keeps alive: an <see cref="InsnStorage"/> chunk, or
    /// for code that gets rewritten, an array of its own on the pinned heap.
    /// </summary>
    [FieldOffset(24)] readonly Insn* _insns;
    /// <summary>
    /// When the block ends in a compare and a conditional branch: one handler for both (see PairForms), which the
    /// interpreter runs in their place, with the compare. Null otherwise. The instructions keep their own handlers, for
    /// every other way of running them (translated code, a trace's attribution).
    /// </summary>
    [FieldOffset(32)] public delegate*<CpuState, ref Insn, void> Tail;
    /// <summary>Interpreted executions, counted until the block is handed to the translator.</summary>
    [FieldOffset(40)] public long ExecCount;
    [FieldOffset(48)] readonly int _count;
    /// <summary>Set once the translator has been asked for a region headed here (whatever came of it).</summary>
    [FieldOffset(52)] public bool TranslationRequested;
    /// <summary>Regions headed here call the ExCache's slow path on a miss instead of leaving (their misses were frequent).</summary>
    [FieldOffset(53)] public bool MissCalls;
    /// <summary>
    /// Set once the block is part of a compiled region. Its <see cref="ExecCount"/> stops there (compiled code does not
    /// count), so a later plan takes this as proof that the block is hot.
    /// </summary>
    [FieldOffset(54)] public bool Compiled;
    /// <summary>The older of the two successor caches.</summary>
    [FieldOffset(56)] public Block? Next2;
    [FieldOffset(64)] readonly object _storage;
    /// <summary>
    /// With a profile: per instruction, the times it retired and the data accesses it made while interpreted
    /// (two counters each); folded into the profile when the run ends.
    /// </summary>
    [FieldOffset(72)] public long[]? ProfileCounts;
    /// <summary>
    /// A live region that holds this block but is not entered here (the translator's, under its lock): when the
    /// dispatcher keeps arriving here, that region is compiled again with this block as one more entry.
    /// </summary>
    [FieldOffset(80)] internal LegoEmu.Cpu.Translate.Region? HeldBy;
    /// <summary>
    /// For a block ending in an indirect JMP or CALL, more targets than <see cref="Next1"/> and <see cref="Next2"/>: where
    /// translated code's jumps from it left their regions to (see Translator.NoteIndirect), for wide plans; or null.
    /// Replaced, never changed in place.
    /// </summary>
    [FieldOffset(88)] internal ulong[]? IndirectHints;

    public Block(ulong start, Insn* insns, int count, object storage)
    {
        _start = start;
        _insns = insns;
        _count = count;
        _storage = storage;
    }

    public ulong Start => _start;

    /// <summary>How many instructions the block has.</summary>
    public int Count => _count;

    /// <summary>
    /// The instructions. A caller that keeps the span (or a ref into it) past its last use of the block must keep the block
    /// alive (<see cref="GC.KeepAlive"/>): the memory goes back to the storage once no block of its chunk is reachable.
    /// </summary>
    public Span<Insn> Insns => new(_insns, Count);

    /// <summary>The first instruction, for loops that index without bounds checks (see <see cref="Insns"/> on lifetime).</summary>
    public Insn* First => _insns;

    /// <summary>Where the newer successor cache leads (0 when empty): for an indirect jump, the target it last took.</summary>
    public ulong Next1Ip => Next1?.Start ?? 0;

    /// <summary>Where the older successor cache leads (0 when empty): for an indirect jump, the target it took before.</summary>
    public ulong Next2Ip => Next2?.Start ?? 0;

    /// <summary>One past the last byte of the block's code.</summary>
    public ulong End => Count == 0 ? Start : _insns[Count - 1].NextIp;
}
