using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// SSE4.1, run as the host's own instructions: sign/zero extension, 32-bit multiplies, signed/unsigned
/// min/max, blends, element insert/extract, PTEST, rounding, dot products, MPSADBW, PHMINPOSUW,
/// MOVNTDQA. Packed m128 sources must be 16-byte aligned; the PMOVSX/ZX, scalar-round, insert and
/// extract forms read or write only their element, with no alignment rule.
/// </summary>
static unsafe class InstSse41
{
    internal static void Register()
    {
        foreach (var m in new[]
                 {
                     Mnemonic.Pmovsxbw, Mnemonic.Pmovsxbd, Mnemonic.Pmovsxbq, Mnemonic.Pmovsxwd, Mnemonic.Pmovsxwq, Mnemonic.Pmovsxdq,
                     Mnemonic.Pmovzxbw, Mnemonic.Pmovzxbd, Mnemonic.Pmovzxbq, Mnemonic.Pmovzxwd, Mnemonic.Pmovzxwq, Mnemonic.Pmovzxdq,
                 })
            HandlerTable.Set(m, &Extend);
        foreach (var m in new[]
                 {
                     Mnemonic.Pmulld, Mnemonic.Pmuldq, Mnemonic.Pminsb, Mnemonic.Pminsd, Mnemonic.Pminuw, Mnemonic.Pminud,
                     Mnemonic.Pmaxsb, Mnemonic.Pmaxsd, Mnemonic.Pmaxuw, Mnemonic.Pmaxud, Mnemonic.Pcmpeqq, Mnemonic.Packusdw,
                 })
            HandlerTable.Set(m, &Binary);
        foreach (var m in new[] { Mnemonic.Pblendw, Mnemonic.Blendps, Mnemonic.Blendpd, Mnemonic.Dpps, Mnemonic.Dppd, Mnemonic.Mpsadbw })
            HandlerTable.Set(m, &BinaryImm);
        HandlerTable.Set(Mnemonic.Pblendvb, &BlendVariable);
        HandlerTable.Set(Mnemonic.Blendvps, &BlendVariable);
        HandlerTable.Set(Mnemonic.Blendvpd, &BlendVariable);
        HandlerTable.Set(Mnemonic.Pextrb, &Extract);
        HandlerTable.Set(Mnemonic.Pextrd, &Extract);
        HandlerTable.Set(Mnemonic.Pextrq, &Extract);
        HandlerTable.Set(Mnemonic.Extractps, &Extract);
        HandlerTable.Set(Mnemonic.Pinsrb, &Insert);
        HandlerTable.Set(Mnemonic.Pinsrd, &Insert);
        HandlerTable.Set(Mnemonic.Pinsrq, &Insert);
        HandlerTable.Set(Mnemonic.Insertps, &Insertps);
        HandlerTable.Set(Mnemonic.Ptest, &Ptest);
        HandlerTable.Set(Mnemonic.Roundps, &RoundPacked);
        HandlerTable.Set(Mnemonic.Roundpd, &RoundPacked);
        HandlerTable.Set(Mnemonic.Roundss, &RoundScalar);
        HandlerTable.Set(Mnemonic.Roundsd, &RoundScalar);
        HandlerTable.Set(Mnemonic.Phminposuw, &Phminposuw);
        HandlerTable.Set(Mnemonic.Movntdqa, &Movntdqa);
    }

    /// <summary>Replaces all six arithmetic flags (for instructions that define every one of them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SetArithFlags(CpuState c, ulong f)
    {
        c.RflagsBits = (c.RflagsBits & ~Rf.Arith) | f;
        c.Op = FlagOp.None;
    }

