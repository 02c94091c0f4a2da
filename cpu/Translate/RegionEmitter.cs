using System.Reflection;
using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// The IL context of one region being compiled: guest registers and the lazy-flag state in IL locals,
/// the inlined ExCache front-table probe, and the region's exits. Instruction-family emitters
/// (<c>Emit*.cs</c>) build on the helpers here.
/// </summary>
/// <remarks>
/// Registers live in locals from entry to exit; every exit, fault and interpreter fallback stores the
/// ones the region writes. Flags stay lazy exactly as in <see cref="CpuState"/> (operation, width, result,
/// operands, aux, materialised bits), only in locals: a condition whose producer is known at compile time
/// becomes a direct compare, and nothing is computed for flags nobody reads.
/// </remarks>
sealed partial class RegionEmitter
{
    // Arguments of the region method.
    internal const int ArgRegion = 0, ArgCpu = 1, ArgBudget = 2;

    internal readonly ILGenerator Il;
    readonly Region _region;
    readonly CacheView _shape;
    readonly LocalBuilder[] _gpr = new LocalBuilder[16];
    readonly bool[] _regUsed = new bool[16];
    readonly bool[] _regWritten = new bool[16];
    readonly bool[] _inMemory = new bool[16];
    LocalBuilder _regValue = null!;

    internal LazySlot FOp, FBits, FRes, FS1, FS2, FAux, FFlags;
    LocalBuilder _view = null!, _progress = null!, _sliceBase = null!;
    LocalBuilder _exitRip = null!, _faultSite = null!, _entry = null!, _xmm = null!, _ymmHigh = null!, _fpFast = null!;

    /// <summary>
    /// Set before <see cref="BeginRegion"/> when the region computes SSE floating point inline. Such a region
    /// keeps the host MXCSR at its default, and folds the flags its operations raised into the guest MXCSR
    /// before every call out (which may run .NET code that sets flags of its own) and at a fault or miss exit;
    /// after a call out it clears them again and re-reads whether the guest MXCSR is the default. A normal exit
    /// leaves them in the host (<see cref="CpuState.FpPending"/>) when it enters another region: only the guest's
    /// own floating point raises flags in translated code, and whatever runs .NET code (the runtime's slow paths,
    /// see TranslatedRuntime.Settle) or returns to the dispatcher folds them first.
    /// </summary>
    internal bool UsesFloatingPoint;
    /// <summary>Set when the region holds VEX instructions: the entry then keeps a pointer to the YMM upper halves too.</summary>
    internal bool UsesYmm;
    Label _exitCommon;

    readonly List<LocalBuilder> _tempPool = new();
    int _tempNext;
    readonly List<LocalBuilder> _vecPool = new();
    int _vecNext;

    /// <summary>
    /// Address groups of the block being emitted (see <see cref="PlanAddressGroups"/>): for each instruction its group or -1,
    /// and for each group its base register, the lowest displacement it accesses, the size of the range, whether any
    /// member stores.
    /// </summary>
    int[] _groupOf = Array.Empty<int>();
    /// <summary>
    /// For each member, its access's displacement from the group's base register as it was when the group opened, and
    /// how far that register (RSP, by pushes and the like) has moved since then when the member begins.
    /// </summary>
    long[] _groupDisp = Array.Empty<long>(), _groupMoved = Array.Empty<long>();
    readonly List<(int Base, long Low, int Bytes, bool Store)> _groups = new(8);
    /// <summary>Which groups have their host address in their local (looked up in this block since the last call out).</summary>
    bool[] _probed = Array.Empty<bool>();
    readonly List<LocalBuilder> _groupHosts = new();
    /// <summary>The current instruction's group, or -1, and its displacement.</summary>
    int _insnGroup = -1;
    ulong _insnDisp;
    /// <summary>The current member's <see cref="_groupDisp"/> and <see cref="_groupMoved"/>.</summary>
    long _insnGroupDisp, _insnGroupMoved;

    /// <summary>
    /// Groups the block's accesses at a base register plus a displacement that no write of that register separates, when
    /// they are inline loads and stores of common integer and vector moves and arithmetic: the group's first access looks
    /// its whole range up in the front table (one line, or the region leaves there as at any miss) and the others add their
    /// offset to that host address. A hash's rounds keep their message schedule on the stack and read their input through
    /// one pointer: sha256sum's loop made 141 M inline probes. No group in a region that calls the slow path on a miss (the
    /// call may evict the line), under LRU (every access touches the policy) or across an instruction run by its handler.
    /// A range is at most an eighth of a line. One that is not in one line of the front table (it crosses a line boundary,
    /// as a frame does at some stack depths, or it is not there) leaves the region at the group's first access, as any miss
    /// does; a region that leaves so too often is compiled again with <see cref="GroupsAlone"/>, where such a group's
    /// accesses are probed one by one (see <see cref="_alone"/>), as without the group. Only the regions that need them
    /// carry those out-of-line probes, and each member its test of the group's host address: they were a third of a
    /// hash's IL and half its basic blocks, and the JIT's time goes with both.
    /// </summary>
    internal void PlanAddressGroups(ReadOnlySpan<Insn> insns)
    {
        _groups.Clear();
        if (MissCalls || _shape.TouchesOnHit || insns.Length < 2) return;
        var groupOf = new int[insns.Length];
        var groupDisp = new long[insns.Length];
        var groupMoved = new long[insns.Length];
        long cap = (1L << _shape.LineShift) / 8;
        // The group open on each base register: its index, members and range (displacements from the register's value
        // when the group opened).
        var open = new (int Group, int Members, long Low, long High, bool Store)[16];
        for (int r = 0; r < 16; r++) open[r].Group = -1;
        var groups = new List<(int Base, long Low, int Bytes, bool Store, int Members)>(8);
        // How far RSP has moved since its group opened, by pushes, pops, calls, returns and constant adjustments: a
        // function's saves of its registers and its frame are one group, and so are its restores and its return.
        long rspMoved = 0;
        void Close(int r)
        {
            ref var o = ref open[r];
            if (r == Registers.RSP) rspMoved = 0;
            if (o.Group < 0) return;
            groups[o.Group] = (r, o.Low, (int)(o.High - o.Low + 1), o.Store, o.Members);
            o.Group = -1;
        }
        for (int k = 0; k < insns.Length; k++)
        {
            ref readonly var insn = ref insns[k];
            groupOf[k] = -1;
            var (member, written, rspStep) = GroupUse(insn);
            // A group looks its line up as its first access would have: for reading when that one reads (a line filled by
            // a read is not yet in the table for writing), so a store joins only a group that began with a store.
            if (member is { } m && !(m.Store && open[m.Base].Group >= 0 && !open[m.Base].Store))
            {
                int r = m.Base;
                long moved = r == Registers.RSP ? rspMoved : 0;
                long lo = moved + m.Disp, hi = lo + m.Bytes - 1;
                if (open[r].Group >= 0 && Math.Max(open[r].High, hi) - Math.Min(open[r].Low, lo) >= cap)
                {
                    Close(r);
                    moved = 0;
                    lo = m.Disp;
                    hi = lo + m.Bytes - 1;
                }
                ref var o = ref open[r];
                if (o.Group < 0)
                {
                    o = (groups.Count, 0, lo, hi, m.Store);
                    groups.Add((r, 0, 0, false, 0));
                }
                o.Low = Math.Min(o.Low, lo);
                o.High = Math.Max(o.High, hi);
                o.Members++;
                groupOf[k] = o.Group;
                groupDisp[k] = lo;
                groupMoved[k] = moved;
            }
            for (int r = 0; r < 16; r++)
                if ((written & (1 << r)) != 0) Close(r);
            if (open[Registers.RSP].Group >= 0) rspMoved += rspStep;
        }
        for (int r = 0; r < 16; r++) Close(r);
        // A group of one access gains nothing: that access probes as usual. The others are numbered in order.
        var number = new int[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            if (groups[g].Members < 2) { number[g] = -1; continue; }
            number[g] = _groups.Count;
            _groups.Add((groups[g].Base, groups[g].Low, groups[g].Bytes, groups[g].Store));
        }
        if (_groups.Count == 0) return;
        for (int k = 0; k < groupOf.Length; k++)
            if (groupOf[k] >= 0) groupOf[k] = number[groupOf[k]];
        _groupOf = groupOf;
        _groupDisp = groupDisp;
        _groupMoved = groupMoved;
        if (_probed.Length < _groups.Count) _probed = new bool[_groups.Count];
        while (_groupHosts.Count < _groups.Count) _groupHosts.Add(Il.DeclareLocal(typeof(nint)));
    }

    static readonly InstructionInfoFactory GroupInfo = new();

    /// <summary>
    /// Whether the instruction can be a group's member (its one memory access at a base register plus a displacement,
    /// the base left alone or, for RSP, moved by a known amount after the access): that register, the displacement, the
    /// size and whether it stores; the general registers it writes otherwise, as a mask; and how far it moves RSP when it
    /// moves it by a constant (RSP is then not among the registers written).
    /// </summary>
    static ((int Base, long Disp, int Bytes, bool Store)? Member, int Written, long RspStep) GroupUse(in Insn insn)
    {
        // The stack's own forms, as EmitStack and EmitBranch emit them: one access at RSP, then RSP moves.
        switch (insn.I.Code)
        {
            case Code.Call_rel32_64:
                return ((Registers.RSP, -8, 8, true), 0, -8);
            case Code.Call_rm64 when insn.I.Op0Kind == OpKind.Register && Simple(insn, 0):
                return ((Registers.RSP, -8, 8, true), 0, -8);
            case Code.Retnq:
                return ((Registers.RSP, 0, 8, false), 0, 8);
            case Code.Retnq_imm16:
                return ((Registers.RSP, 0, 8, false), 0, 8 + insn.I.Immediate16);
            case Code.Add_rm64_imm8 or Code.Add_rm64_imm32 or Code.Sub_rm64_imm8 or Code.Sub_rm64_imm32
                when insn.I.Op0Kind == OpKind.Register && insn.I.Op0Register == Register.RSP:
            {
                long imm = (long)insn.I.GetImmediate(1);
                return (null, 0, insn.I.Mnemonic == Mnemonic.Add ? imm : -imm);
            }
        }
        if (insn.I.Mnemonic == Mnemonic.Push && insn.I.StackPointerIncrement == -8 && insn.I.Op0Kind != OpKind.Memory && Simple(insn, 0))
            return ((Registers.RSP, -8, 8, true), 0, -8);
        if (insn.I.Mnemonic == Mnemonic.Pop && insn.I.StackPointerIncrement == 8 && insn.I.Op0Kind == OpKind.Register && IsGpr(insn.I.Op0Register)
            && insn.I.Op0Register.GetFullRegister() != Register.RSP)
            return ((Registers.RSP, 0, 8, false), 1 << Registers.GprIndex[(int)insn.I.Op0Register.GetFullRegister()], 8);

        int written = 0, accesses = 0;
        bool store = false;
        lock (GroupInfo)
        {
            var info = GroupInfo.GetInfo(insn.I);
            foreach (var u in info.GetUsedRegisters())
            {
                if (u.Access is OpAccess.Read or OpAccess.CondRead or OpAccess.None) continue;
                int idx = Registers.GprIndex[(int)u.Register.GetFullRegister()];
                if (idx >= 0) written |= 1 << idx;
            }
            foreach (var m in info.GetUsedMemory())
            {
                accesses++;
                store |= m.Access is not (OpAccess.Read or OpAccess.CondRead);
            }
        }
        if (insn.I.StackPointerIncrement != 0) written |= 1 << Registers.RSP;
        if (insn.I.OpCount == 0 || insn.Base < 0 || insn.Index >= 0 || insn.Seg != 0 || insn.Addr32 || accesses != 1) return (null, written, 0);
        if (!GroupMnemonic(insn.I.Mnemonic) || (written & (1 << insn.Base)) != 0) return (null, written, 0);
        bool hasMemory = false;
        for (int n = 0; n < insn.I.OpCount; n++) hasMemory |= insn.I.GetOpKind(n) == OpKind.Memory;
        int bytes = insn.I.MemorySize.GetSize();
        if (!hasMemory || bytes is < 1 or > 32) return (null, written, 0);
        return ((insn.Base, (long)insn.Disp, bytes, store), written, 0);
    }

    /// <summary>Instructions whose emitters make their one access unconditionally, through <see cref="EmitProbe"/>.</summary>
    static bool GroupMnemonic(Mnemonic m) => m is Mnemonic.Mov or Mnemonic.Add or Mnemonic.Sub or Mnemonic.And or Mnemonic.Or
        or Mnemonic.Xor or Mnemonic.Cmp or Mnemonic.Test or Mnemonic.Adc or Mnemonic.Sbb or Mnemonic.Movzx or Mnemonic.Movsx
        or Mnemonic.Movsxd or Mnemonic.Imul or Mnemonic.Inc or Mnemonic.Dec or Mnemonic.Movd or Mnemonic.Movq or Mnemonic.Movdqa
        or Mnemonic.Movdqu or Mnemonic.Movaps or Mnemonic.Movups;

    // The instruction being emitted.
    internal ulong Ip, NextIp;
    internal int IndexInBlock;
    (Label Label, int Accesses)? _faultLabel;
    readonly List<(Label Label, ulong Ip, int Block, int K, int Accesses, RegisterSet? Reload, PendingFlags? Pending)> _faultStubs = new(16);
    /// <summary>The region's block being emitted (its index in <see cref="Region.Blocks"/>).</summary>
    int _block;
    readonly List<(Label Label, ulong Ip, int Block, int K, int Accesses, PendingFlags? Pending)> _missStubs = new(16);
    Label? _missLabel;
    /// <summary>The block's inline accesses and the waiting flag producer when the current instruction began.</summary>
    int _insnAccesses;
    PendingFlags? _insnPending;

