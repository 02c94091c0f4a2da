using System.Runtime.CompilerServices;
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
            d = bits == 64 ? IntToDouble64(d, (long)v) : IntToDouble32(d, (int)v);
        else
            d = bits == 64 ? IntToSingle64(d, (long)v) : IntToSingle32(d, (int)v);
    }

    // Each conversion that can raise MXCSR flags is a call of its own: the JIT may evaluate both arms of a
    // conditional whose arms look free of side effects (if-conversion), and a conversion the guest did not
    // ask for would leave its flags (a 64-bit CVTSI2SS is inexact where the 32-bit one is not).
    [MethodImpl(MethodImplOptions.NoInlining)] static Vector128<byte> IntToDouble64(in Vector128<byte> d, long v) => Sse2.X64.ConvertScalarToVector128Double(d.AsDouble(), v).AsByte();
    [MethodImpl(MethodImplOptions.NoInlining)] static Vector128<byte> IntToDouble32(in Vector128<byte> d, int v) => Sse2.ConvertScalarToVector128Double(d.AsDouble(), v).AsByte();
    [MethodImpl(MethodImplOptions.NoInlining)] static Vector128<byte> IntToSingle64(in Vector128<byte> d, long v) => Sse.X64.ConvertScalarToVector128Single(d.AsSingle(), v).AsByte();
    [MethodImpl(MethodImplOptions.NoInlining)] static Vector128<byte> IntToSingle32(in Vector128<byte> d, int v) => Sse.ConvertScalarToVector128Single(d.AsSingle(), v).AsByte();
    [MethodImpl(MethodImplOptions.NoInlining)] static ulong DoubleToInt64(in Vector128<double> v, bool trunc) => trunc ? DoubleToInt64T(v) : (ulong)Sse2.X64.ConvertToInt64(v);
    [MethodImpl(MethodImplOptions.NoInlining)] static ulong DoubleToInt64T(in Vector128<double> v) => (ulong)Sse2.X64.ConvertToInt64WithTruncation(v);
    [MethodImpl(MethodImplOptions.NoInlining)] static ulong DoubleToInt32(in Vector128<double> v, bool trunc) => trunc ? DoubleToInt32T(v) : (uint)Sse2.ConvertToInt32(v);
    [MethodImpl(MethodImplOptions.NoInlining)] static ulong DoubleToInt32T(in Vector128<double> v) => (uint)Sse2.ConvertToInt32WithTruncation(v);
    [MethodImpl(MethodImplOptions.NoInlining)] static ulong SingleToInt64(in Vector128<float> v, bool trunc) => trunc ? SingleToInt64T(v) : (ulong)Sse.X64.ConvertToInt64(v);
    [MethodImpl(MethodImplOptions.NoInlining)] static ulong SingleToInt64T(in Vector128<float> v) => (ulong)Sse.X64.ConvertToInt64WithTruncation(v);
    [MethodImpl(MethodImplOptions.NoInlining)] static ulong SingleToInt32(in Vector128<float> v, bool trunc) => trunc ? SingleToInt32T(v) : (uint)Sse.ConvertToInt32(v);
    [MethodImpl(MethodImplOptions.NoInlining)] static ulong SingleToInt32T(in Vector128<float> v) => (uint)Sse.ConvertToInt32WithTruncation(v);

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
            r = wide ? DoubleToInt64(v, trunc) : DoubleToInt32(v, trunc);
        }
        else
        {
            var v = s.AsSingle();
            r = wide ? SingleToInt64(v, trunc) : SingleToInt32(v, trunc);
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
