using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>SSE/SSE2 conversions between integers, singles and doubles, including truncating forms and "integer indefinite" results.</summary>
static unsafe class InstSseConvert
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Cvtsi2sd, &IntToFloat);
        HandlerTable.Set(Mnemonic.Cvtsi2ss, &IntToFloat);
        HandlerTable.Set(Mnemonic.Cvttsd2si, &FloatToInt);
        HandlerTable.Set(Mnemonic.Cvtsd2si, &FloatToInt);
        HandlerTable.Set(Mnemonic.Cvttss2si, &FloatToInt);
        HandlerTable.Set(Mnemonic.Cvtss2si, &FloatToInt);
        HandlerTable.Set(Mnemonic.Cvtss2sd, &ScalarWidth);
        HandlerTable.Set(Mnemonic.Cvtsd2ss, &ScalarWidth);
        foreach (var m in new[] { Mnemonic.Cvtdq2ps, Mnemonic.Cvtps2dq, Mnemonic.Cvttps2dq, Mnemonic.Cvtdq2pd, Mnemonic.Cvtpd2dq,
                     Mnemonic.Cvttpd2dq, Mnemonic.Cvtps2pd, Mnemonic.Cvtpd2ps })
            HandlerTable.Set(m, &Packed);
        // The MM-register forms run in InstMmx; these are the m64 ones, which leave the x87 state alone.
        HandlerTable.Set(Mnemonic.Cvtpi2ps, &PackedIntsFromMemory);
        HandlerTable.Set(Mnemonic.Cvtpi2pd, &PackedIntsFromMemory);
    }

    /// <summary>CVTPI2PS xmm, m64 (low two singles replaced, the rest kept) and CVTPI2PD xmm, m64 (both doubles replaced).</summary>
    static void PackedIntsFromMemory(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        var src = Vector128.CreateScalar(c.Mem.Read64(Ea(c, ref i))).AsInt32();
        if (i.I.Mnemonic == Mnemonic.Cvtpi2pd)
        {
            d = Sse2.ConvertToVector128Double(src).AsByte();
            return;
        }
        // Only the two loaded integers are converted: zero upper lanes raise nothing.
        var conv = Sse2.ConvertToVector128Single(src);
        d = d.AsUInt64().WithElement(0, conv.AsUInt64().GetElement(0)).AsByte();
    }

    static void IntToFloat(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        int bits = i.I.Op1Kind == OpKind.Memory ? i.MemBits : Registers.GprSize[(int)i.I.Op1Register] * 8;
        ulong v = Read(c, ref i, 1, bits);
        if (i.I.Mnemonic == Mnemonic.Cvtsi2sd)
            d = bits == 64 ? Sse2.X64.ConvertScalarToVector128Double(d.AsDouble(), (long)v).AsByte()
                           : Sse2.ConvertScalarToVector128Double(d.AsDouble(), (int)v).AsByte();
        else
            d = bits == 64 ? Sse.X64.ConvertScalarToVector128Single(d.AsSingle(), (long)v).AsByte()
                           : Sse.ConvertScalarToVector128Single(d.AsSingle(), (int)v).AsByte();
    }

    static void FloatToInt(CpuState c, ref Insn i)
    {
        var m = i.I.Mnemonic;
        bool dbl = m is Mnemonic.Cvttsd2si or Mnemonic.Cvtsd2si;
        bool trunc = m is Mnemonic.Cvttsd2si or Mnemonic.Cvttss2si;
        Vector128<byte> s = i.I.Op1Kind == OpKind.Memory
            ? (dbl ? Vector128.CreateScalar(c.Mem.Read64(Ea(c, ref i))).AsByte() : Vector128.CreateScalar(c.Mem.Read32(Ea(c, ref i))).AsByte())
            : Xmm(c, i.I.Op1Register);
        bool wide = i.OpBits == 64;
        ulong r;
        if (dbl)
        {
            var v = s.AsDouble();
            r = wide ? (ulong)(trunc ? Sse2.X64.ConvertToInt64WithTruncation(v) : Sse2.X64.ConvertToInt64(v))
                     : (uint)(trunc ? Sse2.ConvertToInt32WithTruncation(v) : Sse2.ConvertToInt32(v));
        }
        else
        {
            var v = s.AsSingle();
            r = wide ? (ulong)(trunc ? Sse.X64.ConvertToInt64WithTruncation(v) : Sse.X64.ConvertToInt64(v))
                     : (uint)(trunc ? Sse.ConvertToInt32WithTruncation(v) : Sse.ConvertToInt32(v));
        }
        SetReg(c, i.I.Op0Register, r);
    }

    static void ScalarWidth(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        if (i.I.Mnemonic == Mnemonic.Cvtss2sd)
        {
            var s = i.I.Op1Kind == OpKind.Memory ? Vector128.CreateScalar(c.Mem.Read32(Ea(c, ref i))).AsSingle() : Xmm(c, i.I.Op1Register).AsSingle();
            d = Sse2.ConvertScalarToVector128Double(d.AsDouble(), s).AsByte();
        }
        else
        {
            var s = i.I.Op1Kind == OpKind.Memory ? Vector128.CreateScalar(c.Mem.Read64(Ea(c, ref i))).AsDouble() : Xmm(c, i.I.Op1Register).AsDouble();
            d = Sse2.ConvertScalarToVector128Single(d.AsSingle(), s).AsByte();
        }
    }

    static void Packed(CpuState c, ref Insn i)
    {
        var m = i.I.Mnemonic;
        Vector128<byte> s;
        // The forms that widen read only 64 bits of memory.
        if (m is Mnemonic.Cvtdq2pd or Mnemonic.Cvtps2pd && i.I.Op1Kind == OpKind.Memory)
            s = Vector128.CreateScalar(c.Mem.Read64(Ea(c, ref i))).AsByte();
        else s = ReadXAligned(c, ref i, 1);
        Xmm(c, i.I.Op0Register) = m switch
        {
            Mnemonic.Cvtdq2ps => Sse2.ConvertToVector128Single(s.AsInt32()).AsByte(),
            Mnemonic.Cvtps2dq => Sse2.ConvertToVector128Int32(s.AsSingle()).AsByte(),
            Mnemonic.Cvttps2dq => Sse2.ConvertToVector128Int32WithTruncation(s.AsSingle()).AsByte(),
            Mnemonic.Cvtdq2pd => Sse2.ConvertToVector128Double(s.AsInt32()).AsByte(),
            Mnemonic.Cvtpd2dq => Sse2.ConvertToVector128Int32(s.AsDouble()).AsByte(),
            Mnemonic.Cvttpd2dq => Sse2.ConvertToVector128Int32WithTruncation(s.AsDouble()).AsByte(),
            Mnemonic.Cvtps2pd => Sse2.ConvertToVector128Double(s.AsSingle()).AsByte(),
            _ => Sse2.ConvertToVector128Single(s.AsDouble()).AsByte(),
        };
    }
}
