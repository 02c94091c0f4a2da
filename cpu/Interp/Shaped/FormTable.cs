using System.Runtime.CompilerServices;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>
/// Every shaped handler, indexed by operation, width and shape (layouts in <see cref="Specializer"/>).
/// Built once, so decoding an instruction is a table look-up rather than a generic instantiation.
/// </summary>
static unsafe class FormTable
{
    /// <summary>[(op * 4 + width) * 5 + shape]: ADD ADC SUB SBB AND OR XOR CMP TEST; 8 16 32 64; RR RI RM MR MI.</summary>
    public static readonly delegate*<CpuState, ref Insn, void>[] Alu = new delegate*<CpuState, ref Insn, void>[9 * 4 * 5];
    /// <summary>[(op * 4 + width) * 2 + memory]: INC DEC NEG NOT (NEG and NOT of memory stay generic).</summary>
    public static readonly delegate*<CpuState, ref Insn, void>[] Unary = new delegate*<CpuState, ref Insn, void>[4 * 4 * 2];
    /// <summary>[width * 5 + shape].</summary>
    public static readonly delegate*<CpuState, ref Insn, void>[] Mov = new delegate*<CpuState, ref Insn, void>[4 * 5];
    /// <summary>[((signed * 2 + memory) * 3 + source 8/16/32) * 3 + destination 16/32/64].</summary>
    public static readonly delegate*<CpuState, ref Insn, void>[] Extend = new delegate*<CpuState, ref Insn, void>[2 * 2 * 3 * 3];
    /// <summary>[(width 16/32/64) * 2 + memory].</summary>
    public static readonly delegate*<CpuState, ref Insn, void>[] Cmov = new delegate*<CpuState, ref Insn, void>[3 * 2];
    /// <summary>[(64-bit ? 4 : 0) + form]: RR, RM, RR imm, RM imm.</summary>
    public static readonly delegate*<CpuState, ref Insn, void>[] Imul = new delegate*<CpuState, ref Insn, void>[2 * 4];
    /// <summary>[(op * 4 + width) * 2 + by CL]: SHL SHR SAR ROL ROR (by CL: 32 and 64 bits, shifts only).</summary>
    public static readonly delegate*<CpuState, ref Insn, void>[] Shift = new delegate*<CpuState, ref Insn, void>[5 * 4 * 2];
    /// <summary>[(BSR ? 4 : 0) + (64-bit ? 2 : 0) + memory]: BSF/TZCNT and BSR/LZCNT.</summary>
    public static readonly delegate*<CpuState, ref Insn, void>[] Scan = new delegate*<CpuState, ref Insn, void>[2 * 2 * 2];
    /// <summary>[condition code].</summary>
    public static readonly delegate*<CpuState, ref Insn, void>[] Jcc = new delegate*<CpuState, ref Insn, void>[16];

    /// <summary>By mnemonic: the SSE2 packed operations on XMM registers (register source, aligned memory source).</summary>
    public static readonly delegate*<CpuState, ref Insn, void>[] VecRR = new delegate*<CpuState, ref Insn, void>[HandlerTable.MnemonicCount];
    public static readonly delegate*<CpuState, ref Insn, void>[] VecRM = new delegate*<CpuState, ref Insn, void>[HandlerTable.MnemonicCount];

    /// <summary>
    /// Shaped handler to the same one without its flag work, for an instruction whose flags are dead (see
    /// <see cref="DeadFlags"/>): an open-addressed table of handler addresses, which decoding probes for every
    /// instruction (a generic dictionary of pointers had its methods compiled by the JIT at the first decode).
    /// </summary>
    static readonly nint[] NoFlagsKeys = new nint[NoFlagsSize], NoFlagsValues = new nint[NoFlagsSize];
    const int NoFlagsSize = 512;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Slot(nint h) => (int)(((ulong)h >> 4) ^ ((ulong)h >> 13)) & (NoFlagsSize - 1);

    /// <summary>The handler without flag work for <paramref name="h"/>, or null when it has none.</summary>
    public static delegate*<CpuState, ref Insn, void> WithoutFlags(delegate*<CpuState, ref Insn, void> h)
    {
        for (int s = Slot((nint)h); ; s = (s + 1) & (NoFlagsSize - 1))
        {
            nint k = NoFlagsKeys[s];
            if (k == (nint)h) return (delegate*<CpuState, ref Insn, void>)NoFlagsValues[s];
            if (k == 0) return null;
        }
    }

