using System.Runtime.CompilerServices;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>Two- and three-operand IMUL of 32- and 64-bit registers (see <see cref="InstMulDiv"/>).</summary>
static class MulForms
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<TW>(CpuState c, ref Insn i, long a, long b) where TW : struct, IWidth
    {
        long res;
        bool of;
        if (TW.Bits == 64)
        {
            long hi = Math.BigMul(a, b, out res);
            of = hi != (res >> 63);
        }
        else
        {
            long full = a * b;
            res = Operands.SignExtend((ulong)full, TW.Bits);
            of = res != full;
        }
        ulong r = (ulong)res & TW.Mask;
        TW.Set(ref Gpr.At(c, i.R0), 0, r);
        c.SetFlagsAux(TW.Bits, r, of ? Rf.CF | Rf.OF : 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static long Signed<TW>(ulong v) where TW : struct, IWidth => Operands.SignExtend(v, TW.Bits);

    public static void ImulRR<TW>(CpuState c, ref Insn i) where TW : struct, IWidth =>
        Store<TW>(c, ref i, Signed<TW>(TW.Get(ref Gpr.At(c, i.R0), 0)), Signed<TW>(TW.Get(ref Gpr.At(c, i.R1), 0)));

    public static void ImulRM<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        long a = Signed<TW>(TW.Get(ref Gpr.At(c, i.R0), 0));
        Store<TW>(c, ref i, a, Signed<TW>(TW.Load(c.Mem, Gpr.Ea(c, ref i))));
    }

    /// <summary>Three operands: the immediate in <see cref="Insn.Imm"/> is already sign-extended from the operand width.</summary>
    public static void ImulRRI<TW>(CpuState c, ref Insn i) where TW : struct, IWidth =>
        Store<TW>(c, ref i, Signed<TW>(TW.Get(ref Gpr.At(c, i.R1), 0)), (long)i.Imm);

    public static void ImulRMI<TW>(CpuState c, ref Insn i) where TW : struct, IWidth =>
        Store<TW>(c, ref i, Signed<TW>(TW.Load(c.Mem, Gpr.Ea(c, ref i))), (long)i.Imm);

    // With the flags dead (see Decode.DeadFlags): the low half only, without the overflow test (a 128-bit product at 64 bits).

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreLow<TW>(CpuState c, ref Insn i, long a, long b) where TW : struct, IWidth =>
        TW.Set(ref Gpr.At(c, i.R0), 0, (ulong)(a * b) & TW.Mask);

    public static void ImulRRNoFlags<TW>(CpuState c, ref Insn i) where TW : struct, IWidth =>
        StoreLow<TW>(c, ref i, Signed<TW>(TW.Get(ref Gpr.At(c, i.R0), 0)), Signed<TW>(TW.Get(ref Gpr.At(c, i.R1), 0)));

    public static void ImulRMNoFlags<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        long a = Signed<TW>(TW.Get(ref Gpr.At(c, i.R0), 0));
        StoreLow<TW>(c, ref i, a, Signed<TW>(TW.Load(c.Mem, Gpr.Ea(c, ref i))));
    }

    public static void ImulRRINoFlags<TW>(CpuState c, ref Insn i) where TW : struct, IWidth =>
        StoreLow<TW>(c, ref i, Signed<TW>(TW.Get(ref Gpr.At(c, i.R1), 0)), (long)i.Imm);

    public static void ImulRMINoFlags<TW>(CpuState c, ref Insn i) where TW : struct, IWidth =>
        StoreLow<TW>(c, ref i, Signed<TW>(TW.Load(c.Mem, Gpr.Ea(c, ref i))), (long)i.Imm);
}
