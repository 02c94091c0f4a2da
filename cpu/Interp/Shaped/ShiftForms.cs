using System.Runtime.CompilerServices;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>
/// SHL SHR SAR ROL ROR of a register (see <see cref="InstShift"/>) by a count below the operand width,
/// where the wide-count corner cases of 8- and 16-bit shifts cannot arise: by an immediate (non-zero,
/// masked, in <see cref="Insn.Imm"/>) at any width, or by CL for 32- and 64-bit registers.
/// </summary>
static class ShiftForms
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ulong Msb<TW>(ulong v) where TW : struct, IWidth => (v >> (TW.Bits - 1)) & 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int CountCl<TW>(CpuState c) where TW : struct, IWidth => (int)((byte)Gpr.At(c, Registers.RCX) & (TW.Bits == 64 ? 63UL : 31UL));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Shl<TW>(CpuState c, ref ulong d, int sh, int n) where TW : struct, IWidth
    {
        ulong a = TW.Get(ref d, sh);
        ulong r = (a << n) & TW.Mask;
        ulong cf = (a >> (TW.Bits - n)) & 1;
        TW.Set(ref d, sh, r);
        c.SetFlagsAux(TW.Bits, r, (cf != 0 ? Rf.CF : 0) | ((Msb<TW>(r) ^ cf) != 0 ? Rf.OF : 0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Shr<TW>(CpuState c, ref ulong d, int sh, int n) where TW : struct, IWidth
    {
        ulong a = TW.Get(ref d, sh);
        ulong r = a >> n;
        ulong cf = (a >> (n - 1)) & 1;
        TW.Set(ref d, sh, r);
        c.SetFlagsAux(TW.Bits, r, (cf != 0 ? Rf.CF : 0) | (Msb<TW>(a) != 0 ? Rf.OF : 0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Sar<TW>(CpuState c, ref ulong d, int sh, int n) where TW : struct, IWidth
    {
        long sa = Operands.SignExtend(TW.Get(ref d, sh), TW.Bits);
        ulong r = (ulong)(sa >> n) & TW.Mask;
        ulong cf = (ulong)(sa >> (n - 1)) & 1;
        TW.Set(ref d, sh, r);
        c.SetFlagsAux(TW.Bits, r, cf != 0 ? Rf.CF : 0);
    }

    /// <summary>Rotates change only CF and OF; the other arithmetic flags keep their values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void SetCfOf(CpuState c, ulong cf, ulong of)
    {
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~(Rf.CF | Rf.OF)) | (cf != 0 ? Rf.CF : 0) | (of != 0 ? Rf.OF : 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Rol<TW>(CpuState c, ref ulong d, int sh, int n) where TW : struct, IWidth
    {
        ulong a = TW.Get(ref d, sh);
        ulong r = ((a << n) | (a >> (TW.Bits - n))) & TW.Mask;
        TW.Set(ref d, sh, r);
        ulong cf = r & 1;
        SetCfOf(c, cf, Msb<TW>(r) ^ cf);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Ror<TW>(CpuState c, ref ulong d, int sh, int n) where TW : struct, IWidth
    {
        ulong a = TW.Get(ref d, sh);
        ulong r = ((a >> n) | (a << (TW.Bits - n))) & TW.Mask;
        TW.Set(ref d, sh, r);
        SetCfOf(c, Msb<TW>(r), Msb<TW>(r) ^ ((r >> (TW.Bits - 2)) & 1));
    }

    public static void ShlRI<TW>(CpuState c, ref Insn i) where TW : struct, IWidth => Shl<TW>(c, ref Gpr.At(c, i.R0), i.Sh0, (int)i.Imm);
    public static void ShrRI<TW>(CpuState c, ref Insn i) where TW : struct, IWidth => Shr<TW>(c, ref Gpr.At(c, i.R0), i.Sh0, (int)i.Imm);
    public static void SarRI<TW>(CpuState c, ref Insn i) where TW : struct, IWidth => Sar<TW>(c, ref Gpr.At(c, i.R0), i.Sh0, (int)i.Imm);
    public static void RolRI<TW>(CpuState c, ref Insn i) where TW : struct, IWidth => Rol<TW>(c, ref Gpr.At(c, i.R0), i.Sh0, (int)i.Imm);
    public static void RorRI<TW>(CpuState c, ref Insn i) where TW : struct, IWidth => Ror<TW>(c, ref Gpr.At(c, i.R0), i.Sh0, (int)i.Imm);

    // With the flags dead (see Decode.DeadFlags): the result only. A rotate's flags are the costly ones: it keeps SF, ZF, AF
    // and PF of the producer before it, so it must materialise them, which was a third of a hash's interpreted rounds.

    public static void ShlRINoFlags<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        TW.Set(ref d, i.Sh0, (TW.Get(ref d, i.Sh0) << (int)i.Imm) & TW.Mask);
    }

    public static void ShrRINoFlags<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        TW.Set(ref d, i.Sh0, TW.Get(ref d, i.Sh0) >> (int)i.Imm);
    }

    public static void SarRINoFlags<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        TW.Set(ref d, i.Sh0, (ulong)(Operands.SignExtend(TW.Get(ref d, i.Sh0), TW.Bits) >> (int)i.Imm) & TW.Mask);
    }

    public static void RolRINoFlags<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        ulong a = TW.Get(ref d, i.Sh0);
        int n = (int)i.Imm;
        TW.Set(ref d, i.Sh0, ((a << n) | (a >> (TW.Bits - n))) & TW.Mask);
    }

    public static void RorRINoFlags<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        ulong a = TW.Get(ref d, i.Sh0);
        int n = (int)i.Imm;
        TW.Set(ref d, i.Sh0, ((a >> n) | (a << (TW.Bits - n))) & TW.Mask);
    }

    // A zero count in CL changes no flag but still writes the register back (a 32-bit one is zero-extended).

    public static void ShlRC<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        int n = CountCl<TW>(c);
        if (n == 0) TW.Set(ref d, 0, TW.Get(ref d, 0));
        else Shl<TW>(c, ref d, 0, n);
    }

    public static void ShrRC<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        int n = CountCl<TW>(c);
        if (n == 0) TW.Set(ref d, 0, TW.Get(ref d, 0));
        else Shr<TW>(c, ref d, 0, n);
    }

    public static void SarRC<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        int n = CountCl<TW>(c);
        if (n == 0) TW.Set(ref d, 0, TW.Get(ref d, 0));
        else Sar<TW>(c, ref d, 0, n);
    }
}