    static void Pair(delegate*<CpuState, ref Insn, void> h, delegate*<CpuState, ref Insn, void> noFlags)
    {
        int s = Slot((nint)h);
        while (NoFlagsKeys[s] != 0 && NoFlagsKeys[s] != (nint)h) s = (s + 1) & (NoFlagsSize - 1);
        NoFlagsKeys[s] = (nint)h;
        NoFlagsValues[s] = (nint)noFlags;
    }

    /// <summary>By mnemonic: the SSE2 packed shifts of an XMM register by an immediate.</summary>
    public static readonly delegate*<CpuState, ref Insn, void>[] VecShiftI = new delegate*<CpuState, ref Insn, void>[HandlerTable.MnemonicCount];

    static FormTable()
    {
        VecShiftI[(int)Mnemonic.Psllw] = &SseForms.ShiftRI<PsllwOp>;
        VecShiftI[(int)Mnemonic.Pslld] = &SseForms.ShiftRI<PslldOp>;
        VecShiftI[(int)Mnemonic.Psllq] = &SseForms.ShiftRI<PsllqOp>;
        VecShiftI[(int)Mnemonic.Psrlw] = &SseForms.ShiftRI<PsrlwOp>;
        VecShiftI[(int)Mnemonic.Psrld] = &SseForms.ShiftRI<PsrldOp>;
        VecShiftI[(int)Mnemonic.Psrlq] = &SseForms.ShiftRI<PsrlqOp>;
        VecShiftI[(int)Mnemonic.Psraw] = &SseForms.ShiftRI<PsrawOp>;
        VecShiftI[(int)Mnemonic.Psrad] = &SseForms.ShiftRI<PsradOp>;
        Vec<PxorOp>(Mnemonic.Pxor, Mnemonic.Xorps, Mnemonic.Xorpd);
        Vec<PorOp>(Mnemonic.Por, Mnemonic.Orps, Mnemonic.Orpd);
        Vec<PandOp>(Mnemonic.Pand, Mnemonic.Andps, Mnemonic.Andpd);
        Vec<PandnOp>(Mnemonic.Pandn, Mnemonic.Andnps, Mnemonic.Andnpd);
        Vec<PaddbOp>(Mnemonic.Paddb);
        Vec<PaddwOp>(Mnemonic.Paddw);
        Vec<PadddOp>(Mnemonic.Paddd);
        Vec<PaddqOp>(Mnemonic.Paddq);
        Vec<PsubbOp>(Mnemonic.Psubb);
        Vec<PsubwOp>(Mnemonic.Psubw);
        Vec<PsubdOp>(Mnemonic.Psubd);
        Vec<PsubqOp>(Mnemonic.Psubq);
        Vec<PcmpeqbOp>(Mnemonic.Pcmpeqb);
        Vec<PcmpeqwOp>(Mnemonic.Pcmpeqw);
        Vec<PcmpeqdOp>(Mnemonic.Pcmpeqd);
        Vec<PcmpgtbOp>(Mnemonic.Pcmpgtb);
        Vec<PminubOp>(Mnemonic.Pminub);
        Vec<PmaxubOp>(Mnemonic.Pmaxub);
        Vec<PunpcklbwOp>(Mnemonic.Punpcklbw);
        Vec<PunpcklwdOp>(Mnemonic.Punpcklwd);
        Vec<PunpckldqOp>(Mnemonic.Punpckldq, Mnemonic.Unpcklps);
        Vec<PunpcklqdqOp>(Mnemonic.Punpcklqdq, Mnemonic.Unpcklpd);
        Vec<PunpckhqdqOp>(Mnemonic.Punpckhqdq, Mnemonic.Unpckhpd);
        AluOp<AddOp>(0);
        AluOp<AdcOp>(1);
        AluOp<SubOp>(2);
        AluOp<SbbOp>(3);
        AluOp<AndOp>(4);
        AluOp<OrOp>(5);
        AluOp<XorOp>(6);
        AluOp<CmpOp>(7);
        AluOp<TestOp>(8);
        Width<W8>(0);
        Width<W16>(1);
        Width<W32>(2);
        Width<W64>(3);
        Extension<W16>(0);
        Extension<W32>(1);
        Extension<W64>(2);
        Wide<W32>(0);
        Wide<W64>(1);
        Jcc[0] = &BranchForms.Jcc<CcO>;
        Jcc[1] = &BranchForms.Jcc<CcNo>;
        Jcc[2] = &BranchForms.Jcc<CcB>;
        Jcc[3] = &BranchForms.Jcc<CcAe>;
        Jcc[4] = &BranchForms.Jcc<CcE>;
        Jcc[5] = &BranchForms.Jcc<CcNe>;
        Jcc[6] = &BranchForms.Jcc<CcBe>;
        Jcc[7] = &BranchForms.Jcc<CcA>;
        Jcc[8] = &BranchForms.Jcc<CcS>;
        Jcc[9] = &BranchForms.Jcc<CcNs>;
        Jcc[10] = &BranchForms.Jcc<CcP>;
        Jcc[11] = &BranchForms.Jcc<CcNp>;
        Jcc[12] = &BranchForms.Jcc<CcL>;
        Jcc[13] = &BranchForms.Jcc<CcGe>;
        Jcc[14] = &BranchForms.Jcc<CcLe>;
        Jcc[15] = &BranchForms.Jcc<CcG>;
    }

