using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// MMX (and the SSE/SSE2 integer extensions on MM registers). MMn is the significand of x87 physical
/// register n: an MMX instruction empties nothing, tags every register valid and sets TOP to 0;
/// EMMS tags them all empty (and sets TOP to 0 too). Lane arithmetic reuses the SSE2 code on the low 64 bits of a vector.
/// </summary>
static unsafe class InstMmx
{
    /// <summary>True when an instruction names an MM register, so it must run here and not in the SSE handlers.</summary>
    public static bool UsesMmx(in Instruction ins)
    {
        for (int n = 0; n < ins.OpCount; n++)
            if (ins.GetOpKind(n) == OpKind.Register && ins.GetOpRegister(n) is >= Iced.Intel.Register.MM0 and <= Iced.Intel.Register.MM7)
                return true;
        return false;
    }

    static readonly bool[] Supported = BuildSupported();

    static bool[] BuildSupported()
    {
        var t = new bool[HandlerTable.MnemonicCount];
        foreach (var m in InstSse2Integer.BinaryOps) t[(int)m] = true;
        foreach (var m in new[]
                 {
                     Mnemonic.Movd, Mnemonic.Movq, Mnemonic.Movntq, Mnemonic.Psllw, Mnemonic.Pslld, Mnemonic.Psllq, Mnemonic.Psrlw,
                     Mnemonic.Psrld, Mnemonic.Psrlq, Mnemonic.Psraw, Mnemonic.Psrad, Mnemonic.Pshufw, Mnemonic.Pmovmskb,
                     Mnemonic.Pextrw, Mnemonic.Pinsrw, Mnemonic.Maskmovq,
                     // SSSE3 on MM registers: CPUID's SSSE3 bit covers these forms too.
                     Mnemonic.Pshufb, Mnemonic.Phaddw, Mnemonic.Phaddd, Mnemonic.Phaddsw, Mnemonic.Phsubw, Mnemonic.Phsubd, Mnemonic.Phsubsw,
                     Mnemonic.Pmaddubsw, Mnemonic.Pmulhrsw, Mnemonic.Psignb, Mnemonic.Psignw, Mnemonic.Psignd, Mnemonic.Pabsb, Mnemonic.Pabsw,
                     Mnemonic.Pabsd, Mnemonic.Palignr,
                     Mnemonic.Movdq2q, Mnemonic.Movq2dq, Mnemonic.Cvtpi2ps, Mnemonic.Cvtps2pi, Mnemonic.Cvttps2pi,
                     Mnemonic.Cvtpd2pi, Mnemonic.Cvttpd2pi, Mnemonic.Cvtpi2pd,
                 })
            t[(int)m] = true;
        return t;
    }

    /// <summary>The handler for an MMX form, or null when this MMX instruction is not implemented.</summary>
    public static delegate*<CpuState, ref Insn, void> For(in Instruction ins) =>
        Supported[(int)ins.Mnemonic] ? &Execute : null;

    internal static void Register() => HandlerTable.Set(Mnemonic.Emms, &Emms);

    static void Emms(CpuState c, ref Insn i)
    {
        CheckPending(c, ref i);
        c.Fpu.TagWord = 0xffff;
        c.Fpu.Top = 0; // as every MMX instruction does
    }

    /// <summary>Like a waiting x87 instruction, an MMX one raises #MF first while an unmasked x87 exception is pending.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static void CheckPending(CpuState c, ref Insn i)
    {
        if (c.Fpu.Pending) throw X87Unmasked.Fault(i.Ip, c.Fpu);
    }

    static int Mm(Iced.Intel.Register r) => r - Iced.Intel.Register.MM0;

    static void EnterMmx(X87 f)
    {
        f.Top = 0;
        f.TagWord = 0;
    }

    static ulong ReadMm(CpuState c, ref Insn i, int n)
    {
        if (i.I.GetOpKind(n) == OpKind.Register)
        {
            var r = i.I.GetOpRegister(n);
            if (r is >= Iced.Intel.Register.MM0 and <= Iced.Intel.Register.MM7) return c.Fpu.Regs[Mm(r)].Mantissa;
            return GetReg(c, r);
        }
        if (i.I.GetOpKind(n) == OpKind.Memory) return i.MemBits == 32 ? c.Mem.Read32(Ea(c, ref i)) : c.Mem.Read64(Ea(c, ref i));
        return i.I.GetImmediate(n);
    }