    /// <summary>
    /// Set before <see cref="BeginRegion"/> for a region that calls the ExCache's slow path on a front-table
    /// miss and carries on. Otherwise (the default) a miss leaves the region at the instruction that missed
    /// and the interpreter runs it: the compiled code then makes no call on its memory paths, so the JIT keeps
    /// the guest's registers in host registers instead of spilling them around calls that a hit never makes.
    /// A region whose misses turn out frequent is compiled again this way (<see cref="Translator"/>).
    /// </summary>
    internal bool MissCalls;
    /// <summary>
    /// Set for a region whose address groups left it too often at their first access (see <see cref="PlanAddressGroups"/>):
    /// a group whose range is not in one line then has its accesses probed one by one, out of line, and carries on.
    /// </summary>
    internal bool GroupsAlone;
    /// <summary>Accesses emitted inline so far in the current block (counted per block, not per access).</summary>
    int _blockAccesses;

    /// <summary>The flag producer known at this point of the block, when there is one.</summary>
    /// <summary>The current instruction's flags are overwritten before they can be read or observed (<see cref="FlagLiveness"/>).</summary>
    internal bool FlagsDeadAfter;
    internal FlagOp KnownOp;
    internal int KnownBits;
    internal bool Known;

    // The last producer's operands wait in one of two sets of locals and reach the lazy-flag locals only
    // when something may look at them (a fallback, a fault, an exit, the end of the block): a producer
    // overwritten by the next one before that costs nothing (the JIT drops the dead copies).
    readonly LocalBuilder[] _pendRes = new LocalBuilder[2], _pendS1 = new LocalBuilder[2], _pendS2 = new LocalBuilder[2], _pendAux = new LocalBuilder[2];
    bool _pending;
    int _pendSet;
    PendingAux _pendHasAux;
    /// <summary>For a waiting rotate: where the flags it keeps (SF ZF AF PF) come from.</summary>
    RotateBase _rotBase;

    /// <summary>What the compiler knows about the flags at a point: the producer, and whether it still waits in a set.</summary>
    internal readonly record struct FlagState(bool Known, FlagOp Op, int Bits, bool Pending, int Set, PendingAux HasAux, RotateBase Base);

    internal FlagState SaveFlags() => new(Known, KnownOp, KnownBits, _pending, _pendSet, _pendHasAux, _rotBase);

    internal void RestoreFlags(FlagState f)
    {
        Known = f.Known;
        KnownOp = f.Op;
        KnownBits = f.Bits;
        _pending = f.Pending;
        _pendSet = f.Set;
        _pendHasAux = f.HasAux;
        _rotBase = f.Base;
    }

    internal RegionEmitter(ILGenerator il, Region region, CacheView shape)
    {
        Il = il;
        _region = region;
        _shape = shape;
    }

    // ---- reflection handles ----

    static readonly FieldInfo FR = typeof(CpuState).GetField(nameof(CpuState.R))!;
    internal static readonly FieldInfo FRip = typeof(CpuState).GetField(nameof(CpuState.Rip))!;
    static readonly FieldInfo FFsBase = typeof(CpuState).GetField(nameof(CpuState.FsBase))!;
    static readonly FieldInfo FGsBase = typeof(CpuState).GetField(nameof(CpuState.GsBase))!;
    internal static readonly FieldInfo FMem = typeof(CpuState).GetField(nameof(CpuState.Mem))!;
    static readonly FieldInfo FOpField = typeof(CpuState).GetField(nameof(CpuState.Op))!;
    static readonly FieldInfo FOpBits = typeof(CpuState).GetField(nameof(CpuState.OpBits))!;
    static readonly FieldInfo FFlagRes = typeof(CpuState).GetField(nameof(CpuState.FlagRes))!;
    static readonly FieldInfo FFlagSrc1 = typeof(CpuState).GetField(nameof(CpuState.FlagSrc1))!;
    static readonly FieldInfo FFlagSrc2 = typeof(CpuState).GetField(nameof(CpuState.FlagSrc2))!;
    static readonly FieldInfo FFlagAux = typeof(CpuState).GetField(nameof(CpuState.FlagAux))!;
    static readonly FieldInfo FRflagsBits = typeof(CpuState).GetField(nameof(CpuState.RflagsBits))!;
    static readonly FieldInfo FInterrupt = typeof(CpuState).GetField(nameof(CpuState.InterruptPending))!;
    static readonly FieldInfo FSafePointLimit = typeof(CpuState).GetField(nameof(CpuState.SafePointLimit))!;
    static readonly FieldInfo FPendingFault = typeof(CpuState).GetField(nameof(CpuState.PendingFault))!;
    internal static readonly FieldInfo FXmm = typeof(CpuState).GetField(nameof(CpuState.Xmm))!;
    static readonly MethodInfo MFirstVector = typeof(System.Runtime.InteropServices.MemoryMarshal).GetMethods()
        .Single(m => m.Name == nameof(System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference) && m.IsGenericMethodDefinition)
        .MakeGenericMethod(typeof(System.Runtime.Intrinsics.Vector128<byte>));
    internal static readonly FieldInfo FYmmHigh = typeof(CpuState).GetField(nameof(CpuState.YmmHigh))!;
    static readonly MethodInfo MTouch = typeof(CacheView).GetMethod(nameof(CacheView.TouchSlot))!;
    static readonly FieldInfo FInterpreted = typeof(Region).GetField("<Interpreted>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic)!;
    static readonly MethodInfo MInterpret = typeof(TranslatedRuntime).GetMethod(nameof(TranslatedRuntime.Interpret))!;
    static readonly MethodInfo MCond = typeof(LazyFlags).GetMethod(nameof(LazyFlags.Cond))!;
    static readonly MethodInfo MCarry = typeof(LazyFlags).GetMethod(nameof(LazyFlags.Carry))!;

    static MethodInfo Runtime(string name) => typeof(TranslatedRuntime).GetMethod(name)!;
    static readonly MethodInfo MFpSync = Runtime(nameof(TranslatedRuntime.FpSync));
    static readonly MethodInfo MFpResume = Runtime(nameof(TranslatedRuntime.FpResume));
    static readonly MethodInfo MFpEnter = Runtime(nameof(TranslatedRuntime.FpEnter));
    static readonly MethodInfo MFpSettle = Runtime(nameof(TranslatedRuntime.FpSettle));
    static readonly FieldInfo FFpPending = typeof(CpuState).GetField(nameof(CpuState.FpPending))!;

    /// <summary>Before calling .NET code that is not the guest's: the guest's MXCSR flags are saved (FP regions only).</summary>
    internal void BeforeCallOut()
    {
        if (!UsesFloatingPoint) return;
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Call, MFpSync);
    }

