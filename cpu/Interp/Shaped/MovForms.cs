using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>MOV, MOVZX/MOVSX/MOVSXD, LEA, CMOVcc and SETcc by operand shape and width (see <see cref="InstMov"/>).</summary>
static class MovForms
{
    public static void MovRR<TW>(CpuState c, ref Insn i) where TW : struct, IWidth =>
        TW.Set(ref Gpr.At(c, i.R0), i.Sh0, TW.Get(ref Gpr.At(c, i.R1), i.Sh1));

    public static void MovRI<TW>(CpuState c, ref Insn i) where TW : struct, IWidth =>
        TW.Set(ref Gpr.At(c, i.R0), i.Sh0, i.Imm);

    public static void MovRM<TW>(CpuState c, ref Insn i) where TW : struct, IWidth =>
        TW.Set(ref Gpr.At(c, i.R0), i.Sh0, TW.Load(c.Mem, Gpr.Ea(c, ref i)));

    public static void MovMR<TW>(CpuState c, ref Insn i) where TW : struct, IWidth =>
        TW.Store(c.Mem, Gpr.Ea(c, ref i), TW.Get(ref Gpr.At(c, i.R1), i.Sh1));

    public static void MovMI<TW>(CpuState c, ref Insn i) where TW : struct, IWidth =>
        TW.Store(c.Mem, Gpr.Ea(c, ref i), i.Imm);

    // The source width TS, the destination width TD.

    public static void MovzxR<TS, TD>(CpuState c, ref Insn i) where TS : struct, IWidth where TD : struct, IWidth =>
        TD.Set(ref Gpr.At(c, i.R0), 0, TS.Get(ref Gpr.At(c, i.R1), i.Sh1));

    public static void MovzxM<TS, TD>(CpuState c, ref Insn i) where TS : struct, IWidth where TD : struct, IWidth =>
        TD.Set(ref Gpr.At(c, i.R0), 0, TS.Load(c.Mem, Gpr.Ea(c, ref i)));

    public static void MovsxR<TS, TD>(CpuState c, ref Insn i) where TS : struct, IWidth where TD : struct, IWidth =>
        TD.Set(ref Gpr.At(c, i.R0), 0, (ulong)Operands.SignExtend(TS.Get(ref Gpr.At(c, i.R1), i.Sh1), TS.Bits) & TD.Mask);

    public static void MovsxM<TS, TD>(CpuState c, ref Insn i) where TS : struct, IWidth where TD : struct, IWidth =>
        TD.Set(ref Gpr.At(c, i.R0), 0, (ulong)Operands.SignExtend(TS.Load(c.Mem, Gpr.Ea(c, ref i)), TS.Bits) & TD.Mask);

    // LEA without address-size override (its 32-bit truncation then only matters for a 32-bit destination).

    public static void LeaBase64(CpuState c, ref Insn i) => Gpr.At(c, i.R0) = i.Disp + Gpr.At(c, (byte)i.Base);

    public static void LeaBaseIndex64(CpuState c, ref Insn i) =>
        Gpr.At(c, i.R0) = i.Disp + Gpr.At(c, (byte)i.Base) + (Gpr.At(c, (byte)i.Index) << i.ScaleShift);

    public static void LeaIndex64(CpuState c, ref Insn i) => Gpr.At(c, i.R0) = i.Disp + (Gpr.At(c, (byte)i.Index) << i.ScaleShift);

    public static void LeaBase32(CpuState c, ref Insn i) => Gpr.At(c, i.R0) = (uint)(i.Disp + Gpr.At(c, (byte)i.Base));

    public static void LeaBaseIndex32(CpuState c, ref Insn i) =>
        Gpr.At(c, i.R0) = (uint)(i.Disp + Gpr.At(c, (byte)i.Base) + (Gpr.At(c, (byte)i.Index) << i.ScaleShift));

    public static void LeaIndex32(CpuState c, ref Insn i) => Gpr.At(c, i.R0) = (uint)(i.Disp + (Gpr.At(c, (byte)i.Index) << i.ScaleShift));

    /// <summary>RIP-relative or absolute: the address was computed at decode and sits in <see cref="Insn.Imm"/>.</summary>
    public static void LeaConst(CpuState c, ref Insn i) => Gpr.At(c, i.R0) = i.Imm;

    public static void CmovRR<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ulong v = TW.Get(ref Gpr.At(c, i.R1), 0);
        ref ulong d = ref Gpr.At(c, i.R0);
        // A 32-bit CMOV zero-extends its destination whether or not it moves.
        if (c.Cond(i.Cc)) TW.Set(ref d, 0, v);
        else if (TW.Bits == 32) d = (uint)d;
    }

    public static void CmovRM<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ulong v = TW.Load(c.Mem, Gpr.Ea(c, ref i)); // read (and may fault) whatever the condition
        ref ulong d = ref Gpr.At(c, i.R0);
        if (c.Cond(i.Cc)) TW.Set(ref d, 0, v);
        else if (TW.Bits == 32) d = (uint)d;
    }

    public static void SetccR(CpuState c, ref Insn i) => W8.Set(ref Gpr.At(c, i.R0), i.Sh0, c.Cond(i.Cc) ? 1UL : 0);

    public static void SetccM(CpuState c, ref Insn i) => c.Mem.Write8(Gpr.Ea(c, ref i), c.Cond(i.Cc) ? (byte)1 : (byte)0);
}
