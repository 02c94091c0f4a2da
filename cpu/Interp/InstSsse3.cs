using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;
using Reg = Iced.Intel.Register;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// SSSE3 on XMM registers, run as the host's own instructions: PSHUFB, horizontal add/subtract,
/// PMADDUBSW, PMULHRSW, PSIGN*, PABS*, PALIGNR. Memory sources are aligned m128. The MMX-register
/// forms share these mnemonics but are not implemented: they stop the guest like any other gap.
/// </summary>
static unsafe class InstSsse3
{
    internal static void Register()
    {
        foreach (var m in new[]
                 {
                     Mnemonic.Pshufb, Mnemonic.Phaddw, Mnemonic.Phaddd, Mnemonic.Phaddsw, Mnemonic.Phsubw, Mnemonic.Phsubd, Mnemonic.Phsubsw,
                     Mnemonic.Pmaddubsw, Mnemonic.Pmulhrsw, Mnemonic.Psignb, Mnemonic.Psignw, Mnemonic.Psignd,
                 })
            HandlerTable.Set(m, &Binary);
        HandlerTable.Set(Mnemonic.Pabsb, &Abs);
        HandlerTable.Set(Mnemonic.Pabsw, &Abs);
        HandlerTable.Set(Mnemonic.Pabsd, &Abs);
        HandlerTable.Set(Mnemonic.Palignr, &Palignr);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsXmm(Reg r) => r >= Reg.XMM0 && r <= Reg.XMM15;

    /// <summary>The fault for an MMX-register form of an instruction implemented only on XMM registers.</summary>
    internal static CpuFault MmxForm(CpuState c, ref Insn i) =>
        new(FaultKind.Unimplemented, i.Ip, $"unsupported instruction {HandlerTable.Describe(c, ref i)}");

    static void Binary(CpuState c, ref Insn i)
    {
        if (!IsXmm(i.I.Op0Register)) throw MmxForm(c, ref i);
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = Compute(i.I.Mnemonic, d, ReadXAligned(c, ref i, 1));
    }

    /// <summary>The two-operand SSSE3 lane operations; the MMX forms use them on the low 64 bits.</summary>
    internal static Vector128<byte> Compute(Mnemonic m, in Vector128<byte> d, in Vector128<byte> s) => m switch
        {
            Mnemonic.Pshufb => Ssse3.Shuffle(d, s),
            Mnemonic.Phaddw => Ssse3.HorizontalAdd(d.AsInt16(), s.AsInt16()).AsByte(),
            Mnemonic.Phaddd => Ssse3.HorizontalAdd(d.AsInt32(), s.AsInt32()).AsByte(),
            Mnemonic.Phaddsw => Ssse3.HorizontalAddSaturate(d.AsInt16(), s.AsInt16()).AsByte(),
            Mnemonic.Phsubw => Ssse3.HorizontalSubtract(d.AsInt16(), s.AsInt16()).AsByte(),
            Mnemonic.Phsubd => Ssse3.HorizontalSubtract(d.AsInt32(), s.AsInt32()).AsByte(),
            Mnemonic.Phsubsw => Ssse3.HorizontalSubtractSaturate(d.AsInt16(), s.AsInt16()).AsByte(),
            // The destination holds the unsigned bytes, the source the signed ones.
            Mnemonic.Pmaddubsw => Ssse3.MultiplyAddAdjacent(d, s.AsSByte()).AsByte(),
            Mnemonic.Pmulhrsw => Ssse3.MultiplyHighRoundScale(d.AsInt16(), s.AsInt16()).AsByte(),
            Mnemonic.Psignb => Ssse3.Sign(d.AsSByte(), s.AsSByte()).AsByte(),
            Mnemonic.Psignw => Ssse3.Sign(d.AsInt16(), s.AsInt16()).AsByte(),
            _ => Ssse3.Sign(d.AsInt32(), s.AsInt32()).AsByte(),
        };

    static void Abs(CpuState c, ref Insn i)
    {
        if (!IsXmm(i.I.Op0Register)) throw MmxForm(c, ref i);
        var s = ReadXAligned(c, ref i, 1);
        Xmm(c, i.I.Op0Register) = i.I.Mnemonic switch
        {
            Mnemonic.Pabsb => Ssse3.Abs(s.AsSByte()),
            Mnemonic.Pabsw => Ssse3.Abs(s.AsInt16()).AsByte(),
            _ => Ssse3.Abs(s.AsInt32()).AsByte(),
        };
    }

    /// <summary>PALIGNR: bytes imm..imm+15 of the 32-byte value dest:src (dest high); zeros past the end.</summary>
    static void Palignr(CpuState c, ref Insn i)
    {
        if (!IsXmm(i.I.Op0Register)) throw MmxForm(c, ref i);
        ref var d = ref Xmm(c, i.I.Op0Register);
        var s = ReadXAligned(c, ref i, 1);
        int n = i.I.Immediate8;
        if (n >= 32)
        {
            d = Vector128<byte>.Zero;
            return;
        }
        Span<byte> t = stackalloc byte[48];
        s.CopyTo(t);
        d.CopyTo(t[16..]);
        t[32..].Clear();
        d = Vector128.Create((ReadOnlySpan<byte>)t.Slice(n, 16));
    }
}
