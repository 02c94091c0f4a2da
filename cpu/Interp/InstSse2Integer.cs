using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// SSE2 packed-integer and bitwise operations on XMM registers. The host is x86-64, so each
/// operation is the host's own SSE2 instruction through .NET intrinsics: bit-exact by construction.
/// </summary>
static unsafe class InstSse2Integer
{
    internal static readonly Mnemonic[] BinaryOps =
    {
        Mnemonic.Pxor, Mnemonic.Por, Mnemonic.Pand, Mnemonic.Pandn,
        Mnemonic.Xorps, Mnemonic.Xorpd, Mnemonic.Orps, Mnemonic.Orpd, Mnemonic.Andps, Mnemonic.Andpd, Mnemonic.Andnps, Mnemonic.Andnpd,
        Mnemonic.Paddb, Mnemonic.Paddw, Mnemonic.Paddd, Mnemonic.Paddq, Mnemonic.Psubb, Mnemonic.Psubw, Mnemonic.Psubd, Mnemonic.Psubq,
        Mnemonic.Paddusb, Mnemonic.Paddusw, Mnemonic.Psubusb, Mnemonic.Psubusw, Mnemonic.Paddsb, Mnemonic.Paddsw, Mnemonic.Psubsb, Mnemonic.Psubsw,
        Mnemonic.Pcmpeqb, Mnemonic.Pcmpeqw, Mnemonic.Pcmpeqd, Mnemonic.Pcmpgtb, Mnemonic.Pcmpgtw, Mnemonic.Pcmpgtd,
        Mnemonic.Pminub, Mnemonic.Pmaxub, Mnemonic.Pminsw, Mnemonic.Pmaxsw, Mnemonic.Pavgb, Mnemonic.Pavgw,
        Mnemonic.Pmullw, Mnemonic.Pmulhw, Mnemonic.Pmulhuw, Mnemonic.Pmuludq, Mnemonic.Pmaddwd, Mnemonic.Psadbw,
        Mnemonic.Punpcklbw, Mnemonic.Punpcklwd, Mnemonic.Punpckldq, Mnemonic.Punpcklqdq,
        Mnemonic.Punpckhbw, Mnemonic.Punpckhwd, Mnemonic.Punpckhdq, Mnemonic.Punpckhqdq,
        Mnemonic.Packsswb, Mnemonic.Packssdw, Mnemonic.Packuswb,
        Mnemonic.Unpcklps, Mnemonic.Unpckhps, Mnemonic.Unpcklpd, Mnemonic.Unpckhpd,
    };

    internal static void Register()
    {
        foreach (var m in BinaryOps) HandlerTable.Set(m, &Binary);
        foreach (var m in new[] { Mnemonic.Psllw, Mnemonic.Pslld, Mnemonic.Psllq, Mnemonic.Psrlw, Mnemonic.Psrld, Mnemonic.Psrlq, Mnemonic.Psraw, Mnemonic.Psrad })
            HandlerTable.Set(m, &Shift);
        HandlerTable.Set(Mnemonic.Pslldq, &ByteShift);
        HandlerTable.Set(Mnemonic.Psrldq, &ByteShift);
        HandlerTable.Set(Mnemonic.Pshufd, &Shuffle);
        HandlerTable.Set(Mnemonic.Pshuflw, &Shuffle);
        HandlerTable.Set(Mnemonic.Pshufhw, &Shuffle);
        HandlerTable.Set(Mnemonic.Shufps, &Shuffle);
        HandlerTable.Set(Mnemonic.Shufpd, &Shuffle);
        HandlerTable.Set(Mnemonic.Pmovmskb, &MoveMask);
        HandlerTable.Set(Mnemonic.Movmskps, &MoveMask);
        HandlerTable.Set(Mnemonic.Movmskpd, &MoveMask);
        HandlerTable.Set(Mnemonic.Pextrw, &Pextrw);
        HandlerTable.Set(Mnemonic.Pinsrw, &Pinsrw);
    }