    /// <summary>PMOVSX/PMOVZX: the memory forms read only the 16, 32 or 64 bits they widen.</summary>
    static void Extend(CpuState c, ref Insn i)
    {
        var m = i.I.Mnemonic;
        Vector128<byte> s;
        if (i.I.Op1Kind == OpKind.Register) s = Xmm(c, i.I.Op1Register);
        else
        {
            ulong a = Ea(c, ref i);
            s = m switch
            {
                Mnemonic.Pmovsxbq or Mnemonic.Pmovzxbq => Vector128.CreateScalar(c.Mem.Read16(a)).AsByte(),
                Mnemonic.Pmovsxbd or Mnemonic.Pmovzxbd or Mnemonic.Pmovsxwq or Mnemonic.Pmovzxwq => Vector128.CreateScalar(c.Mem.Read32(a)).AsByte(),
                _ => Vector128.CreateScalar(c.Mem.Read64(a)).AsByte(),
            };
        }
        Xmm(c, i.I.Op0Register) = m switch
        {
            Mnemonic.Pmovsxbw => Sse41.ConvertToVector128Int16(s.AsSByte()).AsByte(),
            Mnemonic.Pmovsxbd => Sse41.ConvertToVector128Int32(s.AsSByte()).AsByte(),
            Mnemonic.Pmovsxbq => Sse41.ConvertToVector128Int64(s.AsSByte()).AsByte(),
            Mnemonic.Pmovsxwd => Sse41.ConvertToVector128Int32(s.AsInt16()).AsByte(),
            Mnemonic.Pmovsxwq => Sse41.ConvertToVector128Int64(s.AsInt16()).AsByte(),
            Mnemonic.Pmovsxdq => Sse41.ConvertToVector128Int64(s.AsInt32()).AsByte(),
            Mnemonic.Pmovzxbw => Sse41.ConvertToVector128Int16(s).AsByte(),
            Mnemonic.Pmovzxbd => Sse41.ConvertToVector128Int32(s).AsByte(),
            Mnemonic.Pmovzxbq => Sse41.ConvertToVector128Int64(s).AsByte(),
            Mnemonic.Pmovzxwd => Sse41.ConvertToVector128Int32(s.AsUInt16()).AsByte(),
            Mnemonic.Pmovzxwq => Sse41.ConvertToVector128Int64(s.AsUInt16()).AsByte(),
            _ => Sse41.ConvertToVector128Int64(s.AsUInt32()).AsByte(),
        };
    }

    static void Binary(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        var s = ReadXAligned(c, ref i, 1);
        d = i.I.Mnemonic switch
        {
            Mnemonic.Pmulld => Sse41.MultiplyLow(d.AsInt32(), s.AsInt32()).AsByte(),
            Mnemonic.Pmuldq => Sse41.Multiply(d.AsInt32(), s.AsInt32()).AsByte(),
            Mnemonic.Pminsb => Sse41.Min(d.AsSByte(), s.AsSByte()).AsByte(),
            Mnemonic.Pminsd => Sse41.Min(d.AsInt32(), s.AsInt32()).AsByte(),
            Mnemonic.Pminuw => Sse41.Min(d.AsUInt16(), s.AsUInt16()).AsByte(),
            Mnemonic.Pminud => Sse41.Min(d.AsUInt32(), s.AsUInt32()).AsByte(),
            Mnemonic.Pmaxsb => Sse41.Max(d.AsSByte(), s.AsSByte()).AsByte(),
            Mnemonic.Pmaxsd => Sse41.Max(d.AsInt32(), s.AsInt32()).AsByte(),
            Mnemonic.Pmaxuw => Sse41.Max(d.AsUInt16(), s.AsUInt16()).AsByte(),
            Mnemonic.Pmaxud => Sse41.Max(d.AsUInt32(), s.AsUInt32()).AsByte(),
            Mnemonic.Pcmpeqq => Sse41.CompareEqual(d.AsInt64(), s.AsInt64()).AsByte(),
            _ => Sse41.PackUnsignedSaturate(d.AsInt32(), s.AsInt32()).AsByte(),
        };
    }

    // The guest's immediate is a run-time value here: the JIT dispatches it through a jump table of
    // the host instruction's 256 encodings, which is exact and cheap enough for these operations.
#pragma warning disable CA1857 // The argument should be a constant for optimal performance

