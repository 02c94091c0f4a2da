using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>One SSE2 packed operation of <see cref="InstSse2Integer.Compute"/>, fixed at instantiation.</summary>
/// <remarks>
/// Vectors go in by reference here and throughout the interpreter: ReadyToRun cannot precompile a method that takes a
/// Vector128, Vector256 or (U)Int128 by value, nor one that calls such a method, so each process would JIT them.
/// </remarks>
interface IVecOp
{
    static abstract Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b);
}

struct PxorOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Xor(a, b); }
struct PorOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Or(a, b); }
struct PandOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.And(a, b); }
struct PandnOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.AndNot(a, b); }
struct PaddbOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Add(a, b); }
struct PaddwOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Add(a.AsUInt16(), b.AsUInt16()).AsByte(); }
struct PadddOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Add(a.AsUInt32(), b.AsUInt32()).AsByte(); }
struct PaddqOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Add(a.AsUInt64(), b.AsUInt64()).AsByte(); }
struct PsubbOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Subtract(a, b); }
struct PsubwOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Subtract(a.AsUInt16(), b.AsUInt16()).AsByte(); }
struct PsubdOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Subtract(a.AsUInt32(), b.AsUInt32()).AsByte(); }
struct PsubqOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Subtract(a.AsUInt64(), b.AsUInt64()).AsByte(); }
struct PcmpeqbOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.CompareEqual(a, b); }
struct PcmpeqwOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.CompareEqual(a.AsUInt16(), b.AsUInt16()).AsByte(); }
struct PcmpeqdOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.CompareEqual(a.AsUInt32(), b.AsUInt32()).AsByte(); }
struct PcmpgtbOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.CompareGreaterThan(a.AsSByte(), b.AsSByte()).AsByte(); }
struct PminubOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Min(a, b); }
struct PmaxubOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Max(a, b); }
struct PunpcklbwOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.UnpackLow(a, b); }
struct PunpcklwdOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.UnpackLow(a.AsUInt16(), b.AsUInt16()).AsByte(); }
struct PunpckldqOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.UnpackLow(a.AsUInt32(), b.AsUInt32()).AsByte(); }
struct PunpcklqdqOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.UnpackLow(a.AsUInt64(), b.AsUInt64()).AsByte(); }
struct PunpckhqdqOp : IVecOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.UnpackHigh(a.AsUInt64(), b.AsUInt64()).AsByte(); }

/// <summary>One SSE2 shift of <see cref="InstSse2Integer.ShiftBy"/>: the count is the full 64 bits of a vector's low lane.</summary>
interface IVecShift
{
    static abstract Vector128<byte> Apply(in Vector128<byte> d, in Vector128<ulong> count);
}

struct PsllwOp : IVecShift { public static Vector128<byte> Apply(in Vector128<byte> d, in Vector128<ulong> n) => Sse2.ShiftLeftLogical(d.AsUInt16(), n.AsUInt16()).AsByte(); }
struct PslldOp : IVecShift { public static Vector128<byte> Apply(in Vector128<byte> d, in Vector128<ulong> n) => Sse2.ShiftLeftLogical(d.AsUInt32(), n.AsUInt32()).AsByte(); }
struct PsllqOp : IVecShift { public static Vector128<byte> Apply(in Vector128<byte> d, in Vector128<ulong> n) => Sse2.ShiftLeftLogical(d.AsUInt64(), n).AsByte(); }
struct PsrlwOp : IVecShift { public static Vector128<byte> Apply(in Vector128<byte> d, in Vector128<ulong> n) => Sse2.ShiftRightLogical(d.AsUInt16(), n.AsUInt16()).AsByte(); }
struct PsrldOp : IVecShift { public static Vector128<byte> Apply(in Vector128<byte> d, in Vector128<ulong> n) => Sse2.ShiftRightLogical(d.AsUInt32(), n.AsUInt32()).AsByte(); }
struct PsrlqOp : IVecShift { public static Vector128<byte> Apply(in Vector128<byte> d, in Vector128<ulong> n) => Sse2.ShiftRightLogical(d.AsUInt64(), n).AsByte(); }
struct PsrawOp : IVecShift { public static Vector128<byte> Apply(in Vector128<byte> d, in Vector128<ulong> n) => Sse2.ShiftRightArithmetic(d.AsInt16(), n.AsInt16()).AsByte(); }
struct PsradOp : IVecShift { public static Vector128<byte> Apply(in Vector128<byte> d, in Vector128<ulong> n) => Sse2.ShiftRightArithmetic(d.AsInt32(), n.AsInt32()).AsByte(); }