    static void Vec<TOp>(params Mnemonic[] ms) where TOp : struct, IVecOp
    {
        foreach (var m in ms)
        {
            VecRR[(int)m] = &SseForms.BinRR<TOp>;
            VecRM[(int)m] = &SseForms.BinRM<TOp>;
        }
    }

    static void AluOp<TOp>(int op) where TOp : struct, IAluOp
    {
        AluOp<TOp, W8>(op, 0);
        AluOp<TOp, W16>(op, 1);
        AluOp<TOp, W32>(op, 2);
        AluOp<TOp, W64>(op, 3);
    }

    static void AluOp<TOp, TW>(int op, int w) where TOp : struct, IAluOp where TW : struct, IWidth
    {
        int b = (op * 4 + w) * 5;
        Alu[b] = &AluForms.RR<TOp, TW>;
        Alu[b + 1] = &AluForms.RI<TOp, TW>;
        Alu[b + 2] = &AluForms.RM<TOp, TW>;
        Alu[b + 3] = &AluForms.MR<TOp, TW>;
        Alu[b + 4] = &AluForms.MI<TOp, TW>;
        if (TOp.Writes)
        {
            Pair(Alu[b], &AluForms.RRNoFlags<TOp, TW>);
            Pair(Alu[b + 1], &AluForms.RINoFlags<TOp, TW>);
            Pair(Alu[b + 2], &AluForms.RMNoFlags<TOp, TW>);
        }
    }

    /// <summary>The forms that exist at every width.</summary>
    static void Width<TW>(int w) where TW : struct, IWidth
    {
        Unary[(0 * 4 + w) * 2] = &AluForms.IncR<TW>;
        Unary[(0 * 4 + w) * 2 + 1] = &AluForms.IncM<TW>;
        Unary[(1 * 4 + w) * 2] = &AluForms.DecR<TW>;
        Unary[(1 * 4 + w) * 2 + 1] = &AluForms.DecM<TW>;
        Unary[(2 * 4 + w) * 2] = &AluForms.NegR<TW>;
        Unary[(3 * 4 + w) * 2] = &AluForms.NotR<TW>;
        Shift[(0 * 4 + w) * 2] = &ShiftForms.ShlRI<TW>;
        Shift[(1 * 4 + w) * 2] = &ShiftForms.ShrRI<TW>;
        Shift[(2 * 4 + w) * 2] = &ShiftForms.SarRI<TW>;
        Shift[(3 * 4 + w) * 2] = &ShiftForms.RolRI<TW>;
        Shift[(4 * 4 + w) * 2] = &ShiftForms.RorRI<TW>;
        Pair(Unary[(0 * 4 + w) * 2], &AluForms.IncRNoFlags<TW>);
        Pair(Unary[(1 * 4 + w) * 2], &AluForms.DecRNoFlags<TW>);
        Pair(Shift[(0 * 4 + w) * 2], &ShiftForms.ShlRINoFlags<TW>);
        Pair(Shift[(1 * 4 + w) * 2], &ShiftForms.ShrRINoFlags<TW>);
        Pair(Shift[(2 * 4 + w) * 2], &ShiftForms.SarRINoFlags<TW>);
        Pair(Shift[(3 * 4 + w) * 2], &ShiftForms.RolRINoFlags<TW>);
        Pair(Shift[(4 * 4 + w) * 2], &ShiftForms.RorRINoFlags<TW>);
        Mov[w * 5] = &MovForms.MovRR<TW>;
        Mov[w * 5 + 1] = &MovForms.MovRI<TW>;
        Mov[w * 5 + 2] = &MovForms.MovRM<TW>;
        Mov[w * 5 + 3] = &MovForms.MovMR<TW>;
        Mov[w * 5 + 4] = &MovForms.MovMI<TW>;
    }

