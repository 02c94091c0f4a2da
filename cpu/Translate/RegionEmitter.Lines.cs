using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// The line an address form last hit, kept for a region's loops in <see cref="CpuState.Lines"/>. A loop walking an
/// array probes the front table once per line instead of once per access: the access checks
/// <c>(address - base) &lt; limit</c> (a subtraction and a compare, unsigned) and adds the offset to the line's host
/// address, where the probe rotates, masks, loads and compares a tag and loads an addend. Only a front-table hit fills
/// a form's words, so they name a line the table held, readable (or, for a writing form, writable and dirty) as of that
/// probe; and between a region's entry and its exit only this thread's own calls out can change the table: a process's
/// guest threads share one host thread, and coherence invalidations are applied by it at safe points, which leave the
/// region, or inside a miss's wait, which is a call out (an interpreted instruction, the slow path). So the words are
/// reset at entry and after every call out (a limit of 0 lets no address through), and used only where the probe does
/// nothing but look up: not under LRU, where every hit touches the policy. A traced line never enters the front table,
/// so its accesses keep taking the slow path.
/// memloop's loop (a strided read-modify-write and a sequential read over 32 MiB): 31 -> 25 host instructions.
/// </summary>
sealed partial class RegionEmitter
{
    /// <summary>
    /// How an access names its address (base, index, scale, segment, 32-bit addressing, and its displacement's multiple
    /// of a line, which for an absolute address is its line) and whether it writes: the accesses of one form in a loop
    /// usually walk the same line, and two a line or more apart get a line each.
    /// </summary>
    readonly record struct LineKey(sbyte Base, sbyte Index, byte Scale, byte Seg, bool Addr32, long DisplacementLine, bool Write)
    {
        /// <summary>Compares field by field (see <see cref="PendingFlags.Comparer"/>: the default comparer is JIT-compiled).</summary>
        internal sealed class Comparer : IEqualityComparer<LineKey>
        {
            public static readonly Comparer Instance = new();

            public bool Equals(LineKey x, LineKey y) =>
                x.Base == y.Base && x.Index == y.Index && x.Scale == y.Scale && x.Seg == y.Seg && x.Addr32 == y.Addr32
                && x.DisplacementLine == y.DisplacementLine && x.Write == y.Write;

            public int GetHashCode(LineKey k) =>
                (((k.Base * 31 + k.Index) * 31 + k.Scale) * 31 + k.Seg) * 31 + k.DisplacementLine.GetHashCode() + (k.Addr32 ? 2 : 0) + (k.Write ? 1 : 0);
        }
    }

    /// <summary>
    /// One form's words in <see cref="CpuState.Lines"/> (the line's guest base, its host address, and the limit its
    /// offset must stay below): fields of the state rather than IL locals, since a loop with two or three forms has no
    /// host registers left for them, and the JIT's moves between registers and stack slots around the out-of-line
    /// look-ups cost more than the loads from the state.
    /// </summary>
    sealed class LineSlot
    {
        internal int Index;
        /// <summary>The widest access checked against it: the limit keeps each one inside the line.</summary>
        internal int MaxBytes;
    }

    const int SlotBase = 0, SlotHost = 1, SlotLimit = 2;
    static readonly System.Reflection.FieldInfo FLines = typeof(CpuState).GetField(nameof(CpuState.Lines))!;

