using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.VexOperands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// VEX conversions between general registers and scalars: VCVTSI2SS/SD (dest = src1 with its low element
/// replaced, upper half zeroed) and VCVT(T)SS2SI/SD2SI. They run under the guest's MXCSR as the host's own
/// conversions, so rounding, the integer indefinite and the flags are exact.
/// </summary>
static unsafe class AvxConvert
{
    internal static void Register()
    {
        HandlerTable.SetBracketed(Mnemonic.Vcvtsi2ss, &IntToFloat);
        HandlerTable.SetBracketed(Mnemonic.Vcvtsi2sd, &IntToFloat);
        foreach (var m in new[] { Mnemonic.Vcvtss2si, Mnemonic.Vcvttss2si, Mnemonic.Vcvtsd2si, Mnemonic.Vcvttsd2si })
            HandlerTable.SetBracketed(m, &FloatToInt);
    }

    static void IntToFloat(CpuState c, ref Insn i)
    {
        var src1 = c.Xmm[Index(i.I.Op1Register)];
        int bits = i.I.Op2Kind == OpKind.Memory ? i.MemBits : Registers.GprSize[(int)i.I.Op2Register] * 8;
        ulong v = Operands.Read(c, ref i, 2, bits);
        Vector128<byte> r;
        if (i.I.Mnemonic == Mnemonic.Vcvtsi2sd)
            r = bits == 64 ? Sse2.X64.ConvertScalarToVector128Double(src1.AsDouble(), (long)v).AsByte()
                           : Sse2.ConvertScalarToVector128Double(src1.AsDouble(), (int)v).AsByte();
        else
            r = bits == 64 ? Sse.X64.ConvertScalarToVector128Single(src1.AsSingle(), (long)v).AsByte()
                           : Sse.ConvertScalarToVector128Single(src1.AsSingle(), (int)v).AsByte();
        int k = Index(i.I.Op0Register);
        c.Xmm[k] = r;
        c.YmmHigh[k] = Vector128<byte>.Zero;
    }

    static void FloatToInt(CpuState c, ref Insn i)
    {
        var m = i.I.Mnemonic;
        bool dbl = m is Mnemonic.Vcvtsd2si or Mnemonic.Vcvttsd2si;
        bool trunc = m is Mnemonic.Vcvttsd2si or Mnemonic.Vcvttss2si;
        Vector128<byte> s = i.I.Op1Kind == OpKind.Memory
            ? (dbl ? Vector128.CreateScalar(c.Mem.Read64(Operands.Ea(c, ref i))).AsByte() : Vector128.CreateScalar(c.Mem.Read32(Operands.Ea(c, ref i))).AsByte())
            : c.Xmm[Index(i.I.Op1Register)];
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
        Operands.SetReg(c, i.I.Op0Register, r);
    }
}