    /// <summary>The forms with a 16-, 32- or 64-bit destination.</summary>
    static void Extension<TD>(int d) where TD : struct, IWidth
    {
        Extend[((0 * 2 + 0) * 3 + 0) * 3 + d] = &MovForms.MovzxR<W8, TD>;
        Extend[((0 * 2 + 0) * 3 + 1) * 3 + d] = &MovForms.MovzxR<W16, TD>;
        Extend[((0 * 2 + 0) * 3 + 2) * 3 + d] = &MovForms.MovzxR<W32, TD>;
        Extend[((0 * 2 + 1) * 3 + 0) * 3 + d] = &MovForms.MovzxM<W8, TD>;
        Extend[((0 * 2 + 1) * 3 + 1) * 3 + d] = &MovForms.MovzxM<W16, TD>;
        Extend[((0 * 2 + 1) * 3 + 2) * 3 + d] = &MovForms.MovzxM<W32, TD>;
        Extend[((1 * 2 + 0) * 3 + 0) * 3 + d] = &MovForms.MovsxR<W8, TD>;
        Extend[((1 * 2 + 0) * 3 + 1) * 3 + d] = &MovForms.MovsxR<W16, TD>;
        Extend[((1 * 2 + 0) * 3 + 2) * 3 + d] = &MovForms.MovsxR<W32, TD>;
        Extend[((1 * 2 + 1) * 3 + 0) * 3 + d] = &MovForms.MovsxM<W8, TD>;
        Extend[((1 * 2 + 1) * 3 + 1) * 3 + d] = &MovForms.MovsxM<W16, TD>;
        Extend[((1 * 2 + 1) * 3 + 2) * 3 + d] = &MovForms.MovsxM<W32, TD>;
        Cmov[d * 2] = &MovForms.CmovRR<TD>;
        Cmov[d * 2 + 1] = &MovForms.CmovRM<TD>;
    }

    /// <summary>The forms with 32- and 64-bit operands only.</summary>
    static void Wide<TW>(int w) where TW : struct, IWidth
    {
        Scan[w * 2] = &BitForms.BsfR<TW>;
        Scan[w * 2 + 1] = &BitForms.BsfM<TW>;
        Scan[4 + w * 2] = &BitForms.BsrR<TW>;
        Scan[4 + w * 2 + 1] = &BitForms.BsrM<TW>;
        Imul[w * 4] = &MulForms.ImulRR<TW>;
        Imul[w * 4 + 1] = &MulForms.ImulRM<TW>;
        Imul[w * 4 + 2] = &MulForms.ImulRRI<TW>;
        Imul[w * 4 + 3] = &MulForms.ImulRMI<TW>;
        Pair(Imul[w * 4], &MulForms.ImulRRNoFlags<TW>);
        Pair(Imul[w * 4 + 1], &MulForms.ImulRMNoFlags<TW>);
        Pair(Imul[w * 4 + 2], &MulForms.ImulRRINoFlags<TW>);
        Pair(Imul[w * 4 + 3], &MulForms.ImulRMINoFlags<TW>);
        Shift[(0 * 4 + 2 + w) * 2 + 1] = &ShiftForms.ShlRC<TW>;
        Shift[(1 * 4 + 2 + w) * 2 + 1] = &ShiftForms.ShrRC<TW>;
        Shift[(2 * 4 + 2 + w) * 2 + 1] = &ShiftForms.SarRC<TW>;
    }
}