    /// <summary>Pushes the address of word <paramref name="word"/> of <paramref name="slot"/>: one constant offset from the state.</summary>
    void SlotWord(LineSlot slot, int word)
    {
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldflda, FLines);
        int offset = (3 * slot.Index + word) * sizeof(ulong);
        if (offset == 0) return;
        Il.Ldc4(offset);
        Il.Emit(OpCodes.Add);
    }

    void LoadSlot(LineSlot slot, int word)
    {
        SlotWord(slot, word);
        Il.Emit(OpCodes.Ldind_I8);
    }

    void StoreSlot(LineSlot slot, int word, long constant)
    {
        SlotWord(slot, word);
        Il.Ldc8(constant);
        Il.Emit(OpCodes.Stind_I8);
    }

    readonly Dictionary<LineKey, LineSlot> _lineSlots = new(LineKey.Comparer.Instance);
    /// <summary>The out-of-line look-ups of the accesses that found their form's line stale, emitted at the region's end.</summary>
    readonly List<(Label Refill, Label Back, LocalBuilder A, LocalBuilder Offset, int Bytes, int TagOffset, Label Miss, LineSlot Slot)> _refills = new(4);
    /// <summary>How often each block runs for one entry (<see cref="BlockFrequency"/>), from <see cref="UseRegisters"/>.</summary>
    double[] _frequency = Array.Empty<double>();
    /// <summary>The current instruction's address form, for <see cref="LineKeyOf"/>.</summary>
    Insn _insnShape;

    /// <summary>Blocks run at least this often per entry are in a loop (a block outside runs about once).</summary>
    const double LoopFrequency = 2;
    /// <summary>At most this many forms per region keep a line.</summary>
    const int MaxLineSlots = LineSlots.Count;

    /// <summary>
    /// Gives words of <see cref="CpuState.Lines"/> to the address forms the region's loops access most (by the estimated
    /// runs of their blocks). Code outside a loop runs once per entry and would only pay for the check before the probe.
    /// </summary>
    internal void PlanLineSlots(Block[] blocks)
    {
        if (_shape.TouchesOnHit) return;
        var info = new InstructionInfoFactory();
        // The forms in the order they first appear, with their summed frequencies: a handful per region, so a list
        // (a Dictionary over this struct, and List.Sort with a comparison, are code the runtime's JIT compiles first).
        var ranked = new List<(LineKey Key, double Score)>(16);
        void Score(LineKey key, double frequency)
        {
            for (int n = 0; n < ranked.Count; n++)
                if (LineKey.Comparer.Instance.Equals(ranked[n].Key, key))
                {
                    ranked[n] = (key, ranked[n].Score + frequency);
                    return;
                }
            ranked.Add((key, frequency));
        }
        for (int k = 0; k < blocks.Length && k < _frequency.Length; k++)
        {
            if (_frequency[k] < LoopFrequency) continue;
            foreach (var insn in blocks[k].Insns)
            {
                if (!HasMemoryOperand(insn)) continue;
                bool read = false, write = false;
                foreach (var m in info.GetInfo(insn.I).GetUsedMemory())
                {
                    read |= m.Access is OpAccess.Read or OpAccess.CondRead or OpAccess.ReadWrite or OpAccess.ReadCondWrite;
                    write |= m.Access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite;
                }
                // A read-modify-write probes once, for writing (see LoadDst); a handler run instead may read first.
                if (read) Score(LineKeyOf(insn, write: false), _frequency[k]);
                if (write) Score(LineKeyOf(insn, write: true), _frequency[k]);
            }
        }
        // Highest score first; equal scores keep their order of appearance.
        for (int n = 1; n < ranked.Count; n++)
        {
            var item = ranked[n];
            int j = n - 1;
            for (; j >= 0 && ranked[j].Score < item.Score; j--) ranked[j + 1] = ranked[j];
            ranked[j + 1] = item;
        }
        for (int n = 0; n < ranked.Count && n < MaxLineSlots; n++)
            _lineSlots[ranked[n].Key] = new LineSlot { Index = n };
    }

    /// <summary>An explicit memory operand that is accessed (LEA and the long NOPs name one without touching it).</summary>
    static bool HasMemoryOperand(in Insn insn)
    {
        if (insn.I.Mnemonic is Mnemonic.Lea or Mnemonic.Nop) return false;
        for (int n = 0; n < insn.I.OpCount; n++)
            if (insn.I.GetOpKind(n) == OpKind.Memory) return true;
        return false;
    }

    LineKey LineKeyOf(in Insn insn, bool write) =>
        new(insn.Base, insn.Index, insn.ScaleShift, insn.Seg, insn.Addr32, (long)insn.Disp >> _shape.LineShift, write);

    /// <summary>Every form's line is forgotten: at the region's entry and after anything that may fill or evict lines.</summary>
    void ForgetLines()
    {
        foreach (var slot in _lineSlots.Values) StoreSlot(slot, SlotLimit, 0);
    }

    /// <summary>
    /// The probe of an access at the address in <paramref name="a"/> whose form <paramref name="key"/> names (null: none):
    /// through the form's line when it keeps one here, else <see cref="ProbeLine"/>. Pushes the host address.
    /// </summary>
    void ProbeThroughLine(LocalBuilder a, int bytes, int tagOffset, Label miss, LineKey? key)
    {
        if (key is not { } k || _block >= _frequency.Length || _frequency[_block] < LoopFrequency
            || !_lineSlots.TryGetValue(k, out var slot))
        {
            ProbeLine(a, bytes, tagOffset, miss);
            return;
        }
        slot.MaxBytes = Math.Max(slot.MaxBytes, bytes);
        var offset = Tmp();
        var refill = Il.DefineLabel();
        var back = Il.DefineLabel();
        Il.Emit(OpCodes.Ldloc, a);
        LoadSlot(slot, SlotBase);
        Il.Emit(OpCodes.Sub);
        Il.Emit(OpCodes.Stloc, offset);
        Il.Emit(OpCodes.Ldloc, offset);
        LoadSlot(slot, SlotLimit);
        Il.Emit(OpCodes.Bge_Un, refill);
        Il.MarkLabel(back);
        // Counted as the probe counts a hit; the look-up out of line counts nothing.
        _blockAccesses++;
        _region.Profile?.CountInline(_block, IndexInBlock);
        LoadSlot(slot, SlotHost);
        Il.Emit(OpCodes.Conv_I);
        Il.Emit(OpCodes.Ldloc, offset);
        Il.Emit(OpCodes.Conv_I);
        Il.Emit(OpCodes.Add);
        _refills.Add((refill, back, a, offset, bytes, tagOffset, miss, slot));
    }

    /// <summary>
    /// The look-ups of accesses whose form's line was stale, out of the loops' way: the front-table probe (a miss leaves
    /// as before), then the line's base, host address and limit go to the form's locals and the access goes on.
    /// </summary>
    void EmitRefills()
    {
        ulong lineMask = (1UL << _shape.LineShift) - 1;
        foreach (var (refill, back, a, offset, bytes, tagOffset, miss, slot) in _refills)
        {
            Il.MarkLabel(refill);
            // The address again from the offset and the stale base: the check need not keep it in a register of its own.
            Il.Emit(OpCodes.Ldloc, offset);
            LoadSlot(slot, SlotBase);
            Il.Emit(OpCodes.Add);
            Il.Emit(OpCodes.Stloc, a);
            var host = TmpOf(typeof(nint));
            ProbeLine(a, bytes, tagOffset, miss, count: false);
            Il.Emit(OpCodes.Stloc, host);
            // The offset into the line, which the access goes on with; the line's host address and base from it.
            Il.Emit(OpCodes.Ldloc, a);
            Il.Ldc8((long)lineMask);
            Il.Emit(OpCodes.And);
            Il.Emit(OpCodes.Stloc, offset);
            SlotWord(slot, SlotHost);
            Il.Emit(OpCodes.Ldloc, host);
            Il.Emit(OpCodes.Ldloc, offset);
            Il.Emit(OpCodes.Conv_I);
            Il.Emit(OpCodes.Sub);
            Il.Emit(OpCodes.Stind_I);
            SlotWord(slot, SlotBase);
            Il.Emit(OpCodes.Ldloc, a);
            Il.Emit(OpCodes.Ldloc, offset);
            Il.Emit(OpCodes.Sub);
            Il.Emit(OpCodes.Stind_I8);
            // Below it, an offset leaves room in the line for the form's widest access.
            StoreSlot(slot, SlotLimit, (long)(lineMask + 1) - slot.MaxBytes + 1);
            Il.Emit(OpCodes.Br, back);
        }
    }
}
