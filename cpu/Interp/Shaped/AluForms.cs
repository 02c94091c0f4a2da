using System.Runtime.CompilerServices;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>One two-operand ALU operation: its result and the lazy flags it leaves, exactly as <see cref="InstAlu"/> does.</summary>
interface IAluOp
{
    /// <summary>False for CMP and TEST, which only set flags.</summary>
    static abstract bool Writes { get; }
    /// <summary>The carry-in (ADC, SBB), read before the operands as the generic handler does.</summary>
    static abstract ulong CarryIn(CpuState c);
    static abstract ulong Compute(ulong a, ulong b, ulong cin, ulong mask);
    static abstract void Flags(CpuState c, int bits, ulong r, ulong a, ulong b, ulong cin);
}

struct AddOp : IAluOp
{
    public static bool Writes => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong CarryIn(CpuState c) => 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Compute(ulong a, ulong b, ulong cin, ulong mask) => (a + b) & mask;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Flags(CpuState c, int bits, ulong r, ulong a, ulong b, ulong cin) => c.SetFlags(FlagOp.Add, bits, r, a, b);
}

struct AdcOp : IAluOp
{
    public static bool Writes => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong CarryIn(CpuState c) => c.CF ? 1UL : 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Compute(ulong a, ulong b, ulong cin, ulong mask) => (a + b + cin) & mask;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Flags(CpuState c, int bits, ulong r, ulong a, ulong b, ulong cin)
    {
        c.SetFlags(FlagOp.Adc, bits, r, a, b);
        c.FlagAux = cin;
    }
}

struct SubOp : IAluOp
{
    public static bool Writes => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong CarryIn(CpuState c) => 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Compute(ulong a, ulong b, ulong cin, ulong mask) => (a - b) & mask;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Flags(CpuState c, int bits, ulong r, ulong a, ulong b, ulong cin) => c.SetFlags(FlagOp.Sub, bits, r, a, b);
}

struct SbbOp : IAluOp
{
    public static bool Writes => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong CarryIn(CpuState c) => c.CF ? 1UL : 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Compute(ulong a, ulong b, ulong cin, ulong mask) => (a - b - cin) & mask;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Flags(CpuState c, int bits, ulong r, ulong a, ulong b, ulong cin)
    {
        c.SetFlags(FlagOp.Sbb, bits, r, a, b);
        c.FlagAux = cin;
    }
}

struct CmpOp : IAluOp
{
    public static bool Writes => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong CarryIn(CpuState c) => 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Compute(ulong a, ulong b, ulong cin, ulong mask) => (a - b) & mask;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Flags(CpuState c, int bits, ulong r, ulong a, ulong b, ulong cin) => c.SetFlags(FlagOp.Sub, bits, r, a, b);
}

struct AndOp : IAluOp
{
    public static bool Writes => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong CarryIn(CpuState c) => 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Compute(ulong a, ulong b, ulong cin, ulong mask) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Flags(CpuState c, int bits, ulong r, ulong a, ulong b, ulong cin) => c.SetFlags(FlagOp.Logic, bits, r, 0, 0);
}

struct TestOp : IAluOp
{
    public static bool Writes => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong CarryIn(CpuState c) => 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Compute(ulong a, ulong b, ulong cin, ulong mask) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Flags(CpuState c, int bits, ulong r, ulong a, ulong b, ulong cin) => c.SetFlags(FlagOp.Logic, bits, r, 0, 0);
}

struct OrOp : IAluOp
{
    public static bool Writes => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong CarryIn(CpuState c) => 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Compute(ulong a, ulong b, ulong cin, ulong mask) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Flags(CpuState c, int bits, ulong r, ulong a, ulong b, ulong cin) => c.SetFlags(FlagOp.Logic, bits, r, 0, 0);
}

struct XorOp : IAluOp
{
    public static bool Writes => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong CarryIn(CpuState c) => 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Compute(ulong a, ulong b, ulong cin, ulong mask) => a ^ b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Flags(CpuState c, int bits, ulong r, ulong a, ulong b, ulong cin) => c.SetFlags(FlagOp.Logic, bits, r, 0, 0);
}

/// <summary>
/// ADD ADC SUB SBB AND OR XOR CMP TEST by operand shape (register, immediate, memory) and width.
/// Each does what <see cref="InstAlu"/> does in the same order: operands read, result stored, flags set last.
/// </summary>
static class AluForms
{
    public static void RR<TOp, TW>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth
    {
        ulong cin = TOp.CarryIn(c);
        ulong b = TW.Get(ref Gpr.At(c, i.R1), i.Sh1);
        ref ulong d = ref Gpr.At(c, i.R0);
        ulong a = TW.Get(ref d, i.Sh0);
        ulong r = TOp.Compute(a, b, cin, TW.Mask);
        if (TOp.Writes) TW.Set(ref d, i.Sh0, r);
        TOp.Flags(c, TW.Bits, r, a, b, cin);
    }

    public static void RI<TOp, TW>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth
    {
        ulong cin = TOp.CarryIn(c);
        ulong b = i.Imm;
        ref ulong d = ref Gpr.At(c, i.R0);
        ulong a = TW.Get(ref d, i.Sh0);
        ulong r = TOp.Compute(a, b, cin, TW.Mask);
        if (TOp.Writes) TW.Set(ref d, i.Sh0, r);
        TOp.Flags(c, TW.Bits, r, a, b, cin);
    }