    static void WriteMm(CpuState c, int k, ulong v)
    {
        c.Fpu.Regs[k].Mantissa = v;
        c.Fpu.Regs[k].SignExp = 0xffff; // what an MMX write leaves in the exponent field
    }

    static Vector128<byte> V(ulong v) => Vector128.CreateScalar(v).AsByte();
    static ulong Low(in Vector128<byte> v) => v.AsUInt64().GetElement(0);

    static void Execute(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        CheckPending(c, ref i);
        EnterMmx(f);
        var m = i.I.Mnemonic;
        switch (m)
        {
            case Mnemonic.Movq2dq:
                Xmm(c, i.I.Op0Register) = V(ReadMm(c, ref i, 1));
                return;
            case Mnemonic.Movdq2q:
                WriteMm(c, Mm(i.I.Op0Register), Low(Xmm(c, i.I.Op1Register)));
                return;
            case Mnemonic.Cvtpi2ps:
            {
                ref var dx = ref Xmm(c, i.I.Op0Register);
                var conv = Sse2.ConvertToVector128Single(V(ReadMm(c, ref i, 1)).AsInt32());
                dx = dx.AsUInt64().WithElement(0, conv.AsUInt64().GetElement(0)).AsByte();
                return;
            }
            case Mnemonic.Cvtpi2pd:
                Xmm(c, i.I.Op0Register) = Sse2.ConvertToVector128Double(V(ReadMm(c, ref i, 1)).AsInt32()).AsByte();
                return;
            case Mnemonic.Cvtps2pi:
            case Mnemonic.Cvttps2pi:
            {
                // Only the low two singles are converted: the upper lanes must not raise exceptions.
                var src = V(i.I.Op1Kind == OpKind.Memory ? c.Mem.Read64(Ea(c, ref i)) : Low(Xmm(c, i.I.Op1Register)));
                var r = m == Mnemonic.Cvtps2pi ? SingleToInt32(src.AsSingle()) : SingleToInt32T(src.AsSingle());
                WriteMm(c, Mm(i.I.Op0Register), r.AsUInt64().GetElement(0));
                return;
            }
            case Mnemonic.Cvtpd2pi:
            case Mnemonic.Cvttpd2pi:
            {
                var src = ReadXAligned(c, ref i, 1);
                var r = m == Mnemonic.Cvtpd2pi ? DoubleToInt32(src.AsDouble()) : DoubleToInt32T(src.AsDouble());
                WriteMm(c, Mm(i.I.Op0Register), r.AsUInt64().GetElement(0));
                return;
            }
            case Mnemonic.Movd:
            case Mnemonic.Movq:
            case Mnemonic.Movntq:
            {
                ulong v = ReadMm(c, ref i, 1);
                if (m == Mnemonic.Movd) v = (uint)v;
                if (i.I.Op0Kind == OpKind.Memory) WriteMem(c, Ea(c, ref i), m == Mnemonic.Movd ? 32 : 64, v);
                else if (i.I.Op0Register is >= Iced.Intel.Register.MM0 and <= Iced.Intel.Register.MM7) WriteMm(c, Mm(i.I.Op0Register), v);
                else SetReg(c, i.I.Op0Register, v);
                return;
            }
            case Mnemonic.Maskmovq:
            {
                // The bytes of operand 1 whose byte in operand 2 has its top bit set, to [RDI].
                ulong data = ReadMm(c, ref i, 1), mask = ReadMm(c, ref i, 2);
                ulong at = InstSseMove.MaskMoveAddress(c, ref i);
                for (int k = 0; k < 8; k++)
                    if (((mask >> (8 * k + 7)) & 1) != 0) c.Mem.Write8(at + (ulong)k, (byte)(data >> (8 * k)));
                return;
            }
            case Mnemonic.Pmovmskb:
                SetReg(c, i.I.Op0Register, (uint)(Sse2.MoveMask(V(ReadMm(c, ref i, 1))) & 0xff));
                return;
            case Mnemonic.Pextrw:
                SetReg(c, i.I.Op0Register, (ushort)(ReadMm(c, ref i, 1) >> (16 * (i.I.Immediate8 & 3))));
                return;
            case Mnemonic.Pinsrw:
            {
                int k = Mm(i.I.Op0Register), sh = 16 * (i.I.Immediate8 & 3);
                ulong w = (ushort)ReadMm(c, ref i, 1);
                WriteMm(c, k, (f.Regs[k].Mantissa & ~(0xffffUL << sh)) | (w << sh));
                return;
            }
            case Mnemonic.Pshufw:
            {
                ulong s = ReadMm(c, ref i, 1), r = 0;
                byte imm = i.I.Immediate8;
                for (int k = 0; k < 4; k++) r |= ((s >> (16 * ((imm >> (2 * k)) & 3))) & 0xffff) << (16 * k);
                WriteMm(c, Mm(i.I.Op0Register), r);
                return;
            }
        }

        int d = Mm(i.I.Op0Register);
        ulong a = f.Regs[d].Mantissa;
        ulong b = ReadMm(c, ref i, 1);
        ulong result;
        switch (m)
        {
            case Mnemonic.Psllw: case Mnemonic.Pslld: case Mnemonic.Psllq:
            case Mnemonic.Psrlw: case Mnemonic.Psrld: case Mnemonic.Psrlq:
            case Mnemonic.Psraw: case Mnemonic.Psrad:
                result = Low(InstSse2Integer.ShiftBy(m, V(a), b));
                break;
            case Mnemonic.Packsswb: case Mnemonic.Packssdw: case Mnemonic.Packuswb:
            {
                // MMX packs dst's lanes then src's into one 64-bit result: pack the concatenation with itself.
                var both = Vector128.Create(a, b).AsByte();
                result = Low(InstSse2Integer.Compute(m, both, both));
                break;
            }
            case Mnemonic.Pshufb:
                // Indices use three bits on MM registers; bit 7 still zeroes the byte.
                result = Low(Ssse3.Shuffle(V(a), Sse2.And(V(b), Vector128.Create((byte)0x87))));
                break;
            case Mnemonic.Phaddw: case Mnemonic.Phaddd: case Mnemonic.Phaddsw:
            case Mnemonic.Phsubw: case Mnemonic.Phsubd: case Mnemonic.Phsubsw:
            {
                // Horizontal ops over dst's lanes then src's: the 128-bit form on the concatenation gives that order.
                var both = Vector128.Create(a, b).AsByte();
                result = Low(InstSsse3.Compute(m, both, both));
                break;
            }
            case Mnemonic.Pmaddubsw: case Mnemonic.Pmulhrsw: case Mnemonic.Psignb: case Mnemonic.Psignw: case Mnemonic.Psignd:
                result = Low(InstSsse3.Compute(m, V(a), V(b)));
                break;
            case Mnemonic.Pabsb: result = Low(Ssse3.Abs(V(b).AsSByte()).AsByte()); break;
            case Mnemonic.Pabsw: result = Low(Ssse3.Abs(V(b).AsInt16()).AsByte()); break;
            case Mnemonic.Pabsd: result = Low(Ssse3.Abs(V(b).AsInt32()).AsByte()); break;
            case Mnemonic.Palignr:
            {
                // dst:src as 128 bits, shifted right by imm bytes; the low 64 bits remain (zero beyond 16 bytes).
                int n = i.I.Immediate8;
                int sh = 8 * n;
                result = n >= 16 ? 0 : sh == 0 ? b : sh < 64 ? (b >> sh) | (a << (64 - sh)) : a >> (sh - 64);
                break;
            }
            case Mnemonic.Punpckhbw: case Mnemonic.Punpckhwd: case Mnemonic.Punpckhdq:
            {
                var lowForm = m switch { Mnemonic.Punpckhbw => Mnemonic.Punpcklbw, Mnemonic.Punpckhwd => Mnemonic.Punpcklwd, _ => Mnemonic.Punpckldq };
                result = Low(InstSse2Integer.Compute(lowForm, V(a >> 32), V(b >> 32)));
                break;
            }
            default:
                result = Low(InstSse2Integer.Compute(m, V(a), V(b)));
                break;
        }
        WriteMm(c, d, result);
    }

    // Rounding and truncating conversions are calls of their own: the JIT may evaluate both arms of a conditional
    // of intrinsics (if-conversion), and the conversion the guest did not ask for could raise the invalid flag.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static Vector128<int> SingleToInt32(in Vector128<float> v) => Sse2.ConvertToVector128Int32(v);
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static Vector128<int> SingleToInt32T(in Vector128<float> v) => Sse2.ConvertToVector128Int32WithTruncation(v);
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static Vector128<int> DoubleToInt32(in Vector128<double> v) => Sse2.ConvertToVector128Int32(v);
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static Vector128<int> DoubleToInt32T(in Vector128<double> v) => Sse2.ConvertToVector128Int32WithTruncation(v);
}
