using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.VexOperands;

namespace LegoEmu.Cpu.Interp;

/// <summary>One 128-bit lane of a lane-wise two-source vector operation, run as the host's SSE instruction.</summary>
interface ILaneOp
{
    static abstract Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b);
}

/// <summary>
/// VEX-encoded integer and bitwise vector operations that work lane by lane (128-bit lanes), three-operand
/// form dest = op(src1, src2/mem): compares, min/max, add/sub, logic, PSHUFB. VEX.128 forms zero the
/// destination's upper half, VEX.256 forms (AVX2) do both lanes. Also VPMOVMSKB and VPTEST.
/// </summary>
static unsafe class Avx2Integer
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Vpcmpeqb, &Binary<CmpEqB>);
        HandlerTable.Set(Mnemonic.Vpcmpeqw, &Binary<CmpEqW>);
        HandlerTable.Set(Mnemonic.Vpcmpeqd, &Binary<CmpEqD>);
        HandlerTable.Set(Mnemonic.Vpcmpeqq, &Binary<CmpEqQ>);
        HandlerTable.Set(Mnemonic.Vpcmpgtb, &Binary<CmpGtB>);
        HandlerTable.Set(Mnemonic.Vpcmpgtw, &Binary<CmpGtW>);
        HandlerTable.Set(Mnemonic.Vpcmpgtd, &Binary<CmpGtD>);
        HandlerTable.Set(Mnemonic.Vpcmpgtq, &Binary<CmpGtQ>);
        HandlerTable.Set(Mnemonic.Vpminub, &Binary<MinUB>);
        HandlerTable.Set(Mnemonic.Vpminuw, &Binary<MinUW>);
        HandlerTable.Set(Mnemonic.Vpminud, &Binary<MinUD>);
        HandlerTable.Set(Mnemonic.Vpminsb, &Binary<MinSB>);
        HandlerTable.Set(Mnemonic.Vpminsw, &Binary<MinSW>);
        HandlerTable.Set(Mnemonic.Vpminsd, &Binary<MinSD>);
        HandlerTable.Set(Mnemonic.Vpmaxub, &Binary<MaxUB>);
        HandlerTable.Set(Mnemonic.Vpmaxuw, &Binary<MaxUW>);
        HandlerTable.Set(Mnemonic.Vpmaxud, &Binary<MaxUD>);
        HandlerTable.Set(Mnemonic.Vpmaxsb, &Binary<MaxSB>);
        HandlerTable.Set(Mnemonic.Vpmaxsw, &Binary<MaxSW>);
        HandlerTable.Set(Mnemonic.Vpmaxsd, &Binary<MaxSD>);
        HandlerTable.Set(Mnemonic.Vpaddb, &Binary<AddB>);
        HandlerTable.Set(Mnemonic.Vpaddw, &Binary<AddW>);
        HandlerTable.Set(Mnemonic.Vpaddd, &Binary<AddD>);
        HandlerTable.Set(Mnemonic.Vpaddq, &Binary<AddQ>);
        HandlerTable.Set(Mnemonic.Vpsubb, &Binary<SubB>);
        HandlerTable.Set(Mnemonic.Vpsubw, &Binary<SubW>);
        HandlerTable.Set(Mnemonic.Vpsubd, &Binary<SubD>);
        HandlerTable.Set(Mnemonic.Vpsubq, &Binary<SubQ>);
        HandlerTable.Set(Mnemonic.Vpand, &Binary<And>);
        HandlerTable.Set(Mnemonic.Vandps, &Binary<And>);
        HandlerTable.Set(Mnemonic.Vandpd, &Binary<And>);
        HandlerTable.Set(Mnemonic.Vpandn, &Binary<AndNot>);
        HandlerTable.Set(Mnemonic.Vandnps, &Binary<AndNot>);
        HandlerTable.Set(Mnemonic.Vandnpd, &Binary<AndNot>);
        HandlerTable.Set(Mnemonic.Vpor, &Binary<Or>);
        HandlerTable.Set(Mnemonic.Vorps, &Binary<Or>);
        HandlerTable.Set(Mnemonic.Vorpd, &Binary<Or>);
        HandlerTable.Set(Mnemonic.Vpxor, &Binary<Xor>);
        HandlerTable.Set(Mnemonic.Vxorps, &Binary<Xor>);
        HandlerTable.Set(Mnemonic.Vxorpd, &Binary<Xor>);
        HandlerTable.Set(Mnemonic.Vpshufb, &Binary<ShufB>);
        HandlerTable.Set(Mnemonic.Vpmovmskb, &MoveMask);
        HandlerTable.Set(Mnemonic.Vptest, &Test);
    }

    /// <summary>dest = op(src1, src2/mem) per lane; the sources are read before the destination is written.</summary>
    static void Binary<T>(CpuState c, ref Insn i) where T : struct, ILaneOp
    {
        var d = i.I.Op0Register;
        bool wide = IsYmm(d);
        var a = Reg(c, i.I.Op1Register);
        var b = Read(c, ref i, 2, wide);
        int k = Index(d);
        c.Xmm[k] = T.Apply(a.GetLower(), b.GetLower());
        c.YmmHigh[k] = wide ? T.Apply(a.GetUpper(), b.GetUpper()) : Vector128<byte>.Zero;
    }

    /// <summary>VPMOVMSKB r32/r64, xmm/ymm: the top bit of every byte, zero-extended.</summary>
    static void MoveMask(CpuState c, ref Insn i)
    {
        var s = i.I.Op1Register;
        var v = Reg(c, s);
        uint m = (uint)Sse2.MoveMask(v.GetLower());
        if (IsYmm(s)) m |= (uint)Sse2.MoveMask(v.GetUpper()) << 16;
        Operands.SetReg(c, i.I.Op0Register, m);
    }

    /// <summary>VPTEST: ZF when src &amp; dest is zero, CF when src &amp; ~dest is; the other arithmetic flags clear.</summary>
    static void Test(CpuState c, ref Insn i)
    {
        bool wide = IsYmm(i.I.Op0Register);
        var a = Reg(c, i.I.Op0Register);
        var b = Read(c, ref i, 1, wide);
        var and = Vector256.BitwiseAnd(a, b);
        var andNot = Vector256.AndNot(b, a);
        bool zf = and == Vector256<byte>.Zero, cf = andNot == Vector256<byte>.Zero;
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~Rf.Arith) | (zf ? Rf.ZF : 0) | (cf ? Rf.CF : 0);
    }

    struct CmpEqB : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.CompareEqual(a, b); }
    struct CmpEqW : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.CompareEqual(a.AsUInt16(), b.AsUInt16()).AsByte(); }
    struct CmpEqD : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.CompareEqual(a.AsUInt32(), b.AsUInt32()).AsByte(); }
    struct CmpEqQ : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse41.CompareEqual(a.AsUInt64(), b.AsUInt64()).AsByte(); }
    struct CmpGtB : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.CompareGreaterThan(a.AsSByte(), b.AsSByte()).AsByte(); }
    struct CmpGtW : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.CompareGreaterThan(a.AsInt16(), b.AsInt16()).AsByte(); }
    struct CmpGtD : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.CompareGreaterThan(a.AsInt32(), b.AsInt32()).AsByte(); }
    struct CmpGtQ : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse42.CompareGreaterThan(a.AsInt64(), b.AsInt64()).AsByte(); }
    struct MinUB : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Min(a, b); }
    struct MinUW : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse41.Min(a.AsUInt16(), b.AsUInt16()).AsByte(); }
    struct MinUD : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse41.Min(a.AsUInt32(), b.AsUInt32()).AsByte(); }
    struct MinSB : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse41.Min(a.AsSByte(), b.AsSByte()).AsByte(); }
    struct MinSW : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Min(a.AsInt16(), b.AsInt16()).AsByte(); }
    struct MinSD : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse41.Min(a.AsInt32(), b.AsInt32()).AsByte(); }
    struct MaxUB : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Max(a, b); }
    struct MaxUW : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse41.Max(a.AsUInt16(), b.AsUInt16()).AsByte(); }
    struct MaxUD : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse41.Max(a.AsUInt32(), b.AsUInt32()).AsByte(); }
    struct MaxSB : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse41.Max(a.AsSByte(), b.AsSByte()).AsByte(); }
    struct MaxSW : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Max(a.AsInt16(), b.AsInt16()).AsByte(); }
    struct MaxSD : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse41.Max(a.AsInt32(), b.AsInt32()).AsByte(); }
    struct AddB : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Add(a, b); }
    struct AddW : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Add(a.AsUInt16(), b.AsUInt16()).AsByte(); }
    struct AddD : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Add(a.AsUInt32(), b.AsUInt32()).AsByte(); }
    struct AddQ : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Add(a.AsUInt64(), b.AsUInt64()).AsByte(); }
    struct SubB : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Subtract(a, b); }
    struct SubW : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Subtract(a.AsUInt16(), b.AsUInt16()).AsByte(); }
    struct SubD : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Subtract(a.AsUInt32(), b.AsUInt32()).AsByte(); }
    struct SubQ : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Subtract(a.AsUInt64(), b.AsUInt64()).AsByte(); }
    struct And : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.And(a, b); }
    struct AndNot : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.AndNot(a, b); }
    struct Or : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Or(a, b); }
    struct Xor : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Sse2.Xor(a, b); }
    struct ShufB : ILaneOp { public static Vector128<byte> Apply(in Vector128<byte> a, in Vector128<byte> b) => Ssse3.Shuffle(a, b); }
}