    /// <summary>After such a call: flags cleared again, and the guest MXCSR may have changed (LDMXCSR, a signal).</summary>
    internal void AfterCallOut()
    {
        if (!UsesFloatingPoint) return;
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Call, MFpResume);
        Il.Emit(OpCodes.Stloc, _fpFast);
    }

    /// <summary>Pushes whether inline floating point may run (the guest MXCSR is the default one).</summary>
    internal void LoadFpFast() => Il.Emit(OpCodes.Ldloc, _fpFast);
    static readonly MethodInfo[] MLoad = { Runtime("Load8"), Runtime("Load16"), Runtime("Load32"), Runtime("Load64") };
    static readonly MethodInfo[] MStore = { Runtime("Store8"), Runtime("Store16"), Runtime("Store32"), Runtime("Store64") };
    static readonly MethodInfo MLoad128 = Runtime("Load128");
    static readonly MethodInfo MStore128 = Runtime("Store128");

    static int SizeIndex(int bits) => bits switch { 8 => 0, 16 => 1, 32 => 2, _ => 3 };

    // ---- set-up ----

    /// <summary>
    /// Notes which registers the region reads and writes, so entry loads and exits store only those, and
    /// which of them stay in the CPU state instead of IL locals (see <see cref="CachedRegisters"/>).
    /// </summary>
    internal void UseRegisters(Block[] blocks)
    {
        var info = new InstructionInfoFactory();
        var score = new double[16];
        var frequency = BlockFrequency.Estimate(blocks);
        _frequency = frequency;
        for (int k = 0; k < blocks.Length; k++)
        {
            var b = blocks[k];
            // A use weighs as often as its block runs; a write twice (a register kept in the CPU state costs a
            // load where it is read, a load and a store where it is updated, on the loop's critical path).
            double weight = frequency[k];
            foreach (var insn in b.Insns)
            {
                var ii = info.GetInfo(insn.I);
                foreach (var u in ii.GetUsedRegisters())
                {
                    var full = u.Register.GetFullRegister();
                    int idx = Registers.GprIndex[(int)full];
                    if (idx < 0) continue;
                    _regUsed[idx] = true;
                    score[idx] += weight;
                    if (u.Access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite)
                    {
                        _regWritten[idx] = true;
                        score[idx] += weight;
                    }
                }
                foreach (var m in ii.GetUsedMemory())
                {
                    foreach (var r in new[] { m.Base, m.Index })
                    {
                        int idx = r == Register.None ? -1 : Registers.GprIndex[(int)r.GetFullRegister()];
                        if (idx < 0) continue;
                        _regUsed[idx] = true;
                        score[idx] += weight;
                    }
                }
            }
        }
        // Stack operations and string instructions name RSP/RSI/RDI implicitly; Iced reports them, but be safe.
        _regUsed[Registers.RSP] = _regWritten[Registers.RSP] = true;

        int used = 0;
        for (int i = 0; i < 16; i++) if (_regUsed[i]) used++;
        // Without a loop every use runs about once per entry: the JIT allocates straight-line code well, and
        // locals keep the IL (and the JIT's time on it) smaller, for the registers used often enough to pay for
        // their load and store (NonLoopLocalScore).
        double hottest = 0;
        foreach (var x in frequency) hottest = Math.Max(hottest, x);
        if (used <= CachedRegisters) return;
        if (hottest < 2)
        {
            // RSP stays a local: the stack's address groups follow it.
            for (int i = 0; i < 16; i++) _inMemory[i] = _regUsed[i] && i != Registers.RSP && score[i] < NonLoopLocalScore;
            return;
        }
        // Too many registers for the host's: the ones the hot loops use most keep locals, the others are
        // read and written in the CPU state where they are used, so the JIT has no reason to hold them in a
        // host register through a loop that never touches them (or to spill the loop's own values for them).
        for (int kept = 0; kept < CachedRegisters; kept++)
        {
            int best = -1;
            for (int i = 0; i < 16; i++)
                if (_regUsed[i] && !_inMemory[i] && score[i] >= 0 && (best < 0 || score[i] > score[best])) best = i;
            if (best < 0) break;
            score[best] = -1; // kept
        }
        for (int i = 0; i < 16; i++) _inMemory[i] = _regUsed[i] && score[i] >= 0;
    }

    /// <summary>
    /// How many guest registers a region keeps in IL locals when it uses more. The JIT has 14 allocatable
    /// host registers; the CPU state, the progress counter, the ExCache probe's temporaries and a waiting
    /// flag producer's operands take the others in a loop (Phoenix matrix_multiply's inner loop uses six).
    /// </summary>
    const int CachedRegisters = 6;

    /// <summary>
    /// In a region without a loop that uses more registers than <see cref="CachedRegisters"/>, a register used less
    /// than this often per entry (a write counting twice) stays in the CPU state: as a local it costs a load at entry
    /// and a store at the way out, and with more registers than the host has, a spill to the stack and a reload on
    /// top, for an instruction or two that use it. sqlite3's and CPython's loops, whose regions are large and
    /// branchy and entered every few dozen instructions, ran 6-8 % faster; an unrolled hash's rounds, which use their
    /// registers dozens of times per entry, keep them all in locals.
    /// </summary>
    const double NonLoopLocalScore = 8;

    internal void BeginRegion(Label firstBlock, List<(ulong Ip, Label Label)> entries)
    {
        for (int i = 0; i < 16; i++) _gpr[i] = Il.DeclareLocal(typeof(ulong));
        _regValue = Il.DeclareLocal(typeof(ulong));
        var staging32 = Il.DeclareLocal(typeof(int));
        var staging64 = Il.DeclareLocal(typeof(ulong));
        FOp = LazySlot.Field(FOpField, staging32);
        FBits = LazySlot.Field(FOpBits, staging32);
        FRes = LazySlot.Field(FFlagRes, staging64);
        FS1 = LazySlot.Field(FFlagSrc1, staging64);
        FS2 = LazySlot.Field(FFlagSrc2, staging64);
        FAux = LazySlot.Field(FFlagAux, staging64);
        FFlags = LazySlot.Field(FRflagsBits, staging64);
        for (int k = 0; k < 2; k++)
        {
            _pendRes[k] = Il.DeclareLocal(typeof(ulong));
            _pendS1[k] = Il.DeclareLocal(typeof(ulong));
            _pendS2[k] = Il.DeclareLocal(typeof(ulong));
            _pendAux[k] = Il.DeclareLocal(typeof(ulong));
        }
        _view = Il.DeclareLocal(typeof(CacheView));
        _entry = Il.DeclareLocal(typeof(nint));
        // A managed pointer to XMM0 in the state's array (the array is never replaced), so XMM k is one add away.
        _xmm = Il.DeclareLocal(typeof(System.Runtime.Intrinsics.Vector128<byte>).MakeByRefType());
        _ymmHigh = Il.DeclareLocal(typeof(System.Runtime.Intrinsics.Vector128<byte>).MakeByRefType());
        _progress = Il.DeclareLocal(typeof(long));
        _sliceBase = Il.DeclareLocal(typeof(long));
        _exitRip = Il.DeclareLocal(typeof(ulong));
        _faultSite = Il.DeclareLocal(typeof(int));
        _exitCommon = Il.DefineLabel();
        _leave = Il.DefineLabel();

        // A null CPU is the compiler thread's warm-up call: it makes the JIT compile the method off the guest's time.
        var go = Il.DefineLabel();
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Brtrue, go);
        Il.Ldc8(0L);
        Il.Emit(OpCodes.Ret);
        Il.MarkLabel(go);

        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldfld, FMem);
        Il.Emit(OpCodes.Stloc, _view);
        // The time slice, capped so the fields cannot meet, and counted up from minus itself (see RetireBlock).
        Il.Emit(OpCodes.Ldarg_2);
        Il.Ldc8(MaxSliceBlocks);
        Il.Emit(OpCodes.Call, MMin);
        Il.Ldc4(InstructionShift + InstructionsPerBlockShift);
        Il.Emit(OpCodes.Shl);
        Il.Emit(OpCodes.Stloc, _sliceBase);
        Il.Emit(OpCodes.Ldloc, _sliceBase);
        Il.Emit(OpCodes.Neg);
        Il.Emit(OpCodes.Stloc, _progress);
        // The arrays' first elements without a bounds check: the JIT drops the load in a region that touches no XMM
        // register, where an ldelema's possible exception kept it (two loads and a branch on every entry).
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldfld, FXmm);
        Il.Emit(OpCodes.Call, MFirstVector);
        Il.Emit(OpCodes.Stloc, _xmm);
        if (UsesYmm)
        {
            Il.Emit(OpCodes.Ldarg_1);
            Il.Emit(OpCodes.Ldfld, FYmmHigh);
            Il.Emit(OpCodes.Call, MFirstVector);
            Il.Emit(OpCodes.Stloc, _ymmHigh);
        }
        LoadRegisters(all: true);
        ForgetProducer();
        ForgetLines();
        if (UsesFloatingPoint)
        {
            _fpFast = Il.DeclareLocal(typeof(bool));
            Il.Emit(OpCodes.Ldarg_1);
            Il.Emit(OpCodes.Call, MFpEnter);
            Il.Emit(OpCodes.Stloc, _fpFast);
        }
        if (entries.Count > 0)
        {
            // Entered where the dispatcher found the guest: the head, or one of the other entry blocks.
            Il.Emit(OpCodes.Ldarg_1);
            Il.Emit(OpCodes.Ldfld, FRip);
            Il.Emit(OpCodes.Stloc, _exitRip);
            Il.Emit(OpCodes.Ldloc, _exitRip);
            Il.Ldc8((long)_region.Head);
            Il.Emit(OpCodes.Beq, firstBlock);
            if (entries.Count >= SwitchedEntries && EntryHash(entries) is var (shift, size, multiplier))
            {
                // Many entries (a large region entered from other regions' exits at many blocks): one jump
                // through a table indexed by a few bits of RIP that tell the entries apart, then one compare.
                var cases = new Label[size];
                var other = Il.DefineLabel();
                for (int k = 0; k < size; k++) cases[k] = other;
                var checks = new List<(Label Check, ulong Ip, Label Target)>(4);
                foreach (var (ip, label) in entries)
                {
                    var check = Il.DefineLabel();
                    cases[EntrySlot(ip, shift, size, multiplier)] = check;
                    checks.Add((check, ip, label));
                }
                Il.Emit(OpCodes.Ldloc, _exitRip);
                if (multiplier != 0)
                {
                    Il.Ldc8((long)multiplier);
                    Il.Emit(OpCodes.Mul);
                }
                Il.Ldc4(shift);
                Il.Emit(OpCodes.Shr_Un);
                Il.Emit(OpCodes.Conv_U4);
                Il.Ldc4(size - 1);
                Il.Emit(OpCodes.And);
                Il.Emit(OpCodes.Switch, cases);
                Il.Emit(OpCodes.Br, other);
                foreach (var (check, ip, target) in checks)
                {
                    Il.MarkLabel(check);
                    Il.Emit(OpCodes.Ldloc, _exitRip);
                    Il.Ldc8((long)ip);
                    Il.Emit(OpCodes.Beq, target);
                    Il.Emit(OpCodes.Br, other);
                }
                Il.MarkLabel(other);
            }
            else
            {
                foreach (var (ip, label) in entries)
                {
                    Il.Emit(OpCodes.Ldloc, _exitRip);
                    Il.Ldc8((long)ip);
                    Il.Emit(OpCodes.Beq, label);
                }
            }
        }
        Il.Emit(OpCodes.Br, firstBlock);
    }

    /// <summary>From this many entry blocks on, a region finds its entry through a jump table (<see cref="EntryHash"/>).</summary>
    const int SwitchedEntries = 6;

    /// <summary>
    /// The smallest table (a power of two, at most 4 times the entries) and the shift that give every entry's
    /// address a slot of its own, the slot being a few bits of the address; failing that, a table of up to 8 times
    /// the entries indexed by the top bits of the address times an odd constant (<paramref name="multiplier"/> not 0).
    /// Null when neither is found (the compares are kept then). A wide region entered at 35 blocks spread over two
    /// libraries (zstd's match finder) had no plain bit field that told them apart, and walked a chain of 35 compares.
    /// </summary>
    static (int Shift, int Size, ulong Multiplier)? EntryHash(List<(ulong Ip, Label Label)> entries)
    {
        var used = new HashSet<int>();
        bool Distinct(int shift, int size, ulong multiplier)
        {
            used.Clear();
            foreach (var (ip, _) in entries)
                if (!used.Add(EntrySlot(ip, shift, size, multiplier))) return false;
            return true;
        }
        int smallest = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)entries.Count);
        for (int size = smallest; size <= 4 * entries.Count; size *= 2)
            for (int shift = 0; shift < 12; shift++)
                if (Distinct(shift, size, 0)) return (shift, size, 0);
        // Odd multipliers from a fixed sequence (the same region always gets the same table).
        ulong state = 0x9E3779B97F4A7C15;
        for (int size = smallest; size <= 8 * entries.Count; size *= 2)
        {
            int shift = 64 - System.Numerics.BitOperations.Log2((uint)size);
            for (int k = 0; k < MultipliersTried; k++)
            {
                state += 0x9E3779B97F4A7C15;
                ulong multiplier = (state ^ (state >> 29)) * 0xBF58476D1CE4E5B9 | 1;
                if (Distinct(shift, size, multiplier)) return (shift, size, multiplier);
            }
        }
        return null;
    }

    /// <summary>Multipliers tried per table size: for 35 entries in 256 slots about one in ten gives each its own slot.</summary>
    const int MultipliersTried = 256;

    /// <summary>The slot of <paramref name="ip"/> in a table of <see cref="EntryHash"/>'s shape, as the emitted code computes it.</summary>
    static int EntrySlot(ulong ip, int shift, int size, ulong multiplier) =>
        (int)((uint)((multiplier != 0 ? ip * multiplier : ip) >> shift) & (uint)(size - 1));

    /// <summary>Emits the shared exit and fault paths; call after every block.</summary>
    internal void EndRegion()
    {
        // Each stub names its site by index and shares the code that settles the flags it left waiting, with
        // the other stubs and the exits that left the same producer waiting: one way out for the whole region.
        EmitRefills();
        EmitAlone();
        var sites = new List<FaultSite>(_faultStubs.Count + _missStubs.Count);
        foreach (var (label, ip, block, k, accesses, reload, pending) in _faultStubs)
        {
            Il.MarkLabel(label);
            if (reload is { } set)
            {
                // What the handler may have written (a REP string instruction's progress) is the state now.
                LoadRegisters(set.Written);
                if (set.Flags) ForgetProducer();
            }
            SiteStub(sites, new FaultSite(ip, k, accesses, block, Miss: false), pending);
        }
        // Miss stubs: the same sites, settled as of the start of the instruction, which the interpreter runs again.
        foreach (var (label, ip, block, k, accesses, pending) in _missStubs)
        {
            Il.MarkLabel(label);
            SiteStub(sites, new FaultSite(ip, k, accesses, block, Miss: true), pending);
        }
        foreach (var (p, label) in _settles)
        {
            Il.MarkLabel(label);
            EmitMaterialize(p);
            Il.Emit(OpCodes.Br, _leave);
        }
        _region.FaultSites = sites.ToArray();

        // Every way out stores the registers here, once. A normal exit names no site; the guest continues at
        // _exitRip, in the region linked there or in the dispatcher.
        Il.MarkLabel(_exitCommon);
        Il.Emit(OpCodes.Ldc_I4_M1);
        Il.Emit(OpCodes.Stloc, _faultSite);
        Il.MarkLabel(_leave);
        StoreRegisters();
        var atSite = Il.DefineLabel();
        Il.Emit(OpCodes.Ldloc, _faultSite);
        Il.Emit(OpCodes.Ldc_I4_0);
        Il.Emit(OpCodes.Bge, atSite);
        if (UsesFloatingPoint)
        {
            // The flags stay in the host MXCSR: folded on the way back to the dispatcher, not when the exit enters a region.
            Il.Emit(OpCodes.Ldarg_1);
            Il.Emit(OpCodes.Ldc_I4_1);
            Il.Emit(OpCodes.Stfld, FFpPending);
        }
        EmitExit();

        // A miss exit (the state as the interpreter has it before the instruction; the dispatcher goes on there)
        // or a fault (the state as the interpreter leaves it at the faulting instruction; the fault is raised).
        Il.MarkLabel(atSite);
        BeforeCallOut();
        Il.Emit(OpCodes.Ldarg_0);
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldloc, _faultSite);
        LoadProgress();
        Il.Emit(OpCodes.Ldarg_2);
        Il.Emit(OpCodes.Call, MLeaveAtSite);
        Il.Emit(OpCodes.Ret);
    }

    /// <summary>Adds what <paramref name="value"/> pushes (or 1 when null) to the long field <paramref name="f"/> of the object on the stack.</summary>
    static void AddToField(ILGenerator il, FieldInfo f, Action? value)
    {
        il.Emit(OpCodes.Dup);
        il.Emit(OpCodes.Ldfld, f);
        if (value != null) value();
        else il.Ldc8(1L);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Stfld, f);
    }

    static readonly FieldInfo FRetired = typeof(CpuState).GetField(nameof(CpuState.InstructionsRetired))!;
    static readonly FieldInfo FRegionRun = typeof(Region).GetField(nameof(Region.InstructionsRun))!;
    static readonly FieldInfo FAccesses = typeof(CacheView).GetField(nameof(CacheView.Accesses))!;

    /// <summary>
    /// What is left of the time slice: the budget less the blocks run, counted as one per
    /// <see cref="InstructionsPerBlockShift"/>-th power of two instructions retired, rounded up (so a region that ran
    /// always uses some of it). <paramref name="progress"/> is as <see cref="LoadProgress"/> pushes it.
    /// </summary>
    internal static long SliceLeft(long budget, long progress) =>
        budget - ((InstructionsOf(progress) + (1L << InstructionsPerBlockShift) - 1) >> InstructionsPerBlockShift);

    /// <summary>
    /// Pushes the progress counter as the runtime reads it: the instructions retired from bit
    /// <see cref="InstructionShift"/> up, the inline accesses below (the counter plus the slice it started below zero).
    /// </summary>
    void LoadProgress()
    {
        Il.Emit(OpCodes.Ldloc, _progress);
        Il.Emit(OpCodes.Ldloc, _sliceBase);
        Il.Emit(OpCodes.Add);
    }

    /// <summary>
    /// The end of a normal exit, the registers already in the CPU state: RIP, the finished blocks' instructions and
    /// inline accesses counted (as <see cref="TranslatedRuntime.Retire"/> does), then the next region entered directly
    /// when it can be (see <see cref="ExitStub"/>). A region compiled at run time leaves this to <see cref="ExitStub"/>,
    /// which the JIT compiles once; one saved to the code cache carries it inline.
    /// </summary>
    void EmitExit()
    {
        if (SharedExit)
        {
            Il.Emit(OpCodes.Ldarg_0);
            Il.Emit(OpCodes.Ldarg_1);
            Il.Emit(OpCodes.Ldloc, _exitRip);
            LoadProgress();
            Il.Emit(OpCodes.Ldarg_2);
            Il.Emit(OpCodes.Tailcall);
            Il.Emit(OpCodes.Call, ExitStub.Method);
            Il.Emit(OpCodes.Ret);
            return;
        }
        EmitExit(Il, () => Il.Emit(OpCodes.Ldarg_0), () => Il.Emit(OpCodes.Ldloc, _view), () => Il.Emit(OpCodes.Ldloc, _exitRip),
            LoadProgress, () => Il.Emit(OpCodes.Ldarg_2));
    }

    /// <summary>Set before <see cref="EndRegion"/> to end normal exits in <see cref="ExitStub"/> (a dynamic method) instead of a copy of its code.</summary>
    internal bool SharedExit;

    /// <summary>
    /// The code of <see cref="ExitStub"/>, and of the exits of regions saved to the code cache: the CPU state is argument 1,
    /// the actions push the region, its CPU's view, the guest's next address, the progress counter (as
    /// <see cref="LoadProgress"/> pushes it) and the budget the region was entered with.
    /// </summary>
    internal static void EmitExit(ILGenerator il, Action region, Action view, Action rip, Action progress, Action budget)
    {
        var p = il.DeclareLocal(typeof(long));
        var left = il.DeclareLocal(typeof(long));
        il.Emit(OpCodes.Ldarg_1);
        rip();
        il.Emit(OpCodes.Stfld, FRip);
        progress();
        il.Emit(OpCodes.Stloc, p);
        void Retired()
        {
            il.Emit(OpCodes.Ldloc, p);
            il.Ldc4(InstructionShift);
            il.Emit(OpCodes.Shr);
        }
        il.Emit(OpCodes.Ldarg_1);
        AddToField(il, FRetired, Retired);
        region();
        AddToField(il, FRegionRun, Retired);
        view();
        AddToField(il, FAccesses, () =>
        {
            il.Emit(OpCodes.Ldloc, p);
            il.Ldc8(AccessMask);
            il.Emit(OpCodes.And);
        });
        // What is left of the slice (as SliceLeft works it out).
        budget();
        Retired();
        il.Ldc8((1L << InstructionsPerBlockShift) - 1);
        il.Emit(OpCodes.Add);
        il.Ldc4(InstructionsPerBlockShift);
        il.Emit(OpCodes.Shr);
        il.Emit(OpCodes.Sub);
        il.Emit(OpCodes.Stloc, left);
        EmitChain(il, region, rip, () => il.Emit(OpCodes.Ldloc, left), il.DeclareLocal(typeof(Region)));
    }

    /// <summary>
    /// While the slice lasts and the host wants nothing (a signal, a stop, a yield), an exit linked to a compiled region
    /// continues there by a tail call, so a guest moving between regions never returns to the dispatcher. The call passes
    /// what is left of the slice. An unlinked exit names the region to the dispatcher, which links it when it finds a
    /// region there.
    /// </summary>
    static void EmitChain(ILGenerator il, Action region, Action rip, Action left, LocalBuilder next)
    {
        var back = il.DefineLabel();
        var unlinked = il.DefineLabel();
        left();
        il.Ldc8(0L);
        il.Emit(OpCodes.Ble, back);
        foreach (var wanted in new[] { FInterrupt, FStop, FYield })
        {
            il.Emit(OpCodes.Ldarg_1);
            if (wanted == FInterrupt) il.Emit(OpCodes.Volatile);
            il.Emit(OpCodes.Ldfld, wanted);
            il.Emit(OpCodes.Brtrue, back);
        }
        region();
        rip();
        il.Emit(OpCodes.Call, MLinked);
        il.Emit(OpCodes.Dup);
        il.Emit(OpCodes.Stloc, next);
        il.Emit(OpCodes.Brfalse, unlinked);
        // A region due for a wider plan is entered through the dispatcher, which asks for it.
        il.Emit(OpCodes.Ldloc, next);
        il.Emit(OpCodes.Ldfld, FEntries);
        il.Ldc8(1L);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Ldloc, next);
        il.Emit(OpCodes.Ldfld, FWidenAt);
        il.Emit(OpCodes.Bge, back);
        // next.Entries++, and one more chained entry for the statistics.
        il.Emit(OpCodes.Ldloc, next);
        AddToField(il, FEntries, null);
        il.Emit(OpCodes.Ldarg_1);
        AddToField(il, FChained, null);
        il.Emit(OpCodes.Ldloc, next);
        il.Emit(OpCodes.Ldarg_1);
        left();
        il.Emit(OpCodes.Ldloc, next);
        il.Emit(OpCodes.Ldfld, FCodeAddress);
        il.Emit(OpCodes.Tailcall);
        il.EmitCalli(OpCodes.Calli, System.Reflection.CallingConventions.Standard, typeof(long), RegionCompiler.Parameters, null);
        il.Emit(OpCodes.Ret);
        // An unlinked exit names its region in a method of its own: the store's write barrier is a call, which would
        // cost the linked path a frame that saves registers.
        il.MarkLabel(unlinked);
        il.Emit(OpCodes.Ldarg_1);
        region();
        left();
        il.Emit(OpCodes.Tailcall);
        il.Emit(OpCodes.Call, MUnlinked);
        il.Emit(OpCodes.Ret);
        il.MarkLabel(back);
        // Back to the dispatcher: the flags left in the host go to the guest's MXCSR.
        var settled = il.DefineLabel();
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldfld, FFpPending);
        il.Emit(OpCodes.Brfalse, settled);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Call, MFpSettle);
        il.MarkLabel(settled);
        left();
        il.Emit(OpCodes.Ret);
    }

    static readonly FieldInfo FStop = typeof(CpuState).GetField(nameof(CpuState.StopRequested))!;
    static readonly FieldInfo FYield = typeof(CpuState).GetField(nameof(CpuState.YieldRequested))!;
    static readonly FieldInfo FChained = typeof(CpuState).GetField(nameof(CpuState.RegionsChained))!;
    static readonly MethodInfo MUnlinked = typeof(TranslatedRuntime).GetMethod(nameof(TranslatedRuntime.Unlinked))!;
    static readonly FieldInfo FEntries = typeof(Region).GetField(nameof(Region.Entries))!;
    static readonly FieldInfo FWidenAt = typeof(Region).GetField(nameof(Region.WidenAt))!;
    static readonly FieldInfo FCodeAddress = typeof(Region).GetField(nameof(Region.CodeAddress), BindingFlags.Instance | BindingFlags.NonPublic)!;
    static readonly MethodInfo MLinked = typeof(Region).GetMethod(nameof(Region.Linked), BindingFlags.Instance | BindingFlags.NonPublic)!;

    /// <summary>A stub's body: its site index, then the code that settles the flags it left waiting, or the way out.</summary>
    void SiteStub(List<FaultSite> sites, FaultSite site, PendingFlags? pending)
    {
        Il.Ldc4(sites.Count);
        Il.Emit(OpCodes.Stloc, _faultSite);
        sites.Add(site);
        Il.Emit(OpCodes.Br, pending is { } p ? SettleLabel(p) : _leave);
    }

    /// <summary>The shared code that moves waiting producer <paramref name="p"/> into the lazy flags, then leaves (see <see cref="EndRegion"/>).</summary>
    Label SettleLabel(PendingFlags p)
    {
        if (!_settles.TryGetValue(p, out var label)) _settles[p] = label = Il.DefineLabel();
        return label;
    }

    readonly Dictionary<PendingFlags, Label> _settles = new(PendingFlags.Comparer.Instance);
    Label _leave;

    static readonly MethodInfo MLeaveAtSite = typeof(TranslatedRuntime).GetMethod(nameof(TranslatedRuntime.LeaveAtSite), BindingFlags.Static | BindingFlags.NonPublic)!;

    void LoadRegisters(bool all) => LoadRegisters(all ? 0xffff : 0);

    void LoadRegisters(int mask)
    {
        for (int i = 0; i < 16; i++)
        {
            if (!_regUsed[i] || _inMemory[i] || (mask & (1 << i)) == 0) continue;
            PushRegisterAddress(i);
            Il.Emit(OpCodes.Ldind_I8);
            Il.Emit(OpCodes.Stloc, _gpr[i]);
        }
    }

    void StoreRegisters() => StoreRegisters(0xffff);

    void StoreRegisters(int mask)
    {
        for (int i = 0; i < 16; i++)
        {
            if (!_regWritten[i] || _inMemory[i] || (mask & (1 << i)) == 0) continue;
            PushRegisterAddress(i);
            Il.Emit(OpCodes.Ldloc, _gpr[i]);
            Il.Emit(OpCodes.Stind_I8);
        }
    }

    /// <summary>
    /// At entry, or after a handler that may have set the flags: the lazy flags are in the CPU state (see
    /// <see cref="LazySlot"/>); the compiler only forgets what it knew of their producer.
    /// </summary>
    void ForgetProducer() => Known = false;

    // ---- per instruction ----

    internal void BeginInstruction(in Insn i, int indexInBlock)
    {
        Ip = i.Ip;
        NextIp = i.NextIp;
        IndexInBlock = indexInBlock;
        _insnGroup = indexInBlock < _groupOf.Length ? _groupOf[indexInBlock] : -1;
        _insnDisp = i.Disp;
        if (_insnGroup >= 0)
        {
            _insnGroupDisp = _groupDisp[indexInBlock];
            _insnGroupMoved = _groupMoved[indexInBlock];
        }
        _insnShape = i;
        _rmwAddr = null;
        _faultLabel = null;
        _missLabel = null;
        _insnAccesses = _blockAccesses;
        _insnPending = PendingState();
        _tempNext = 0;
        _vecNext = 0;
    }

    /// <summary>A scratch ulong local, free again at the next instruction.</summary>
    internal LocalBuilder Tmp()
    {
        if (_tempNext == _tempPool.Count) _tempPool.Add(Il.DeclareLocal(typeof(ulong)));
        return _tempPool[_tempNext++];
    }

    readonly Dictionary<Type, LocalBuilder> _typed = new();

    /// <summary>A scratch local of any other type; one per type, so use it only between a push and the next use.</summary>
    internal LocalBuilder TmpOf(Type t)
    {
        if (!_typed.TryGetValue(t, out var l)) _typed[t] = l = Il.DeclareLocal(t);
        return l;
    }

    /// <summary>Pushes the address of XMM register <paramref name="k"/> in the CPU state.</summary>
    internal void XmmAddress(int k)
    {
        Il.Emit(OpCodes.Ldloc, _xmm);
        if (k != 0)
        {
            Il.Ldc4(16 * k);
            Il.Emit(OpCodes.Add);
        }
    }

    /// <summary>Writes the ulong local <paramref name="low"/> to the low quadword of XMM register <paramref name="k"/> and zeroes the high one.</summary>
    internal void SetXmmZeroExtended(int k, LocalBuilder low)
    {
        XmmAddress(k);
        Il.Emit(OpCodes.Dup);
        Il.Emit(OpCodes.Ldloc, low);
        Il.Emit(OpCodes.Stind_I8);
        Il.Emit(OpCodes.Ldc_I4_8);
        Il.Emit(OpCodes.Add);
        Il.Ldc8(0L);
        Il.Emit(OpCodes.Stind_I8);
    }

    /// <summary>Pushes the address of the upper half of YMM register <paramref name="k"/> (needs <see cref="UsesYmm"/>).</summary>
    internal void YmmHighAddress(int k)
    {
        if (!UsesYmm) throw new InvalidOperationException("YMM upper halves used in a region not marked UsesYmm");
        Il.Emit(OpCodes.Ldloc, _ymmHigh);
        if (k != 0)
        {
            Il.Ldc4(16 * k);
            Il.Emit(OpCodes.Add);
        }
    }

    /// <summary>True when every front-table hit must reach the replacement policy (LRU): the 32-byte forms leave those to the interpreter.</summary>
    internal bool TouchesOnHit => _shape.TouchesOnHit;

    /// <summary>A scratch Vector128 local, free again at the next instruction.</summary>
    internal LocalBuilder TmpVec()
    {
        if (_vecNext == _vecPool.Count) _vecPool.Add(Il.DeclareLocal(typeof(System.Runtime.Intrinsics.Vector128<byte>)));
        return _vecPool[_vecNext++];
    }

    /// <summary>Where a slow path of the current instruction goes when it faulted.</summary>
    /// <param name="accesses">The block's inline accesses the interpreter would have counted by the fault.</param>
    Label FaultLabel(int accesses)
    {
        if (_faultLabel is { } f && f.Accesses == accesses) return f.Label;
        var l = Il.DefineLabel();
        _faultStubs.Add((l, Ip, _block, IndexInBlock, accesses, null, PendingState()));
        _faultLabel = (l, accesses);
        return l;
    }

    /// <summary>Where the current instruction leaves the region when an access misses the front table (miss-exit regions).</summary>
    Label MissLabel()
    {
        if (_missLabel is { } l) return l;
        var label = Il.DefineLabel();
        _missStubs.Add((label, Ip, _block, IndexInBlock, _insnAccesses, _insnPending));
        _missLabel = label;
        return label;
    }

    /// <summary>
    /// Where the current instruction leaves the region with the state as it was before it (a miss exit): for a
    /// case an emitter leaves to the interpreter, such as a divide error, which the interpreter then raises.
    /// </summary>
    internal Label LeaveAtInstruction() => MissLabel();

    void BranchIfFaulted(Label target)
    {
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldfld, FPendingFault);
        Il.Emit(OpCodes.Brtrue, target);
    }

    /// <summary>
    /// Runs the current instruction through its interpreter handler: the registers it reads are stored
    /// before, those it writes loaded after, and the flags both ways when it touches them.
    /// </summary>
    /// <summary>Inline accesses the block has counted so far (see <see cref="EmitInterpretedInstead"/>).</summary>
    internal int BlockAccesses => _blockAccesses;

    /// <summary>
    /// The slow path of an instruction whose inline form was laid out first, with its accesses already in the block's
    /// count (counted once, at the block's end): the handler counts its own, so the inline form's are left out of a
    /// fault the handler raises and taken back from the view's count when it returns.
    /// </summary>
    internal void EmitInterpretedInstead(int interpretedIndex, RegisterSet set, int accessesBefore)
    {
        int inline = _blockAccesses - accessesBefore;
        _blockAccesses = accessesBefore;
        EmitInterpreted(interpretedIndex, set);
        _blockAccesses += inline;
        if (inline == 0) return;
        Il.Emit(OpCodes.Ldloc, _view);
        Il.Emit(OpCodes.Dup);
        Il.Emit(OpCodes.Ldfld, FAccesses);
        Il.Ldc8((long)inline);
        Il.Emit(OpCodes.Sub);
        Il.Emit(OpCodes.Stfld, FAccesses);
    }

    internal void EmitInterpreted(int interpretedIndex, RegisterSet set)
    {
        MaterializeFlags();
        // The handler may fill and evict lines: a group's host address is looked up again after it, and so is every
        // form's line.
        Array.Clear(_probed);
        ForgetLines();
        StoreRegisters(set.Read);
        var fault = Il.DefineLabel();
        _faultStubs.Add((fault, Ip, _block, IndexInBlock, _blockAccesses, set, null));
        BeforeCallOut();
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldarg_0);
        Il.Emit(OpCodes.Ldfld, FInterpreted);
        Il.Ldc4(interpretedIndex);
        Il.Emit(OpCodes.Call, MInterpret);
        AfterCallOut();
        Il.Emit(OpCodes.Brtrue, fault);
        LoadRegisters(set.Written);
        if (set.Flags) ForgetProducer();
    }

    // ---- block bookkeeping, exits ----

    /// <summary>
    /// One progress counter, added to once per block, holds the inline memory accesses made (bits 0-23) and the
    /// instructions retired (from bit 24 up). It starts at minus the time slice in the instruction field, so a
    /// safe point only tests its sign: no local is spent on the budget or on an access count, a hit costs no
    /// increment, and a block of fewer than 128 instructions adds a 32-bit immediate (one host instruction: a
    /// 64-bit constant would need a register of its own first). The time slice is measured in instructions,
    /// 2^<see cref="InstructionsPerBlockShift"/> to a block of the dispatcher's budget, capped at
    /// <see cref="MaxSliceBlocks"/> blocks' worth, so a slice's accesses (a few per instruction) never reach bit 24.
    /// </summary>
    internal const int InstructionShift = 24;
    internal const long AccessMask = (1L << InstructionShift) - 1;
    const int InstructionsPerBlockShift = 4;
    const long MaxSliceBlocks = 1L << 12;

    /// <summary>The instructions retired in a progress value as the runtime gets it (see <see cref="LoadProgress"/>).</summary>
    internal static long InstructionsOf(long progress) => progress >> InstructionShift;

    /// <summary>The inline accesses in a progress value as the runtime gets it.</summary>
    internal static long AccessesOf(long progress) => progress & AccessMask;
    static readonly MethodInfo MMin = typeof(Math).GetMethod(nameof(Math.Min), new[] { typeof(long), typeof(long) })!;

    /// <summary>Starts counting the inline accesses of the region's block <paramref name="index"/>.</summary>
    internal void BeginBlock(int index)
    {
        _blockAccesses = 0;
        _block = index;
        _groupOf = Array.Empty<int>();
        _groups.Clear();
        Array.Clear(_probed);
    }

    /// <summary>Counts a finished block: its instructions, its inline accesses and one block of the time slice.</summary>
    internal void RetireBlock(int instructions)
    {
        Il.Emit(OpCodes.Ldloc, _progress);
        Il.Ldc8(((long)instructions << InstructionShift) + _blockAccesses);
        Il.Emit(OpCodes.Add);
        Il.Emit(OpCodes.Stloc, _progress);
        if (_region.Profile is { } profile)
        {
            // With a profile, one more add per block: the block's run counter (pinned, so its address is a constant).
            Il.Ldc8((long)profile.RunCounter(_block));
            Il.Emit(OpCodes.Conv_I);
            Il.Emit(OpCodes.Dup);
            Il.Emit(OpCodes.Ldind_I8);
            Il.Ldc8(1L);
            Il.Emit(OpCodes.Add);
            Il.Emit(OpCodes.Stind_I8);
        }
    }

    static readonly MethodInfo MTrackCall = typeof(Profile.CallTracker).GetMethod(nameof(Profile.CallTracker.Call))!;
    static readonly MethodInfo MTrackReturn = typeof(Profile.CallTracker).GetMethod(nameof(Profile.CallTracker.Return))!;
    static readonly MethodInfo MTrackHandled = typeof(Profile.CallTracker).GetMethod(nameof(Profile.CallTracker.Handled))!;

    /// <summary>
    /// With a profile, after the block's count: reports a CALL or RET at <paramref name="site"/> to the thread's
    /// call tracker, with its target (<paramref name="target"/>, or the constant <paramref name="direct"/>) and RSP.
    /// </summary>
    internal void TrackTransfer(bool call, ulong site, LocalBuilder? target, ulong direct = 0)
    {
        if (_region.Profile == null) return;
        Il.Emit(OpCodes.Ldarg_1);
        LoadProgress();
        Il.Ldc8((long)site);
        if (target != null) Il.Emit(OpCodes.Ldloc, target);
        else Il.Ldc8((long)direct);
        LoadGpr64(Registers.RSP);
        Il.Emit(OpCodes.Call, call ? MTrackCall : MTrackReturn);
        ForgetLines();
    }

    /// <summary>With a profile: a CALL or RET its interpreter handler ran; the tracker reads RIP and RSP from the CPU state.</summary>
    internal void TrackHandledTransfer(in Insn i)
    {
        if (_region.Profile == null || Profile.CallTracker.Transfer(i.I.Code) is not bool call) return;
        Il.Emit(OpCodes.Ldarg_1);
        LoadProgress();
        Il.Ldc8((long)i.Ip);
        Il.Emit(call ? OpCodes.Ldc_I4_1 : OpCodes.Ldc_I4_0);
        Il.Emit(OpCodes.Call, MTrackHandled);
        ForgetLines();
    }

    /// <summary>Leaves the region for the dispatcher at a constant guest address.</summary>
    internal void ExitTo(ulong rip)
    {
        Il.Ldc8((long)rip);
        ExitToStack();
    }

    /// <summary>Leaves the region for the address on the IL stack.</summary>
    internal void ExitToStack()
    {
        Il.Emit(OpCodes.Stloc, _exitRip);
        if (PendingState() is { } p)
        {
            // The flags the producer left waiting are settled in code the region's other ways out share.
            Il.Emit(OpCodes.Ldc_I4_M1);
            Il.Emit(OpCodes.Stloc, _faultSite);
            Il.Emit(OpCodes.Br, SettleLabel(p));
            _pending = false;
        }
        else Il.Emit(OpCodes.Br, _exitCommon);
    }

    /// <summary>Leaves the region at wherever the interpreter handler left RIP.</summary>
    internal void ExitToCpuRip()
    {
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldfld, FRip);
        ExitToStack();
    }

    /// <summary>
    /// A loop back-edge: leaves for the dispatcher when the time slice is used up or the host wants the
    /// thread (a signal, a coherence invalidation, a check-in), so both happen within a bounded time.
    /// </summary>
    internal void SafePoint(ulong rip)
    {
        var go = Il.DefineLabel();
        // The slice is over (the counter reached 0) or an interrupt is pending (the limit is long.MinValue).
        Il.Emit(OpCodes.Ldloc, _progress);
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldfld, FSafePointLimit);
        Il.Emit(OpCodes.Blt, go);
        var state = SaveFlags();
        ExitTo(rip);
        RestoreFlags(state);
        Il.MarkLabel(go);
    }

    // ---- registers ----

    internal void LoadGpr(Register r)
    {
        int idx = Registers.GprIndex[(int)r];
        LoadGpr64(idx);
        switch (Registers.GprSize[(int)r])
        {
            case 8: break;
            case 4: Il.Emit(OpCodes.Conv_U4); Il.Emit(OpCodes.Conv_U8); break;
            case 2: Il.Emit(OpCodes.Conv_U2); Il.Emit(OpCodes.Conv_U8); break;
            default:
                if (Registers.HighByte[(int)r])
                {
                    Il.Emit(OpCodes.Ldc_I4_8);
                    Il.Emit(OpCodes.Shr_Un);
                }
                Il.Emit(OpCodes.Conv_U1);
                Il.Emit(OpCodes.Conv_U8);
                break;
        }
    }

    /// <summary>The full 64-bit register by index, for address arithmetic.</summary>
    internal void LoadGpr64(int idx)
    {
        if (!_inMemory[idx])
        {
            Il.Emit(OpCodes.Ldloc, _gpr[idx]);
            return;
        }
        PushRegisterAddress(idx);
        Il.Emit(OpCodes.Ldind_I8);
    }

    /// <summary>
    /// A managed pointer to register <paramref name="idx"/> inside the CPU state (see <see cref="Gprs"/>): the JIT
    /// folds it into one access at a constant offset from the state, which is in a host register throughout.
    /// </summary>
    void PushRegisterAddress(int idx)
    {
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldflda, FR);
        if (idx == 0) return;
        Il.Ldc4(idx * sizeof(ulong));
        Il.Emit(OpCodes.Add);
    }

    /// <summary>Pops a value into the whole 64-bit register <paramref name="idx"/>.</summary>
    internal void StoreGpr64(int idx)
    {
        if (!_inMemory[idx])
        {
            Il.Emit(OpCodes.Stloc, _gpr[idx]);
            return;
        }
        Il.Emit(OpCodes.Stloc, _regValue);
        PushRegisterAddress(idx);
        Il.Emit(OpCodes.Ldloc, _regValue);
        Il.Emit(OpCodes.Stind_I8);
    }

    /// <summary>Pops a value and writes it to <paramref name="r"/> with x86's partial-register rules.</summary>
    internal void StoreGpr(Register r)
    {
        int idx = Registers.GprIndex[(int)r];
        switch (Registers.GprSize[(int)r])
        {
            case 8: StoreGpr64(idx); return;
            case 4: Il.Emit(OpCodes.Conv_U4); Il.Emit(OpCodes.Conv_U8); StoreGpr64(idx); return;
        }
        var t = Tmp();
        Il.Emit(OpCodes.Stloc, t);
        long keep;
        int shift = 0;
        OpCode narrow;
        if (Registers.GprSize[(int)r] == 2) { keep = ~0xffffL; narrow = OpCodes.Conv_U2; }
        else if (Registers.HighByte[(int)r]) { keep = ~0xff00L; narrow = OpCodes.Conv_U1; shift = 8; }
        else { keep = ~0xffL; narrow = OpCodes.Conv_U1; }
        LoadGpr64(idx);
        Il.Ldc8(keep);
        Il.Emit(OpCodes.And);
        Il.Emit(OpCodes.Ldloc, t);
        Il.Emit(narrow);
        Il.Emit(OpCodes.Conv_U8);
        if (shift != 0)
        {
            Il.Ldc4(shift);
            Il.Emit(OpCodes.Shl);
        }
        Il.Emit(OpCodes.Or);
        StoreGpr64(idx);
    }

    internal static bool IsGpr(Register r) => r != Register.None && Registers.GprIndex[(int)r] >= 0;

    // ---- operands ----

    /// <summary>Pushes the effective address of the instruction's memory operand (segment base included).</summary>
    internal void EmitEa(in Insn i, bool withSegment = true)
    {
        Il.Ldc8((long)i.Disp);
        if (i.Base >= 0)
        {
            LoadGpr64(i.Base);
            Il.Emit(OpCodes.Add);
        }
        if (i.Index >= 0)
        {
            LoadGpr64(i.Index);
            if (i.ScaleShift != 0)
            {
                Il.Ldc4((int)i.ScaleShift);
                Il.Emit(OpCodes.Shl);
            }
            Il.Emit(OpCodes.Add);
        }
        if (i.Addr32)
        {
            Il.Emit(OpCodes.Conv_U4);
            Il.Emit(OpCodes.Conv_U8);
        }
        if (withSegment && i.Seg != 0)
        {
            Il.Emit(OpCodes.Ldarg_1);
            Il.Emit(OpCodes.Ldfld, i.Seg == 1 ? FFsBase : FGsBase);
            Il.Emit(OpCodes.Add);
        }
    }

    /// <summary>Pushes operand <paramref name="n"/> at <paramref name="bits"/>, zero-extended (immediates truncated, as the interpreter does).</summary>
    internal void LoadOperand(in Insn i, int n, int bits)
    {
        switch (i.I.GetOpKind(n))
        {
            case OpKind.Register:
                LoadGpr(i.I.GetOpRegister(n));
                return;
            case OpKind.Memory:
            {
                var a = Tmp();
                EmitEa(i);
                Il.Emit(OpCodes.Stloc, a);
                Load(bits, a);
                return;
            }
            default:
                Il.Ldc8((long)(i.I.GetImmediate(n) & Mask(bits)));
                return;
        }
    }

    internal static ulong Mask(int bits) => bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;

    /// <summary>True when the operand can be emitted: a GPR, memory, or an immediate.</summary>
    internal static bool Simple(in Insn i, int n)
    {
        var k = i.I.GetOpKind(n);
        if (k == OpKind.Register) return IsGpr(i.I.GetOpRegister(n));
        return k is OpKind.Memory or OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or OpKind.Immediate64
            or OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8to64 or OpKind.Immediate32to64;
    }

    /// <summary>Loads operand 0 for a read-modify-write; <paramref name="addr"/> is set for memory and reused by <see cref="StoreDst"/>.</summary>
    internal void LoadDst(in Insn i, int bits, out LocalBuilder? addr)
    {
        if (i.I.Op0Kind == OpKind.Register)
        {
            addr = null;
            LoadGpr(i.I.Op0Register);
            return;
        }
        addr = Tmp();
        EmitEa(i);
        Il.Emit(OpCodes.Stloc, addr);
        if (MissCalls || _shape.TouchesOnHit)
        {
            Load(bits, addr);
            return;
        }
        // The store follows with no safe point between: one probe of the write tag (a writable line is readable)
        // serves both accesses, and the store reuses the host address. A line held read-only leaves the region
        // before the load, as the store's miss would have after it.
        _rmwHost ??= Il.DeclareLocal(typeof(nint));
        EmitProbe(addr, bits / 8, CacheView.EntryWriteTagOffset, MissLabel());
        Il.Emit(OpCodes.Dup);
        Il.Emit(OpCodes.Stloc, _rmwHost);
        EmitLoadAt(bits);
        _rmwAddr = addr;
    }

    LocalBuilder? _rmwHost, _rmwAddr;

    /// <summary>Loads <paramref name="bits"/> from the host address on the stack, zero-extended to 64 bits.</summary>
    void EmitLoadAt(int bits)
    {
        switch (bits)
        {
            case 8: Il.Emit(OpCodes.Ldind_U1); Il.Emit(OpCodes.Conv_U8); break;
            case 16: Il.Emit(OpCodes.Unaligned, (byte)1); Il.Emit(OpCodes.Ldind_U2); Il.Emit(OpCodes.Conv_U8); break;
            case 32: Il.Emit(OpCodes.Unaligned, (byte)1); Il.Emit(OpCodes.Ldind_U4); Il.Emit(OpCodes.Conv_U8); break;
            default: Il.Emit(OpCodes.Unaligned, (byte)1); Il.Emit(OpCodes.Ldind_I8); break;
        }
    }

    /// <summary>Stores the value on the stack (over a host address) as <paramref name="bits"/>.</summary>
    void EmitStoreAt(int bits)
    {
        switch (bits)
        {
            case 8: Il.Emit(OpCodes.Stind_I1); break;
            case 16: Il.Emit(OpCodes.Unaligned, (byte)1); Il.Emit(OpCodes.Stind_I2); break;
            case 32: Il.Emit(OpCodes.Unaligned, (byte)1); Il.Emit(OpCodes.Stind_I4); break;
            default: Il.Emit(OpCodes.Unaligned, (byte)1); Il.Emit(OpCodes.Stind_I8); break;
        }
    }

    internal void StoreDst(in Insn i, int bits, LocalBuilder? addr, LocalBuilder value)
    {
        if (addr == null)
        {
            Il.Emit(OpCodes.Ldloc, value);
            StoreGpr(i.I.Op0Register);
        }
        else Store(bits, addr, value);
    }

    /// <summary>Writes operand 0 (register or memory) from a local.</summary>
    internal void Write0(in Insn i, int bits, LocalBuilder value)
    {
        if (i.I.Op0Kind == OpKind.Register)
        {
            Il.Emit(OpCodes.Ldloc, value);
            StoreGpr(i.I.Op0Register);
            return;
        }
        var a = Tmp();
        EmitEa(i);
        Il.Emit(OpCodes.Stloc, a);
        Store(bits, a, value);
    }

    // ---- memory: the ExCache front table, inlined ----

    /// <summary>entry = table + ((a &gt;&gt; shift) &amp; mask) * size; then compares its tag at <paramref name="tagOffset"/>.</summary>
    void EmitProbe(LocalBuilder a, int bytes, int tagOffset, Label miss)
    {
        if (_insnGroup >= 0)
        {
            var (reg, low, size, store) = _groups[_insnGroup];
            var host = _groupHosts[_insnGroup];
            long offset = _insnGroupDisp - low;
            var alone = Il.DefineLabel();
            var back = Il.DefineLabel();
            bool first = !_probed[_insnGroup];
            if (first)
            {
                // The group's first access looks up the line of its whole range, once: the base plus its lowest displacement
                // up to the range's last byte. Without GroupsAlone a failed look-up is this access's miss (the caller's
                // label: groups are only planned where a miss leaves the region), and the others need no test.
                // The register as it is now, less how far it has moved since the group opened.
                var range = Tmp();
                LoadGpr64(reg);
                Il.Ldc8(low - _insnGroupMoved);
                Il.Emit(OpCodes.Add);
                Il.Emit(OpCodes.Stloc, range);
                ProbeThroughLine(range, size, store ? CacheView.EntryWriteTagOffset : CacheView.EntryReadTagOffset, GroupsAlone ? alone : miss,
                    new LineKey((sbyte)reg, -1, 0, 0, false, (low - _insnGroupMoved) >> _shape.LineShift, store));
                Il.Emit(OpCodes.Stloc, host);
                _probed[_insnGroup] = true;
                _region.LeavingGroups |= !GroupsAlone;
            }
            else if (!GroupsAlone)
            {
                _blockAccesses++;
                _region.Profile?.CountInline(_block, IndexInBlock);
            }
            else
            {
                _blockAccesses++;
                _region.Profile?.CountInline(_block, IndexInBlock);
                // A host address of 0: the range was not at hand, and the group's accesses are probed one by one.
                Il.Emit(OpCodes.Ldloc, host);
                Il.Emit(OpCodes.Brfalse, alone);
            }
            Il.Emit(OpCodes.Ldloc, host);
            if (offset != 0)
            {
                Il.Ldc4((int)offset);
                Il.Emit(OpCodes.Conv_I);
                Il.Emit(OpCodes.Add);
            }
            Il.MarkLabel(back);
            if (GroupsAlone) _alone.Add((alone, back, first ? host : null, a, reg, _insnGroupDisp - _insnGroupMoved, bytes, tagOffset, miss));
            return;
        }
        ProbeThroughLine(a, bytes, tagOffset, miss,
            HasMemoryOperand(_insnShape) ? LineKeyOf(_insnShape, tagOffset == CacheView.EntryWriteTagOffset) : null);
    }

    /// <summary>
    /// Group members probed one by one, out of line: the group's range was not in one line the front table held (it crosses
    /// a line boundary, as a frame does at some stack depths, or it is not there), so each access is looked up as it would
    /// be without the group, and a miss leaves at that access. The first member's look-up clears the group's host address
    /// for the others.
    /// </summary>
    readonly List<(Label Alone, Label Back, LocalBuilder? ClearHost, LocalBuilder A, int Base, long Disp, int Bytes, int TagOffset, Label Miss)> _alone = new(4);

    void EmitAlone()
    {
        foreach (var (alone, back, clearHost, a, reg, disp, bytes, tagOffset, miss) in _alone)
        {
            Il.MarkLabel(alone);
            if (clearHost != null)
            {
                Il.Emit(OpCodes.Ldc_I4_0);
                Il.Emit(OpCodes.Conv_I);
                Il.Emit(OpCodes.Stloc, clearHost);
            }
            // The access's own address (a member's base register is not written within its group, but for RSP moving by known amounts).
            LoadGpr64(reg);
            Il.Ldc8(disp);
            Il.Emit(OpCodes.Add);
            Il.Emit(OpCodes.Stloc, a);
            ProbeLine(a, bytes, tagOffset, miss, count: false);
            Il.Emit(OpCodes.Br, back);
        }
    }

    /// <summary>Pushes the host address of the guest address in <paramref name="a"/> when its <paramref name="bytes"/> lie in a line the front table holds, else branches to <paramref name="miss"/>.</summary>
    void ProbeLine(LocalBuilder a, int bytes, int tagOffset, Label miss, bool count = true)
    {
        // The front table is at a fixed address for the view's lifetime and every CPU running this region uses
        // that view. In the low 2 GiB (the usual case) _entry holds the entry's offset in the table and each
        // field is read at [offset + table + field], the table's address a displacement the JIT folds into
        // the instruction; elsewhere _entry holds the entry's address.
        long table = _shape.FrontTable;
        bool low = table + ((long)CacheView.FrontTableMask + 1) * CacheView.EntrySize <= int.MaxValue;
        if (!low)
        {
            Il.Ldc8(table);
            Il.Emit(OpCodes.Conv_I);
        }
        Il.Emit(OpCodes.Ldloc, a);
        int entryShift = System.Numerics.BitOperations.Log2((uint)CacheView.EntrySize);
        if (1 << entryShift == CacheView.EntrySize && _shape.LineShift >= entryShift)
        {
            // (a >> lineShift & mask) * size as one shift and one mask: a host instruction fewer per access. The
            // shift is written as a rotation, which the JIT emits as RORX where the host has BMI2: it leaves the
            // address in its register, so no copy is needed (the mask clears the bits rotated in at the top).
            int shift = _shape.LineShift - entryShift;
            Il.Ldc4(shift);
            Il.Emit(OpCodes.Shr_Un);
            if (shift > 0)
            {
                Il.Emit(OpCodes.Ldloc, a);
                Il.Ldc4(64 - shift);
                Il.Emit(OpCodes.Shl);
                Il.Emit(OpCodes.Or);
            }
            Il.Ldc8((long)CacheView.FrontTableMask << entryShift);
            Il.Emit(OpCodes.And);
            Il.Emit(OpCodes.Conv_I);
        }
        else
        {
            Il.Ldc4(_shape.LineShift);
            Il.Emit(OpCodes.Shr_Un);
            Il.Ldc8((long)CacheView.FrontTableMask);
            Il.Emit(OpCodes.And);
            Il.Emit(OpCodes.Conv_I);
            Il.Ldc4(CacheView.EntrySize);
            Il.Emit(OpCodes.Mul);
        }
        if (!low) Il.Emit(OpCodes.Add);
        Il.Emit(OpCodes.Stloc, _entry);
        EntryField(low, tagOffset);
        Il.Emit(OpCodes.Ldind_I8);
        // The tag of the access's last byte: an access that crosses into the next line never matches.
        Il.Emit(OpCodes.Ldloc, a);
        if (bytes > 1)
        {
            Il.Ldc8((long)(bytes - 1));
            Il.Emit(OpCodes.Add);
        }
        Il.Ldc8((long)_shape.TagMask);
        Il.Emit(OpCodes.And);
        Il.Emit(OpCodes.Bne_Un, miss);
        if (_shape.TouchesOnHit)
        {
            Il.Emit(OpCodes.Ldloc, _view);
            EntryField(low, CacheView.EntrySlotOffset);
            Il.Emit(OpCodes.Ldind_I4);
            Il.Emit(OpCodes.Call, MTouch);
        }
        // Counted once per block by RetireBlock; the slow path takes back the count its call makes.
        if (count)
        {
            _blockAccesses++;
            _region.Profile?.CountInline(_block, IndexInBlock);
        }
        // host address = addend + a
        EntryField(low, CacheView.EntryAddendOffset);
        Il.Emit(OpCodes.Ldind_I);
        Il.Emit(OpCodes.Ldloc, a);
        Il.Emit(OpCodes.Conv_I);
        Il.Emit(OpCodes.Add);
    }

    /// <summary>Pushes the address of the probed entry's field at <paramref name="offset"/>.</summary>
    void EntryField(bool low, int offset)
    {
        Il.Emit(OpCodes.Ldloc, _entry);
        long displacement = (low ? _shape.FrontTable : 0) + offset;
        if (displacement == 0) return;
        Il.Ldc4((int)displacement);
        Il.Emit(OpCodes.Conv_I);
        Il.Emit(OpCodes.Add);
    }

    /// <summary>Pushes the zero-extended value of <paramref name="bits"/> at the address in <paramref name="a"/>.</summary>
    internal void Load(int bits, LocalBuilder a)
    {
        if (!MissCalls)
        {
            // A miss leaves the region: the value stays on the stack, with no temporary for the JIT to track.
            EmitProbe(a, bits / 8, CacheView.EntryReadTagOffset, MissLabel());
            EmitLoadAt(bits);
            return;
        }
        var v = Tmp();
        var miss = Il.DefineLabel();
        var done = Il.DefineLabel();
        EmitProbe(a, bits / 8, CacheView.EntryReadTagOffset, miss);
        EmitLoadAt(bits);
        Il.Emit(OpCodes.Stloc, v);
        Il.Emit(OpCodes.Br, done);
        SlowPath(miss, () =>
        {
            Il.Emit(OpCodes.Ldloc, a);
            Il.Emit(OpCodes.Call, MLoad[SizeIndex(bits)]);
            Il.Emit(OpCodes.Stloc, v);
        });
        Il.MarkLabel(done);
        Il.Emit(OpCodes.Ldloc, v);
    }

    /// <summary>
    /// The IL local that holds <paramref name="r"/> when its value can stand for the register's low bits as they
    /// are stored (a 32-, 16- or 8-bit store keeps the low bytes): none for AH-DH or a register kept in the CPU state.
    /// </summary>
    internal LocalBuilder? StorableGpr(Register r)
    {
        if (!IsGpr(r) || Registers.HighByte[(int)r]) return null;
        int idx = Registers.GprIndex[(int)r];
        return _inMemory[idx] ? null : _gpr[idx];
    }

    /// <summary>Stores the low <paramref name="bits"/> of <paramref name="v"/> at the address in <paramref name="a"/>.</summary>
    internal void Store(int bits, LocalBuilder a, LocalBuilder v)
    {
        if (_rmwAddr == a && _rmwHost != null)
        {
            // The write half of a read-modify-write whose probe LoadDst made: counted, no second probe.
            _rmwAddr = null;
            _blockAccesses++;
            _region.Profile?.CountInline(_block, IndexInBlock);
            Il.Emit(OpCodes.Ldloc, _rmwHost);
            Il.Emit(OpCodes.Ldloc, v);
            EmitStoreAt(bits);
            return;
        }
        var miss = MissCalls ? Il.DefineLabel() : MissLabel();
        var done = Il.DefineLabel();
        EmitProbe(a, bits / 8, CacheView.EntryWriteTagOffset, miss);
        Il.Emit(OpCodes.Ldloc, v);
        switch (bits)
        {
            case 8: Il.Emit(OpCodes.Stind_I1); break;
            case 16: Il.Emit(OpCodes.Unaligned, (byte)1); Il.Emit(OpCodes.Stind_I2); break;
            case 32: Il.Emit(OpCodes.Unaligned, (byte)1); Il.Emit(OpCodes.Stind_I4); break;
            default: Il.Emit(OpCodes.Unaligned, (byte)1); Il.Emit(OpCodes.Stind_I8); break;
        }
        if (!MissCalls) return;
        Il.Emit(OpCodes.Br, done);
        SlowPath(miss, () =>
        {
            Il.Emit(OpCodes.Ldloc, a);
            Il.Emit(OpCodes.Ldloc, v);
            Il.Emit(OpCodes.Call, MStore[SizeIndex(bits)]);
        });
        Il.MarkLabel(done);
    }

    /// <summary>Pushes the 128-bit value at <paramref name="a"/> as a Vector128&lt;byte&gt;.</summary>
    internal void Load128(LocalBuilder a, LocalBuilder dst)
    {
        var miss = MissCalls ? Il.DefineLabel() : MissLabel();
        var done = Il.DefineLabel();
        EmitProbe(a, 16, CacheView.EntryReadTagOffset, miss);
        Il.Emit(OpCodes.Unaligned, (byte)1);
        Il.Emit(OpCodes.Ldobj, typeof(System.Runtime.Intrinsics.Vector128<byte>));
        Il.Emit(OpCodes.Stloc, dst);
        if (!MissCalls) return;
        Il.Emit(OpCodes.Br, done);
        SlowPath(miss, () =>
        {
            Il.Emit(OpCodes.Ldloc, a);
            Il.Emit(OpCodes.Call, MLoad128);
            Il.Emit(OpCodes.Stloc, dst);
        });
        Il.MarkLabel(done);
    }

    /// <summary>
    /// Loads the 32 bytes at <paramref name="a"/> into two halves. One probe covers them (a pair of lines, or a line
    /// not readable, leaves the region at the instruction, where the interpreter runs it); it counts as the
    /// interpreter's two 16-byte reads.
    /// </summary>
    internal void Load256(LocalBuilder a, LocalBuilder lo, LocalBuilder hi)
    {
        EmitProbe(a, 32, CacheView.EntryReadTagOffset, MissLabel());
        Il.Emit(OpCodes.Dup);
        Il.Emit(OpCodes.Unaligned, (byte)1);
        Il.Emit(OpCodes.Ldobj, typeof(System.Runtime.Intrinsics.Vector128<byte>));
        Il.Emit(OpCodes.Stloc, lo);
        Il.Ldc4(16);
        Il.Emit(OpCodes.Add);
        Il.Emit(OpCodes.Unaligned, (byte)1);
        Il.Emit(OpCodes.Ldobj, typeof(System.Runtime.Intrinsics.Vector128<byte>));
        Il.Emit(OpCodes.Stloc, hi);
        CountAccesses(1);
    }

    /// <summary>
    /// Stores two halves as 32 bytes at <paramref name="a"/>, probed once for writing (a miss leaves at the
    /// instruction, so nothing is written); it counts as the interpreter's four writes (both ends first, then the halves).
    /// </summary>
    internal void Store256(LocalBuilder a, LocalBuilder lo, LocalBuilder hi)
    {
        EmitProbe(a, 32, CacheView.EntryWriteTagOffset, MissLabel());
        Il.Emit(OpCodes.Dup);
        Il.Emit(OpCodes.Ldloc, lo);
        Il.Emit(OpCodes.Unaligned, (byte)1);
        Il.Emit(OpCodes.Stobj, typeof(System.Runtime.Intrinsics.Vector128<byte>));
        Il.Ldc4(16);
        Il.Emit(OpCodes.Add);
        Il.Emit(OpCodes.Ldloc, hi);
        Il.Emit(OpCodes.Unaligned, (byte)1);
        Il.Emit(OpCodes.Stobj, typeof(System.Runtime.Intrinsics.Vector128<byte>));
        CountAccesses(3);
    }

    /// <summary>Counts accesses the interpreter would make beyond the one an inline probe counted.</summary>
    void CountAccesses(int n)
    {
        for (int k = 0; k < n; k++)
        {
            _blockAccesses++;
            _region.Profile?.CountInline(_block, IndexInBlock);
        }
    }

    internal void Store128(LocalBuilder a, LocalBuilder src)
    {
        var miss = MissCalls ? Il.DefineLabel() : MissLabel();
        var done = Il.DefineLabel();
        EmitProbe(a, 16, CacheView.EntryWriteTagOffset, miss);
        Il.Emit(OpCodes.Ldloc, src);
        Il.Emit(OpCodes.Unaligned, (byte)1);
        Il.Emit(OpCodes.Stobj, typeof(System.Runtime.Intrinsics.Vector128<byte>));
        if (!MissCalls) return;
        Il.Emit(OpCodes.Br, done);
        SlowPath(miss, () =>
        {
            Il.Emit(OpCodes.Ldloc, a);
            Il.Emit(OpCodes.Ldloca, src);
            Il.Emit(OpCodes.Call, MStore128);
        });
        Il.MarkLabel(done);
    }

    /// <summary>
    /// A front-table miss: the CPU argument and the instruction's address, then <paramref name="call"/> pushes the rest and calls the
    /// runtime; a parked fault branches to the instruction's fault stub.
    /// </summary>
    void SlowPath(Label miss, Action call)
    {
        Il.MarkLabel(miss);
        BeforeCallOut();
        Il.Emit(OpCodes.Ldarg_1);
        // The instruction's address, to which a trace charges the access and any miss it makes.
        Il.Ldc8((long)Ip);
        call();
        AfterCallOut();
        // The fill may have evicted any form's line.
        ForgetLines();
        BranchIfFaulted(FaultLabel(_blockAccesses));
    }

    /// <summary>#GP unless the address in <paramref name="a"/> is 16-byte aligned (MOVAPS, MOVDQA, PXOR m128 ...).</summary>
    internal void CheckAligned16(LocalBuilder a, bool store)
    {
        var ok = Il.DefineLabel();
        Il.Emit(OpCodes.Ldloc, a);
        Il.Ldc8(15L);
        Il.Emit(OpCodes.And);
        Il.Ldc8(0L);
        if (!MissCalls)
        {
            // The interpreter raises the #GP when it runs the instruction.
            Il.Emit(OpCodes.Bne_Un, MissLabel());
            return;
        }
        Il.Emit(OpCodes.Beq, ok);
        Il.Emit(OpCodes.Ldarg_1);
        Il.Ldc8((long)Ip);
        Il.Emit(OpCodes.Ldloc, a);
        Il.Emit(store ? OpCodes.Ldc_I4_1 : OpCodes.Ldc_I4_0);
        Il.Emit(OpCodes.Call, typeof(TranslatedRuntime).GetMethod(nameof(TranslatedRuntime.AlignmentFault))!);
        Il.Emit(OpCodes.Br, FaultLabel(_blockAccesses));
        Il.MarkLabel(ok);
    }

    // ---- flags ----

    /// <summary>Records a flag-setting operation lazily, exactly as <see cref="CpuState.SetFlags"/> does.</summary>
    internal void SetFlags(FlagOp op, int bits, LocalBuilder res, LocalBuilder? s1, LocalBuilder? s2, LocalBuilder? aux = null)
        => SetFlags(op, bits, res, s1, s2, aux, aux != null ? PendingAux.Local : PendingAux.None);

    /// <summary>
    /// IMUL's flags: ZF/SF/PF from the product, CF=OF from whether it was truncated, which is worked out
    /// from the factors only where the flags are materialised (an exit, a fault, a reader): the JIT drops the
    /// factors' copies when the next producer comes first, so a multiply whose flags nobody sees costs a MUL.
    /// </summary>
    internal void SetFlagsImul(int bits, LocalBuilder res, LocalBuilder a, LocalBuilder b)
        => SetFlags(FlagOp.ResultAux, bits, res, a, b, null, bits == 64 ? PendingAux.Imul64 : PendingAux.Imul32);

    void SetFlags(FlagOp op, int bits, LocalBuilder res, LocalBuilder? s1, LocalBuilder? s2, LocalBuilder? aux, PendingAux auxKind)
    {
        // Overwritten before anything can read or observe them: the previous producer's state stands in.
        if (FlagsDeadAfter) return;
        int set = _pending ? 1 - _pendSet : _pendSet;
        // An emitter that computed into the locals of NextFlagLocals needs no copies.
        if (res != _pendRes[set]) { Il.Emit(OpCodes.Ldloc, res); Il.Emit(OpCodes.Stloc, _pendRes[set]); }
        if (s1 != null && s1 != _pendS1[set]) { Il.Emit(OpCodes.Ldloc, s1); Il.Emit(OpCodes.Stloc, _pendS1[set]); }
        if (s2 != null && s2 != _pendS2[set]) { Il.Emit(OpCodes.Ldloc, s2); Il.Emit(OpCodes.Stloc, _pendS2[set]); }
        if (aux != null) { Il.Emit(OpCodes.Ldloc, aux); Il.Emit(OpCodes.Stloc, _pendAux[set]); }
        _pending = true;
        _pendSet = set;
        _pendHasAux = auxKind;
        Known = true;
        KnownOp = op;
        KnownBits = bits;
    }

    /// <summary>
    /// The locals the next <see cref="SetFlags(FlagOp, int, LocalBuilder, LocalBuilder?, LocalBuilder?, LocalBuilder?)"/>
    /// stores its result and operands in, for an emitter to compute into directly (fewer locals and copies for the
    /// JIT); null when the flags are dead after the instruction. They are not the waiting producer's, which a miss
    /// or fault before the new producer is set still leaves as it was.
    /// </summary>
    internal (LocalBuilder Res, LocalBuilder S1, LocalBuilder S2)? NextFlagLocals()
    {
        if (FlagsDeadAfter) return null;
        int set = _pending ? 1 - _pendSet : _pendSet;
        return (_pendRes[set], _pendS1[set], _pendS2[set]);
    }

    /// <summary>As <see cref="CpuState.SetFlagsAux"/>: ZF/SF/PF from the result, CF/OF/AF from <paramref name="aux"/>.</summary>
    internal void SetFlagsAux(int bits, LocalBuilder res, LocalBuilder aux) => SetFlags(FlagOp.ResultAux, bits, res, null, null, aux);

    PendingFlags? PendingState() => _pending
        ? new PendingFlags(KnownOp, KnownBits, _pendSet, _pendHasAux, _pendHasAux is PendingAux.Rol or PendingAux.Ror ? _rotBase : default)
        : null;

    /// <summary>Moves a waiting producer into the lazy-flag locals (as CpuState.SetFlags would have stored it).</summary>
    internal void MaterializeFlags()
    {
        if (!_pending) return;
        EmitMaterialize(PendingState()!.Value);
        _pending = false;
    }

    static readonly MethodInfo MImulFlags32 = typeof(TranslatedRuntime).GetMethod(nameof(TranslatedRuntime.ImulFlags32), BindingFlags.Static | BindingFlags.NonPublic)!;
    static readonly MethodInfo MImulFlags64 = typeof(TranslatedRuntime).GetMethod(nameof(TranslatedRuntime.ImulFlags64), BindingFlags.Static | BindingFlags.NonPublic)!;

    void EmitMaterialize(PendingFlags p)
    {
        if (p.Aux is PendingAux.Rol or PendingAux.Ror)
        {
            EmitMaterializeRotate(p);
            return;
        }
        var (op, bits, set, aux) = (p.Op, p.Bits, p.Set, p.Aux);
        Il.Ldc4((int)op);
        FOp.Store(Il);
        Il.Ldc4(bits);
        FBits.Store(Il);
        // A subtraction's result is its operands' difference: the lazy flags leave it out (see LazyFlags).
        if (op != FlagOp.Sub)
        {
            Il.Emit(OpCodes.Ldloc, _pendRes[set]);
            FRes.Store(Il);
        }
        if (op is FlagOp.Add or FlagOp.Adc or FlagOp.Sub or FlagOp.Sbb or FlagOp.Inc or FlagOp.Dec)
        {
            Il.Emit(OpCodes.Ldloc, _pendS1[set]);
            FS1.Store(Il);
            Il.Emit(OpCodes.Ldloc, _pendS2[set]);
            FS2.Store(Il);
        }
        else if (op == FlagOp.Logic)
        {
            Il.Ldc8(0L);
            FS1.Store(Il);
            Il.Ldc8(0L);
            FS2.Store(Il);
        }
        switch (aux)
        {
            case PendingAux.Local:
                Il.Emit(OpCodes.Ldloc, _pendAux[set]);
                FAux.Store(Il);
                break;
            case PendingAux.Imul32 or PendingAux.Imul64:
                Il.Emit(OpCodes.Ldloc, _pendS1[set]);
                Il.Emit(OpCodes.Ldloc, _pendS2[set]);
                Il.Emit(OpCodes.Call, aux == PendingAux.Imul64 ? MImulFlags64 : MImulFlags32);
                FAux.Store(Il);
                break;
        }
    }

    /// <summary>
    /// ROL/ROR by a non-zero immediate: CF and OF from the result, the other four kept. Nothing is computed
    /// here: the result waits in a set, and the producer it keeps flags from stays where it was (waiting in
    /// the other set, or in the lazy-flag locals), so a rotate whose flags are overwritten unseen costs nothing.
    /// A rotate after a waiting rotate replaces it and keeps its base, since it overwrites both of its flags.
    /// </summary>
    internal void SetFlagsRotate(bool left, int bits, LocalBuilder r)
    {
        if (FlagsDeadAfter) return;
        int set;
        RotateBase b;
        if (_pending && _pendHasAux is PendingAux.Rol or PendingAux.Ror) { set = _pendSet; b = _rotBase; }
        else if (_pending) { set = 1 - _pendSet; b = new RotateBase(true, KnownOp, KnownBits, _pendHasAux, false); }
        else { set = _pendSet; b = new RotateBase(false, FlagOp.None, 0, PendingAux.None, Known && KnownOp == FlagOp.None); }
        Il.Emit(OpCodes.Ldloc, r);
        Il.Emit(OpCodes.Stloc, _pendRes[set]);
        _pending = true;
        _pendSet = set;
        _pendHasAux = left ? PendingAux.Rol : PendingAux.Ror;
        _rotBase = b;
        Known = true;
        KnownOp = FlagOp.None;
        KnownBits = bits;
    }

    /// <summary>Folds a waiting rotate into the materialised bits: its base's flags, then its CF and OF.</summary>
    void EmitMaterializeRotate(PendingFlags p)
    {
        var b = p.Base;
        if (b.Pending) EmitMaterialize(new PendingFlags(b.Op, b.Bits, 1 - p.Set, b.Aux, default));
        if (!b.Materialized)
        {
            EmitPushLazyLocals();
            Il.Emit(OpCodes.Call, MCompute);
            FFlags.Load(Il);
            Il.Ldc8(~(long)Rf.Arith);
            Il.Emit(OpCodes.And);
            Il.Emit(OpCodes.Or);
            FFlags.Store(Il);
        }
        MergeRotateFlags(p.Aux == PendingAux.Rol, p.Bits, _pendRes[p.Set]);
        Il.Ldc4((int)FlagOp.None);
        FOp.Store(Il);
    }

    /// <summary>
    /// Replaces CF and OF in the materialised bits with a rotate's, from its result <paramref name="r"/>:
    /// ROL: CF = bit 0, OF = MSB ^ CF. ROR: CF = MSB, OF = MSB ^ the bit below it.
    /// </summary>
    internal void MergeRotateFlags(bool left, int bits, LocalBuilder r)
    {
        var cf = Tmp();
        void Bit(int n)
        {
            Il.Emit(OpCodes.Ldloc, r);
            if (n != 0)
            {
                Il.Ldc4(n);
                Il.Emit(OpCodes.Shr_Un);
            }
            Il.Ldc8(1L);
            Il.Emit(OpCodes.And);
        }
        Bit(left ? 0 : bits - 1);
        Il.Emit(OpCodes.Stloc, cf);
        Il.Emit(OpCodes.Ldloc, cf);
        Bit(left ? bits - 1 : bits - 2);
        Il.Emit(OpCodes.Xor);
        Il.Ldc4(11);
        Il.Emit(OpCodes.Shl);
        Il.Emit(OpCodes.Ldloc, cf);
        Il.Emit(OpCodes.Or);
        FFlags.Load(Il);
        Il.Ldc8(~(long)(Rf.CF | Rf.OF));
        Il.Emit(OpCodes.And);
        Il.Emit(OpCodes.Or);
        FFlags.Store(Il);
    }

    // The operands a known-producer condition reads: the waiting set, or the lazy-flag locals.
    LazySlot CurRes => _pending ? LazySlot.Local(_pendRes[_pendSet]) : FRes;
    LazySlot CurS1 => _pending ? LazySlot.Local(_pendS1[_pendSet]) : FS1;
    LazySlot CurS2 => _pending ? LazySlot.Local(_pendS2[_pendSet]) : FS2;
    LazySlot CurAux
    {
        get
        {
            // A factor-based producer has no aux local until it is materialised (stack-neutral IL, so safe here).
            if (_pending && _pendHasAux is PendingAux.Imul32 or PendingAux.Imul64) MaterializeFlags();
            return _pending && _pendHasAux == PendingAux.Local ? LazySlot.Local(_pendAux[_pendSet]) : FAux;
        }
    }

    /// <summary>Pushes the six lazy fields and the materialised bits, the arguments of <see cref="LazyFlags"/>'s functions.</summary>
    void PushLazy()
    {
        MaterializeFlags();
        EmitPushLazyLocals();
    }

    void EmitPushLazyLocals()
    {
        FOp.Load(Il);
        FBits.Load(Il);
        FRes.Load(Il);
        FS1.Load(Il);
        FS2.Load(Il);
        FAux.Load(Il);
        FFlags.Load(Il);
    }

    /// <summary>Pushes CF as a ulong 0 or 1.</summary>
    internal void EmitCarry()
    {
        // A waiting rotate's CF is not in the materialised bits yet.
        if (_pending && Known && KnownOp == FlagOp.None) MaterializeFlags();
        if (Known)
        {
            switch (KnownOp)
            {
                case FlagOp.Add:
                    CurRes.Load(Il); CurS1.Load(Il); Il.Emit(OpCodes.Clt_Un); Il.Emit(OpCodes.Conv_U8);
                    return;
                case FlagOp.Sub:
                    CurS1.Load(Il); CurS2.Load(Il); Il.Emit(OpCodes.Clt_Un); Il.Emit(OpCodes.Conv_U8);
                    return;
                case FlagOp.Logic:
                    Il.Ldc8(0L);
                    return;
                case FlagOp.Inc or FlagOp.Dec or FlagOp.None:
                    FFlags.Load(Il); Il.Ldc8(1L); Il.Emit(OpCodes.And);
                    return;
                case FlagOp.ResultAux:
                    CurAux.Load(Il); Il.Ldc8(1L); Il.Emit(OpCodes.And);
                    return;
            }
        }
        PushLazy();
        Il.Emit(OpCodes.Call, MCarry);
        Il.Emit(OpCodes.Conv_U8);
    }

    /// <summary>Keeps CF in the materialised bits before INC/DEC, as <see cref="CpuState.PreserveCarry"/> does.</summary>
    internal void PreserveCarry()
    {
        if (Known && KnownOp is FlagOp.Inc or FlagOp.Dec) return;
        var cf = Tmp();
        EmitCarry();
        Il.Emit(OpCodes.Stloc, cf);
        if (!Known)
        {
            // Inc/Dec already keep CF in the bits; the helper's answer is that same bit then.
        }
        FFlags.Load(Il);
        Il.Ldc8(~(long)Rf.CF);
        Il.Emit(OpCodes.And);
        Il.Emit(OpCodes.Ldloc, cf);
        Il.Emit(OpCodes.Or);
        FFlags.Store(Il);
    }

    /// <summary>Pushes condition <paramref name="cc"/> (0..15) as an int32 0 or 1.</summary>
    internal void EmitCond(int cc)
    {
        if (Known && TryEmitKnownCond(cc)) return;
        PushLazy();
        Il.Ldc4(cc);
        Il.Emit(OpCodes.Call, MCond);
    }

    void Not() { Il.Emit(OpCodes.Ldc_I4_0); Il.Emit(OpCodes.Ceq); }

    void ResIsZero() { CurRes.Load(Il); Il.Ldc8(0L); Il.Emit(OpCodes.Ceq); }

    void ResSign()
    {
        if (!_pending && KnownOp == FlagOp.Sub)
        {
            // Not kept in the lazy flags: the difference's sign bit is the masked result's.
            CurS1.Load(Il);
            CurS2.Load(Il);
            Il.Emit(OpCodes.Sub);
        }
        else CurRes.Load(Il);
        Il.Ldc4(KnownBits - 1);
        Il.Emit(OpCodes.Shr_Un);
        Il.Emit(OpCodes.Conv_I4);
        Il.Emit(OpCodes.Ldc_I4_1);
        Il.Emit(OpCodes.And);
    }

    void Signed(LazySlot v)
    {
        v.Load(Il);
        switch (KnownBits)
        {
            case 32: Il.Emit(OpCodes.Conv_I4); break;
            case 16: Il.Emit(OpCodes.Conv_I2); break;
            case 8: Il.Emit(OpCodes.Conv_I1); break;
        }
    }

    /// <summary>Pushes bit <paramref name="n"/> of the materialised flags as an int32 0 or 1.</summary>
    void FlagBit(int n)
    {
        FFlags.Load(Il);
        Il.Ldc4(n);
        Il.Emit(OpCodes.Shr_Un);
        Il.Emit(OpCodes.Conv_I4);
        Il.Emit(OpCodes.Ldc_I4_1);
        Il.Emit(OpCodes.And);
    }

    /// <summary>A condition of flags already materialised (after a rotate, BT, BSF, POPCNT ...): bit tests of FFlags.</summary>
    void MaterializedCond(int cc)
    {
        const int CF = 0, PF = 2, ZF = 6, SF = 7, OF = 11;
        switch (cc >> 1)
        {
            case 0: FlagBit(OF); break;
            case 1: FlagBit(CF); break;
            case 2: FlagBit(ZF); break;
            case 3: FlagBit(CF); FlagBit(ZF); Il.Emit(OpCodes.Or); break;
            case 4: FlagBit(SF); break;
            case 5: FlagBit(PF); break;
            case 6: FlagBit(SF); FlagBit(OF); Il.Emit(OpCodes.Xor); break;
            default: FlagBit(ZF); FlagBit(SF); FlagBit(OF); Il.Emit(OpCodes.Xor); Il.Emit(OpCodes.Or); break;
        }
        if ((cc & 1) != 0) Not();
    }

    bool TryEmitKnownCond(int cc)
    {
        switch (KnownOp)
        {
            case FlagOp.None when !_pending:
                MaterializedCond(cc);
                return true;
            case FlagOp.Sub:
                switch (cc)
                {
                    case 2: CurS1.Load(Il); CurS2.Load(Il); Il.Emit(OpCodes.Clt_Un); return true;
                    case 3: CurS1.Load(Il); CurS2.Load(Il); Il.Emit(OpCodes.Clt_Un); Not(); return true;
                    case 4: CurS1.Load(Il); CurS2.Load(Il); Il.Emit(OpCodes.Ceq); return true;
                    case 5: CurS1.Load(Il); CurS2.Load(Il); Il.Emit(OpCodes.Ceq); Not(); return true;
                    case 6: CurS1.Load(Il); CurS2.Load(Il); Il.Emit(OpCodes.Cgt_Un); Not(); return true;
                    case 7: CurS1.Load(Il); CurS2.Load(Il); Il.Emit(OpCodes.Cgt_Un); return true;
                    case 8: ResSign(); return true;
                    case 9: ResSign(); Not(); return true;
                    case 12: Signed(CurS1); Signed(CurS2); Il.Emit(OpCodes.Clt); return true;
                    case 13: Signed(CurS1); Signed(CurS2); Il.Emit(OpCodes.Clt); Not(); return true;
                    case 14: Signed(CurS1); Signed(CurS2); Il.Emit(OpCodes.Cgt); Not(); return true;
                    case 15: Signed(CurS1); Signed(CurS2); Il.Emit(OpCodes.Cgt); return true;
                }
                return false;
            case FlagOp.Logic:
                switch (cc)
                {
                    case 0 or 2: Il.Emit(OpCodes.Ldc_I4_0); return true;
                    case 1 or 3: Il.Emit(OpCodes.Ldc_I4_1); return true;
                    case 4 or 6: ResIsZero(); return true;
                    case 5 or 7: ResIsZero(); Not(); return true;
                    case 8 or 12: ResSign(); return true;
                    case 9 or 13: ResSign(); Not(); return true;
                    case 14: ResIsZero(); ResSign(); Il.Emit(OpCodes.Or); return true;
                    case 15: ResIsZero(); ResSign(); Il.Emit(OpCodes.Or); Not(); return true;
                }
                return false;
            case FlagOp.Add:
                switch (cc)
                {
                    case 2: CurRes.Load(Il); CurS1.Load(Il); Il.Emit(OpCodes.Clt_Un); return true;
                    case 3: CurRes.Load(Il); CurS1.Load(Il); Il.Emit(OpCodes.Clt_Un); Not(); return true;
                    case 4: ResIsZero(); return true;
                    case 5: ResIsZero(); Not(); return true;
                    case 8: ResSign(); return true;
                    case 9: ResSign(); Not(); return true;
                }
                return false;
            case FlagOp.Inc or FlagOp.Dec or FlagOp.ResultAux:
                switch (cc)
                {
                    case 4: ResIsZero(); return true;
                    case 5: ResIsZero(); Not(); return true;
                    case 8: ResSign(); return true;
                    case 9: ResSign(); Not(); return true;
                }
                return false;
        }
        return false;
    }

    static readonly MethodInfo MCompute = typeof(LazyFlags).GetMethod(nameof(LazyFlags.Compute))!;

    /// <summary>
    /// Folds the lazy flags into the materialised bits (FOp = None), as <see cref="CpuState.Materialize"/>
    /// does, for an instruction that changes only some of the arithmetic flags.
    /// </summary>
    internal void MaterializeBits()
    {
        MaterializeFlags();
        if (Known && KnownOp == FlagOp.None) return;
        PushLazy();
        Il.Emit(OpCodes.Call, MCompute);
        ReplaceArith();
    }

    /// <summary>Replaces all six arithmetic flags with the bits in <paramref name="arith"/> (FOp = None).</summary>
    internal void SetArithBits(LocalBuilder arith)
    {
        _pending = false;
        Il.Emit(OpCodes.Ldloc, arith);
        ReplaceArith();
    }

    /// <summary>Pops arithmetic-flag bits into the materialised bits, which become the flags (FOp = None).</summary>
    void ReplaceArith()
    {
        FFlags.Load(Il);
        Il.Ldc8(~(long)Rf.Arith);
        Il.Emit(OpCodes.And);
        Il.Emit(OpCodes.Or);
        FFlags.Store(Il);
        Il.Ldc4((int)FlagOp.None);
        FOp.Store(Il);
        Known = true;
        KnownOp = FlagOp.None;
        KnownBits = 64;
    }

    /// <summary>
    /// Writes a ResultAux producer straight into the lazy-flag locals (not the waiting set): for a path that
    /// sets flags only on some runs (a shift by CL), where the other path must leave them as they were.
    /// </summary>
    internal void SetFlagsAuxInPlace(int bits, LocalBuilder res, LocalBuilder aux)
    {
        Il.Ldc4((int)FlagOp.ResultAux);
        FOp.Store(Il);
        Il.Ldc4(bits);
        FBits.Store(Il);
        Il.Emit(OpCodes.Ldloc, res);
        FRes.Store(Il);
        Il.Emit(OpCodes.Ldloc, aux);
        FAux.Store(Il);
    }

    /// <summary>Marks the flag producer unknown at compile time (a block entered from several places).</summary>
    internal void ForgetFlags()
    {
        Known = false;
        _pending = false;
    }
}