    /// <summary>The immediate-controlled forms, each the host instruction with the guest's immediate.</summary>
    static void BinaryImm(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        var s = ReadXAligned(c, ref i, 1);
        byte imm = i.I.Immediate8;
        d = i.I.Mnemonic switch
        {
            // The blends select by a mask made of the immediate's bits, MPSADBW by its three bits as constants: an
            // intrinsic given an immediate unknown at compile time is a call taking vectors by value, which
            // ReadyToRun cannot precompile, and would leave the handler to the JIT in every process.
            Mnemonic.Pblendw => Sse41.BlendVariable(d, s, ImmMask(imm, Vector128.Create((ushort)1, 2, 4, 8, 16, 32, 64, 128).AsByte(), 2)),
            Mnemonic.Blendps => Sse41.BlendVariable(d, s, ImmMask(imm, Vector128.Create(1u, 2, 4, 8).AsByte(), 4)),
            Mnemonic.Blendpd => Sse41.BlendVariable(d, s, ImmMask(imm, Vector128.Create(1UL, 2).AsByte(), 8)),
            // The host's DPPS/DPPD through a stub: the intrinsic with an immediate unknown at compile time is a
            // call ReadyToRun cannot precompile (it takes vectors by value), and would leave the handler to the JIT.
            Mnemonic.Dpps => LegoEmu.Cpu.Fpu.HostSse.Execute([0x66, 0x0f, 0x3a, 0x40], imm, d, s),
            Mnemonic.Dppd => LegoEmu.Cpu.Fpu.HostSse.Execute([0x66, 0x0f, 0x3a, 0x41], imm, d, s),
            _ => (imm & 7) switch
            {
                0 => Sse41.MultipleSumAbsoluteDifferences(d, s, 0).AsByte(),
                1 => Sse41.MultipleSumAbsoluteDifferences(d, s, 1).AsByte(),
                2 => Sse41.MultipleSumAbsoluteDifferences(d, s, 2).AsByte(),
                3 => Sse41.MultipleSumAbsoluteDifferences(d, s, 3).AsByte(),
                4 => Sse41.MultipleSumAbsoluteDifferences(d, s, 4).AsByte(),
                5 => Sse41.MultipleSumAbsoluteDifferences(d, s, 5).AsByte(),
                6 => Sse41.MultipleSumAbsoluteDifferences(d, s, 6).AsByte(),
                _ => Sse41.MultipleSumAbsoluteDifferences(d, s, 7).AsByte(),
            },
        };
    }

    /// <summary>All ones in each element (of <paramref name="width"/> bytes) whose bit in <paramref name="imm"/> is set; <paramref name="bits"/> holds each element's bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> ImmMask(byte imm, in Vector128<byte> bits, int width) => width switch
    {
        2 => Sse2.CompareEqual(Vector128.Create((ushort)imm) & bits.AsUInt16(), bits.AsUInt16()).AsByte(),
        4 => Sse2.CompareEqual(Vector128.Create((uint)imm) & bits.AsUInt32(), bits.AsUInt32()).AsByte(),
        _ => Sse41.CompareEqual(Vector128.Create((ulong)imm) & bits.AsUInt64(), bits.AsUInt64()).AsByte(),
    };

    /// <summary>PBLENDVB/BLENDVPS/BLENDVPD: the selector is the implicit XMM0 (top bit of each element).</summary>
    static void BlendVariable(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        var s = ReadXAligned(c, ref i, 1);
        var mask = c.Xmm[0];
        d = i.I.Mnemonic switch
        {
            Mnemonic.Pblendvb => Sse41.BlendVariable(d, s, mask),
            Mnemonic.Blendvps => Sse41.BlendVariable(d.AsSingle(), s.AsSingle(), mask.AsSingle()).AsByte(),
            _ => Sse41.BlendVariable(d.AsDouble(), s.AsDouble(), mask.AsDouble()).AsByte(),
        };
    }

    /// <summary>PEXTRB/D/Q, EXTRACTPS: to memory at the element's width, or zero-extended into r32/r64.</summary>
    static void Extract(CpuState c, ref Insn i)
    {
        var s = Xmm(c, i.I.Op1Register);
        int imm = i.I.Immediate8;
        ulong v;
        int bits;
        switch (i.I.Mnemonic)
        {
            case Mnemonic.Pextrb: v = s.GetElement(imm & 15); bits = 8; break;
            case Mnemonic.Pextrq: v = s.AsUInt64().GetElement(imm & 1); bits = 64; break;
            default: v = s.AsUInt32().GetElement(imm & 3); bits = 32; break;
        }
        if (i.I.Op0Kind == OpKind.Memory) WriteMem(c, Ea(c, ref i), bits, v);
        else SetReg(c, i.I.Op0Register, v);
    }