    public static void RM<TOp, TW>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth
    {
        ulong cin = TOp.CarryIn(c);
        ulong b = TW.Load(c.Mem, Gpr.Ea(c, ref i));
        ref ulong d = ref Gpr.At(c, i.R0);
        ulong a = TW.Get(ref d, i.Sh0);
        ulong r = TOp.Compute(a, b, cin, TW.Mask);
        if (TOp.Writes) TW.Set(ref d, i.Sh0, r);
        TOp.Flags(c, TW.Bits, r, a, b, cin);
    }

    public static void MR<TOp, TW>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth
    {
        ulong cin = TOp.CarryIn(c);
        ulong b = TW.Get(ref Gpr.At(c, i.R1), i.Sh1);
        ulong ea = Gpr.Ea(c, ref i);
        ulong a = TW.Load(c.Mem, ea);
        ulong r = TOp.Compute(a, b, cin, TW.Mask);
        if (TOp.Writes) TW.Store(c.Mem, ea, r);
        TOp.Flags(c, TW.Bits, r, a, b, cin);
    }

    public static void MI<TOp, TW>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth
    {
        ulong cin = TOp.CarryIn(c);
        ulong b = i.Imm;
        ulong ea = Gpr.Ea(c, ref i);
        ulong a = TW.Load(c.Mem, ea);
        ulong r = TOp.Compute(a, b, cin, TW.Mask);
        if (TOp.Writes) TW.Store(c.Mem, ea, r);
        TOp.Flags(c, TW.Bits, r, a, b, cin);
    }

    // With the flags dead (see Decode.DeadFlags): the result only. ADC and SBB still read the carry.

    public static void RRNoFlags<TOp, TW>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth
    {
        ulong cin = TOp.CarryIn(c);
        ulong b = TW.Get(ref Gpr.At(c, i.R1), i.Sh1);
        ref ulong d = ref Gpr.At(c, i.R0);
        TW.Set(ref d, i.Sh0, TOp.Compute(TW.Get(ref d, i.Sh0), b, cin, TW.Mask));
    }

    public static void RINoFlags<TOp, TW>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth
    {
        ulong cin = TOp.CarryIn(c);
        ref ulong d = ref Gpr.At(c, i.R0);
        TW.Set(ref d, i.Sh0, TOp.Compute(TW.Get(ref d, i.Sh0), i.Imm, cin, TW.Mask));
    }

    public static void RMNoFlags<TOp, TW>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth
    {
        ulong cin = TOp.CarryIn(c);
        ulong b = TW.Load(c.Mem, Gpr.Ea(c, ref i));
        ref ulong d = ref Gpr.At(c, i.R0);
        TW.Set(ref d, i.Sh0, TOp.Compute(TW.Get(ref d, i.Sh0), b, cin, TW.Mask));
    }

    /// <summary>INC and DEC with their flags dead also skip keeping CF: it stays where the producer before left it.</summary>
    public static void IncRNoFlags<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        TW.Set(ref d, i.Sh0, (TW.Get(ref d, i.Sh0) + 1) & TW.Mask);
    }

    public static void DecRNoFlags<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        TW.Set(ref d, i.Sh0, (TW.Get(ref d, i.Sh0) - 1) & TW.Mask);
    }

    public static void IncR<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        c.PreserveCarry();
        ref ulong d = ref Gpr.At(c, i.R0);
        ulong a = TW.Get(ref d, i.Sh0);
        ulong r = (a + 1) & TW.Mask;
        TW.Set(ref d, i.Sh0, r);
        c.SetFlags(FlagOp.Inc, TW.Bits, r, a, 1);
    }

    public static void IncM<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        c.PreserveCarry();
        ulong ea = Gpr.Ea(c, ref i);
        ulong a = TW.Load(c.Mem, ea);
        ulong r = (a + 1) & TW.Mask;
        TW.Store(c.Mem, ea, r);
        c.SetFlags(FlagOp.Inc, TW.Bits, r, a, 1);
    }

    public static void DecR<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        c.PreserveCarry();
        ref ulong d = ref Gpr.At(c, i.R0);
        ulong a = TW.Get(ref d, i.Sh0);
        ulong r = (a - 1) & TW.Mask;
        TW.Set(ref d, i.Sh0, r);
        c.SetFlags(FlagOp.Dec, TW.Bits, r, a, 1);
    }

    public static void DecM<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        c.PreserveCarry();
        ulong ea = Gpr.Ea(c, ref i);
        ulong a = TW.Load(c.Mem, ea);
        ulong r = (a - 1) & TW.Mask;
        TW.Store(c.Mem, ea, r);
        c.SetFlags(FlagOp.Dec, TW.Bits, r, a, 1);
    }

    public static void NegR<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        ulong a = TW.Get(ref d, i.Sh0);
        ulong r = (0 - a) & TW.Mask;
        TW.Set(ref d, i.Sh0, r);
        c.SetFlags(FlagOp.Sub, TW.Bits, r, 0, a);
    }

    public static void NotR<TW>(CpuState c, ref Insn i) where TW : struct, IWidth
    {
        ref ulong d = ref Gpr.At(c, i.R0);
        TW.Set(ref d, i.Sh0, ~TW.Get(ref d, i.Sh0) & TW.Mask);
    }
}
