using System.Numerics;
using System.Runtime.CompilerServices;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>BSF and BSR (and TZCNT/LZCNT, which run as them) of 32- and 64-bit operands (see <see cref="InstBits"/>).</summary>
static class BitForms
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void SetZf(CpuState c, bool zf)
    {
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~Rf.ZF) | (zf ? Rf.ZF : 0);
    }

    /// <summary>A zero source leaves the destination untouched (not even zero-extended), as hardware does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Scan<TW>(CpuState c, ref Insn i, ulong v, bool reverse) where TW : struct, IWidth
    {
        if (v == 0)
        {
            SetZf(c, true);
            return;
        }
        TW.Set(ref Gpr.At(c, i.R0), 0, (ulong)(reverse ? 63 - BitOperations.LeadingZeroCount(v) : BitOperations.TrailingZeroCount(v)));
        SetZf(c, false);
    }

    public static void BsfR<TW>(CpuState c, ref Insn i) where TW : struct, IWidth => Scan<TW>(c, ref i, TW.Get(ref Gpr.At(c, i.R1), 0), false);

    public static void BsfM<TW>(CpuState c, ref Insn i) where TW : struct, IWidth => Scan<TW>(c, ref i, TW.Load(c.Mem, Gpr.Ea(c, ref i)), false);

    public static void BsrR<TW>(CpuState c, ref Insn i) where TW : struct, IWidth => Scan<TW>(c, ref i, TW.Get(ref Gpr.At(c, i.R1), 0), true);

    public static void BsrM<TW>(CpuState c, ref Insn i) where TW : struct, IWidth => Scan<TW>(c, ref i, TW.Load(c.Mem, Gpr.Ea(c, ref i)), true);
}