    /// <summary>PINSRB/D/Q: from the low bits of a GPR or from memory of the element's width.</summary>
    static void Insert(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        int imm = i.I.Immediate8;
        switch (i.I.Mnemonic)
        {
            case Mnemonic.Pinsrb: d = d.WithElement(imm & 15, (byte)Read(c, ref i, 1, 8)); break;
            case Mnemonic.Pinsrd: d = d.AsUInt32().WithElement(imm & 3, (uint)Read(c, ref i, 1, 32)).AsByte(); break;
            default: d = d.AsUInt64().WithElement(imm & 1, Read(c, ref i, 1, 64)).AsByte(); break;
        }
    }

    /// <summary>INSERTPS: a register source supplies element imm[7:6]; an m32 source is that element itself.</summary>
    static void Insertps(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        byte imm = i.I.Immediate8;
        Vector128<float> s;
        if (i.I.Op1Kind == OpKind.Memory)
        {
            s = Vector128.CreateScalar(c.Mem.Read32(Ea(c, ref i))).AsSingle();
            imm &= 0x3f;
        }
        else s = Xmm(c, i.I.Op1Register).AsSingle();
        // The host's INSERTPS through a stub, as DPPS above.
        d = LegoEmu.Cpu.Fpu.HostSse.Execute([0x66, 0x0f, 0x3a, 0x21], imm, d, s.AsByte());
    }

#pragma warning restore CA1857

    /// <summary>PTEST: ZF = (src AND dest) == 0, CF = (src AND NOT dest) == 0; AF, OF, PF, SF cleared.</summary>
    static void Ptest(CpuState c, ref Insn i)
    {
        var d = Xmm(c, i.I.Op0Register);
        var s = ReadXAligned(c, ref i, 1);
        SetArithFlags(c, (Sse41.TestZ(d, s) ? Rf.ZF : 0) | (Sse41.TestC(d, s) ? Rf.CF : 0));
    }

    /// <summary>Rounding control from the immediate, or from MXCSR.RC when imm bit 2 is set. Bit 3 only masks #P.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    // ROUNDxx run on the host with the guest's own immediate: bit 3 (suppress the precision exception)
    // and bit 2 (use MXCSR's rounding mode) then behave exactly as on the native CPU.
    static ReadOnlySpan<byte> RoundOpcode(Mnemonic m) => m switch
    {
        Mnemonic.Roundps => [0x66, 0x0f, 0x3a, 0x08],
        Mnemonic.Roundpd => [0x66, 0x0f, 0x3a, 0x09],
        Mnemonic.Roundss => [0x66, 0x0f, 0x3a, 0x0a],
        _ => [0x66, 0x0f, 0x3a, 0x0b],
    };

    static void RoundPacked(CpuState c, ref Insn i)
    {
        var s = ReadXAligned(c, ref i, 1);
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = LegoEmu.Cpu.Fpu.HostSse.Execute(RoundOpcode(i.I.Mnemonic), (byte)(i.I.Immediate8 & 0x0f), d, s);
    }

    /// <summary>ROUNDSS/ROUNDSD: the low element from xmm/m32/m64, the rest of the destination kept.</summary>
    static void RoundScalar(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        Vector128<byte> s = i.I.Op1Kind != OpKind.Memory ? Xmm(c, i.I.Op1Register)
            : i.I.Mnemonic == Mnemonic.Roundss ? Vector128.CreateScalar(c.Mem.Read32(Ea(c, ref i))).AsByte()
            : Vector128.CreateScalar(c.Mem.Read64(Ea(c, ref i))).AsByte();
        d = LegoEmu.Cpu.Fpu.HostSse.Execute(RoundOpcode(i.I.Mnemonic), (byte)(i.I.Immediate8 & 0x0f), d, s);
    }

    static void Phminposuw(CpuState c, ref Insn i) =>
        Xmm(c, i.I.Op0Register) = Sse41.MinHorizontal(ReadXAligned(c, ref i, 1).AsUInt16()).AsByte();

    /// <summary>MOVNTDQA: an aligned 16-byte load (the non-temporal hint has no meaning here).</summary>
    static void Movntdqa(CpuState c, ref Insn i) => Xmm(c, i.I.Op0Register) = ReadXAligned(c, ref i, 1);
}