/// <summary>
/// The common SSE2 moves and packed-integer operations with their XMM indices digested (see
/// <see cref="InstSseMove"/> and <see cref="InstSse2Integer"/>); memory forms keep the alignment rules.
/// </summary>
static class SseForms
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ref Vector128<byte> X(CpuState c, nuint idx) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(c.Xmm), idx);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ulong Low64(CpuState c, nuint idx) => X(c, idx).AsUInt64().ToScalar();

    public static void BinRR<TOp>(CpuState c, ref Insn i) where TOp : struct, IVecOp
    {
        ref var d = ref X(c, i.R0);
        d = TOp.Apply(d, X(c, i.R1));
    }

    public static void BinRM<TOp>(CpuState c, ref Insn i) where TOp : struct, IVecOp
    {
        var s = Operands.ReadXMemAligned(c, ref i);
        ref var d = ref X(c, i.R0);
        d = TOp.Apply(d, s);
    }

    /// <summary>A packed shift by an immediate count, kept in <see cref="Insn.Imm"/>.</summary>
    public static void ShiftRI<TOp>(CpuState c, ref Insn i) where TOp : struct, IVecShift
    {
        ref var d = ref X(c, i.R0);
        d = TOp.Apply(d, Vector128.CreateScalar(i.Imm));
    }

    /// <summary>MOVAPS, MOVDQA, MOVUPS ... between registers.</summary>
    public static void MovRR(CpuState c, ref Insn i) => X(c, i.R0) = X(c, i.R1);

    public static void MovAlignedRM(CpuState c, ref Insn i) => X(c, i.R0) = Operands.ReadXMemAligned(c, ref i);

    public static void MovUnalignedRM(CpuState c, ref Insn i) => X(c, i.R0) = Operands.ReadXMem(c, ref i);

    public static void MovAlignedMR(CpuState c, ref Insn i) => Operands.WriteXMemAligned(c, ref i, X(c, i.R1));

    public static void MovUnalignedMR(CpuState c, ref Insn i) => Operands.WriteXMem(c, Gpr.Ea(c, ref i), X(c, i.R1));

    // MOVD and MOVQ: the XMM destination's upper bits are cleared.

    public static void MovqXX(CpuState c, ref Insn i) => X(c, i.R0) = Vector128.CreateScalar(Low64(c, i.R1)).AsByte();

    public static void MovqXR(CpuState c, ref Insn i) => X(c, i.R0) = Vector128.CreateScalar(Gpr.At(c, i.R1)).AsByte();

    public static void MovdXR(CpuState c, ref Insn i) => X(c, i.R0) = Vector128.CreateScalar((ulong)(uint)Gpr.At(c, i.R1)).AsByte();

    public static void MovqXM(CpuState c, ref Insn i) => X(c, i.R0) = Vector128.CreateScalar(c.Mem.Read64(Gpr.Ea(c, ref i))).AsByte();

    public static void MovdXM(CpuState c, ref Insn i) => X(c, i.R0) = Vector128.CreateScalar((ulong)c.Mem.Read32(Gpr.Ea(c, ref i))).AsByte();

    public static void MovqRX(CpuState c, ref Insn i) => Gpr.At(c, i.R0) = Low64(c, i.R1);

    public static void MovdRX(CpuState c, ref Insn i) => Gpr.At(c, i.R0) = (uint)Low64(c, i.R1);

    public static void MovqMX(CpuState c, ref Insn i) => c.Mem.Write64(Gpr.Ea(c, ref i), Low64(c, i.R1));

    public static void MovdMX(CpuState c, ref Insn i) => c.Mem.Write32(Gpr.Ea(c, ref i), (uint)Low64(c, i.R1));

    // MOVSS and MOVSD: a register source merges into the low lane, a memory source clears the rest.

    public static void MovssRR(CpuState c, ref Insn i)
    {
        ref var d = ref X(c, i.R0);
        d = d.AsUInt32().WithElement(0, X(c, i.R1).AsUInt32().ToScalar()).AsByte();
    }

    public static void MovssRM(CpuState c, ref Insn i) => X(c, i.R0) = Vector128.CreateScalar(c.Mem.Read32(Gpr.Ea(c, ref i))).AsByte();

    public static void MovssMR(CpuState c, ref Insn i) => c.Mem.Write32(Gpr.Ea(c, ref i), X(c, i.R1).AsUInt32().ToScalar());

    public static void MovsdRR(CpuState c, ref Insn i)
    {
        ref var d = ref X(c, i.R0);
        d = d.AsUInt64().WithElement(0, Low64(c, i.R1)).AsByte();
    }

    public static void MovsdRM(CpuState c, ref Insn i) => X(c, i.R0) = Vector128.CreateScalar(c.Mem.Read64(Gpr.Ea(c, ref i))).AsByte();

    public static void MovsdMR(CpuState c, ref Insn i) => c.Mem.Write64(Gpr.Ea(c, ref i), Low64(c, i.R1));

    /// <summary>PMOVMSKB into a 32- or 64-bit register: the mask fits in 16 bits, so both clear the rest.</summary>
    public static void Pmovmskb(CpuState c, ref Insn i) => Gpr.At(c, i.R0) = (uint)Sse2.MoveMask(X(c, i.R1));

    public static void PshufdRR(CpuState c, ref Insn i) => X(c, i.R0) = Pshufd(X(c, i.R1), (int)i.Imm);

    public static void PshufdRM(CpuState c, ref Insn i) => X(c, i.R0) = Pshufd(Operands.ReadXMemAligned(c, ref i), (int)i.Imm);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> Pshufd(in Vector128<byte> s, int imm)
    {
        var v = s.AsUInt32();
        return Vector128.Create(v.GetElement(imm & 3), v.GetElement((imm >> 2) & 3), v.GetElement((imm >> 4) & 3), v.GetElement((imm >> 6) & 3)).AsByte();
    }
}