/// <summary>Where a waiting flag producer's CF/OF/AF come from when it is materialised.</summary>
enum PendingAux : byte
{
    /// <summary>The producer has no aux operand.</summary>
    None,
    /// <summary>A local holding the bits.</summary>
    Local,
    /// <summary>IMUL at 32 bits: CF=OF when the signed product of the factors in S1/S2 does not fit.</summary>
    Imul32,
    /// <summary>IMUL at 64 bits: the same for a 128-bit product.</summary>
    Imul64,
    /// <summary>ROL: the result waits; CF/OF come from it, the rest from the <see cref="RotateBase"/>.</summary>
    Rol,
    /// <summary>ROR, likewise.</summary>
    Ror,
}

/// <summary>A waiting flag producer as stubs and edges see it: enough to materialise it anywhere later.</summary>
readonly record struct PendingFlags(FlagOp Op, int Bits, int Set, PendingAux Aux, RotateBase Base)
{
    /// <summary>
    /// Keys a dictionary field by field: the default comparer of a struct and the members a record synthesizes compare
    /// through EqualityComparer&lt;T&gt;.Default of each type, instantiations ReadyToRun leaves to the runtime's JIT,
    /// which compiled a dozen of them in the first region of every process.
    /// </summary>
    internal sealed class Comparer : IEqualityComparer<PendingFlags>
    {
        public static readonly Comparer Instance = new();

        public bool Equals(PendingFlags x, PendingFlags y) =>
            x.Op == y.Op && x.Bits == y.Bits && x.Set == y.Set && x.Aux == y.Aux && Same(x.Base, y.Base);

        static bool Same(RotateBase x, RotateBase y) =>
            x.Pending == y.Pending && x.Op == y.Op && x.Bits == y.Bits && x.Aux == y.Aux && x.Materialized == y.Materialized;

        public int GetHashCode(PendingFlags f) =>
            ((((int)f.Op * 31 + f.Bits) * 31 + f.Set) * 31 + (int)f.Aux) * 31 + (int)f.Base.Op * 7 + f.Base.Bits + (f.Base.Pending ? 1 : 0) + (f.Base.Materialized ? 2 : 0);
    }
}

/// <summary>
/// Where a waiting rotate's kept flags come from: a producer waiting in the other set (<paramref name="Pending"/>),
/// else the lazy-flag locals, already folded into the materialised bits when <paramref name="Materialized"/>.
/// </summary>
readonly record struct RotateBase(bool Pending, FlagOp Op, int Bits, PendingAux Aux, bool Materialized);