    static void Binary(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        var s = ReadXAligned(c, ref i, 1);
        d = Compute(i.I.Mnemonic, d, s);
    }

    internal static Vector128<byte> Compute(Mnemonic m, in Vector128<byte> a, in Vector128<byte> b) => m switch
    {
        Mnemonic.Pxor or Mnemonic.Xorps or Mnemonic.Xorpd => Sse2.Xor(a, b),
        Mnemonic.Por or Mnemonic.Orps or Mnemonic.Orpd => Sse2.Or(a, b),
        Mnemonic.Pand or Mnemonic.Andps or Mnemonic.Andpd => Sse2.And(a, b),
        Mnemonic.Pandn or Mnemonic.Andnps or Mnemonic.Andnpd => Sse2.AndNot(a, b),
        Mnemonic.Paddb => Sse2.Add(a, b),
        Mnemonic.Paddw => Sse2.Add(a.AsUInt16(), b.AsUInt16()).AsByte(),
        Mnemonic.Paddd => Sse2.Add(a.AsUInt32(), b.AsUInt32()).AsByte(),
        Mnemonic.Paddq => Sse2.Add(a.AsUInt64(), b.AsUInt64()).AsByte(),
        Mnemonic.Psubb => Sse2.Subtract(a, b),
        Mnemonic.Psubw => Sse2.Subtract(a.AsUInt16(), b.AsUInt16()).AsByte(),
        Mnemonic.Psubd => Sse2.Subtract(a.AsUInt32(), b.AsUInt32()).AsByte(),
        Mnemonic.Psubq => Sse2.Subtract(a.AsUInt64(), b.AsUInt64()).AsByte(),
        Mnemonic.Paddusb => Sse2.AddSaturate(a, b),
        Mnemonic.Paddusw => Sse2.AddSaturate(a.AsUInt16(), b.AsUInt16()).AsByte(),
        Mnemonic.Psubusb => Sse2.SubtractSaturate(a, b),
        Mnemonic.Psubusw => Sse2.SubtractSaturate(a.AsUInt16(), b.AsUInt16()).AsByte(),
        Mnemonic.Paddsb => Sse2.AddSaturate(a.AsSByte(), b.AsSByte()).AsByte(),
        Mnemonic.Paddsw => Sse2.AddSaturate(a.AsInt16(), b.AsInt16()).AsByte(),
        Mnemonic.Psubsb => Sse2.SubtractSaturate(a.AsSByte(), b.AsSByte()).AsByte(),
        Mnemonic.Psubsw => Sse2.SubtractSaturate(a.AsInt16(), b.AsInt16()).AsByte(),
        Mnemonic.Pcmpeqb => Sse2.CompareEqual(a, b),
        Mnemonic.Pcmpeqw => Sse2.CompareEqual(a.AsUInt16(), b.AsUInt16()).AsByte(),
        Mnemonic.Pcmpeqd => Sse2.CompareEqual(a.AsUInt32(), b.AsUInt32()).AsByte(),
        Mnemonic.Pcmpgtb => Sse2.CompareGreaterThan(a.AsSByte(), b.AsSByte()).AsByte(),
        Mnemonic.Pcmpgtw => Sse2.CompareGreaterThan(a.AsInt16(), b.AsInt16()).AsByte(),
        Mnemonic.Pcmpgtd => Sse2.CompareGreaterThan(a.AsInt32(), b.AsInt32()).AsByte(),
        Mnemonic.Pminub => Sse2.Min(a, b),
        Mnemonic.Pmaxub => Sse2.Max(a, b),
        Mnemonic.Pminsw => Sse2.Min(a.AsInt16(), b.AsInt16()).AsByte(),
        Mnemonic.Pmaxsw => Sse2.Max(a.AsInt16(), b.AsInt16()).AsByte(),
        Mnemonic.Pavgb => Sse2.Average(a, b),
        Mnemonic.Pavgw => Sse2.Average(a.AsUInt16(), b.AsUInt16()).AsByte(),
        Mnemonic.Pmullw => Sse2.MultiplyLow(a.AsInt16(), b.AsInt16()).AsByte(),
        Mnemonic.Pmulhw => Sse2.MultiplyHigh(a.AsInt16(), b.AsInt16()).AsByte(),
        Mnemonic.Pmulhuw => Sse2.MultiplyHigh(a.AsUInt16(), b.AsUInt16()).AsByte(),
        Mnemonic.Pmuludq => Sse2.Multiply(a.AsUInt32(), b.AsUInt32()).AsByte(),
        Mnemonic.Pmaddwd => Sse2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16()).AsByte(),
        Mnemonic.Psadbw => Sse2.SumAbsoluteDifferences(a, b).AsByte(),
        Mnemonic.Punpcklbw => Sse2.UnpackLow(a, b),
        Mnemonic.Punpcklwd => Sse2.UnpackLow(a.AsUInt16(), b.AsUInt16()).AsByte(),
        Mnemonic.Punpckldq or Mnemonic.Unpcklps => Sse2.UnpackLow(a.AsUInt32(), b.AsUInt32()).AsByte(),
        Mnemonic.Punpcklqdq or Mnemonic.Unpcklpd => Sse2.UnpackLow(a.AsUInt64(), b.AsUInt64()).AsByte(),
        Mnemonic.Punpckhbw => Sse2.UnpackHigh(a, b),
        Mnemonic.Punpckhwd => Sse2.UnpackHigh(a.AsUInt16(), b.AsUInt16()).AsByte(),
        Mnemonic.Punpckhdq or Mnemonic.Unpckhps => Sse2.UnpackHigh(a.AsUInt32(), b.AsUInt32()).AsByte(),
        Mnemonic.Punpckhqdq or Mnemonic.Unpckhpd => Sse2.UnpackHigh(a.AsUInt64(), b.AsUInt64()).AsByte(),
        Mnemonic.Packsswb => Sse2.PackSignedSaturate(a.AsInt16(), b.AsInt16()).AsByte(),
        Mnemonic.Packssdw => Sse2.PackSignedSaturate(a.AsInt32(), b.AsInt32()).AsByte(),
        Mnemonic.Packuswb => Sse2.PackUnsignedSaturate(a.AsInt16(), b.AsInt16()),
        _ => throw new InvalidOperationException($"no packed operation for {m}"),
    };

    static void Shift(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        ulong count = i.I.Op1Kind == OpKind.Immediate8 ? i.I.Immediate8 : ReadXAligned(c, ref i, 1).AsUInt64().GetElement(0);
        d = ShiftBy(i.I.Mnemonic, d, count);
    }

    /// <summary>The host instruction takes the full 64-bit count and zeroes (or sign-fills) lanes for large counts.</summary>
    internal static Vector128<byte> ShiftBy(Mnemonic m, in Vector128<byte> d, ulong count)
    {
        var cnt = Vector128.Create(count, 0UL);
        return m switch
        {
            Mnemonic.Psllw => Sse2.ShiftLeftLogical(d.AsUInt16(), cnt.AsUInt16()).AsByte(),
            Mnemonic.Pslld => Sse2.ShiftLeftLogical(d.AsUInt32(), cnt.AsUInt32()).AsByte(),
            Mnemonic.Psllq => Sse2.ShiftLeftLogical(d.AsUInt64(), cnt).AsByte(),
            Mnemonic.Psrlw => Sse2.ShiftRightLogical(d.AsUInt16(), cnt.AsUInt16()).AsByte(),
            Mnemonic.Psrld => Sse2.ShiftRightLogical(d.AsUInt32(), cnt.AsUInt32()).AsByte(),
            Mnemonic.Psrlq => Sse2.ShiftRightLogical(d.AsUInt64(), cnt).AsByte(),
            Mnemonic.Psraw => Sse2.ShiftRightArithmetic(d.AsInt16(), cnt.AsInt16()).AsByte(),
            _ => Sse2.ShiftRightArithmetic(d.AsInt32(), cnt.AsInt32()).AsByte(),
        };
    }

    static void ByteShift(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        int n = i.I.Immediate8;
        if (n > 16) n = 16;
        Span<byte> src = stackalloc byte[16];
        Span<byte> dst = stackalloc byte[16];
        d.CopyTo(src);
        dst.Clear();
        if (i.I.Mnemonic == Mnemonic.Pslldq) src[..(16 - n)].CopyTo(dst[n..]);
        else src[n..].CopyTo(dst);
        d = Vector128.Create((ReadOnlySpan<byte>)dst);
    }

    static void Shuffle(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        var s = ReadXAligned(c, ref i, 1);
        byte imm = i.I.Immediate8;
        switch (i.I.Mnemonic)
        {
            case Mnemonic.Pshufd:
            {
                var v = s.AsUInt32();
                d = Vector128.Create(v.GetElement(imm & 3), v.GetElement((imm >> 2) & 3), v.GetElement((imm >> 4) & 3), v.GetElement((imm >> 6) & 3)).AsByte();
                break;
            }
            case Mnemonic.Pshuflw:
            {
                var v = s.AsUInt16();
                var r = v;
                for (int k = 0; k < 4; k++) r = r.WithElement(k, v.GetElement((imm >> (2 * k)) & 3));
                d = r.AsByte();
                break;
            }
            case Mnemonic.Pshufhw:
            {
                var v = s.AsUInt16();
                var r = v;
                for (int k = 0; k < 4; k++) r = r.WithElement(4 + k, v.GetElement(4 + ((imm >> (2 * k)) & 3)));
                d = r.AsByte();
                break;
            }
            case Mnemonic.Shufps:
            {
                var a = d.AsUInt32();
                var b = s.AsUInt32();
                d = Vector128.Create(a.GetElement(imm & 3), a.GetElement((imm >> 2) & 3), b.GetElement((imm >> 4) & 3), b.GetElement((imm >> 6) & 3)).AsByte();
                break;
            }
            default:
            {
                var a = d.AsUInt64();
                var b = s.AsUInt64();
                d = Vector128.Create(a.GetElement(imm & 1), b.GetElement((imm >> 1) & 1)).AsByte();
                break;
            }
        }
    }

    static void MoveMask(CpuState c, ref Insn i)
    {
        var s = Xmm(c, i.I.Op1Register);
        int m = i.I.Mnemonic switch
        {
            Mnemonic.Pmovmskb => Sse2.MoveMask(s),
            Mnemonic.Movmskps => Sse.MoveMask(s.AsSingle()),
            _ => Sse2.MoveMask(s.AsDouble()),
        };
        SetReg(c, i.I.Op0Register, (uint)m);
    }

    /// <summary>PEXTRW r32/r64, xmm (SSE2) and PEXTRW r/m16, xmm (SSE4.1, 0F 3A 15); MMX forms are not implemented.</summary>
    static void Pextrw(CpuState c, ref Insn i)
    {
        if (!InstSsse3.IsXmm(i.I.Op1Register)) throw InstSsse3.MmxForm(c, ref i);
        ushort v = Xmm(c, i.I.Op1Register).AsUInt16().GetElement(i.I.Immediate8 & 7);
        if (i.I.Op0Kind == OpKind.Memory) c.Mem.Write16(Ea(c, ref i), v);
        else SetReg(c, i.I.Op0Register, v);
    }

    static void Pinsrw(CpuState c, ref Insn i)
    {
        if (!InstSsse3.IsXmm(i.I.Op0Register)) throw InstSsse3.MmxForm(c, ref i);
        ref var d = ref Xmm(c, i.I.Op0Register);
        ulong v = i.I.Op1Kind == OpKind.Memory ? c.Mem.Read16(Ea(c, ref i)) : GetReg(c, i.I.Op1Register);
        d = d.AsUInt16().WithElement(i.I.Immediate8 & 7, (ushort)v).AsByte();
    }
}
