using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.Fpu;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.VexOperands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// AVX, AVX2, FMA and F16C instructions on vector registers (and VEX PCLMULQDQ), run as the host's own instruction: the guest's
/// instruction is encoded again on YMM0-3 (its memory source, if any, loaded into the register it stands
/// for) and run by a <see cref="HostAvx"/> stub under the guest's MXCSR, so arithmetic, rounding,
/// NaNs, MXCSR flags and the flags of VPTEST/VTESTPS/VCOMISS are the hardware's. Taken per Iced code, for
/// every form whose operands are vector registers, one vector-or-memory source and an immediate; moves,
/// stores, GPR operands, gathers and masked loads have handlers of their own (<see cref="AvxMove"/>,
/// <see cref="Avx2Integer"/>), which win where a mnemonic has one.
/// </summary>
static unsafe class AvxHost
{
    /// <summary>The handler of every eligible form (<see cref="HandlerTable"/> asks <see cref="Eligible"/>).</summary>
    internal static readonly delegate*<CpuState, ref Insn, void> Handler = &Run;

    /// <summary>Instructions whose operand list hides something a stub cannot give back: implicit GPRs, XMM0, memory, MXCSR.</summary>
    static readonly HashSet<Mnemonic> Implicit =
    [
        Mnemonic.Vpcmpestri, Mnemonic.Vpcmpestri64, Mnemonic.Vpcmpestrm, Mnemonic.Vpcmpestrm64, Mnemonic.Vpcmpistri,
        Mnemonic.Vpcmpistrm, Mnemonic.Vmaskmovdqu, Mnemonic.Vldmxcsr, Mnemonic.Vstmxcsr, Mnemonic.Vzeroupper, Mnemonic.Vzeroall,
    ];

    /// <summary>True for a form a stub can run: on a host with AVX2, operands that are vector registers, one memory source or destination, an immediate.</summary>
    internal static bool Eligible(Code code)
    {
        if (!HostAvx.Available) return false;
        var op = code.ToOpCode();
        if (!op.IsInstruction || op.Encoding != EncodingKind.VEX || !op.Mode64 || Implicit.Contains(op.Mnemonic)) return false;
        foreach (var f in new Instruction { Code = code }.CpuidFeatures)
            if (f is not (CpuidFeature.AVX or CpuidFeature.AVX2 or CpuidFeature.FMA or CpuidFeature.F16C or CpuidFeature.PCLMULQDQ)) return false;
        if (op.OpCount == 0) return false;
        for (int n = 0; n < op.OpCount; n++)
        {
            switch (op.GetOpKind(n))
            {
                case OpCodeOperandKind.xmm_reg or OpCodeOperandKind.xmm_rm or OpCodeOperandKind.xmm_vvvv or OpCodeOperandKind.xmm_is4
                    or OpCodeOperandKind.ymm_reg or OpCodeOperandKind.ymm_rm or OpCodeOperandKind.ymm_vvvv or OpCodeOperandKind.ymm_is4
                    or OpCodeOperandKind.imm8:
                    break;
                // A vector-or-memory source, or a destination that may be memory (VCVTPS2PH m64, xmm): a store of the result.
                case OpCodeOperandKind.xmm_or_mem or OpCodeOperandKind.ymm_or_mem:
                    break;
                default:
                    return false;
            }
        }
        return op.GetOpKind(0) is not OpCodeOperandKind.imm8;
    }

    static void Run(CpuState c, ref Insn i)
    {
        // Insn.Imm caches the stub; its bit 0 (stubs are 64-byte aligned) marks an instruction that only reads operand 0.
        ulong cached = i.Imm;
        if (cached == 0)
        {
            cached = (ulong)MakeStub(in i.I) | (ReadsOnly(i.I.Mnemonic) ? 1UL : 0);
            i.Imm = cached;
        }
        nint stub = (nint)(cached & ~1UL);
        bool store = i.I.Op0Kind == OpKind.Memory;
        var d = store ? default : Operand(c, ref i, 0);
        var a = i.I.OpCount > 1 ? Operand(c, ref i, 1) : default;
        var b = i.I.OpCount > 2 ? Operand(c, ref i, 2) : default;
        var e = i.I.OpCount > 3 ? Operand(c, ref i, 3) : default;
        ulong flags = HostAvx.Run(stub, ref d, a, b, e, c.Mxcsr, out uint raised);
        if (SimdExceptions.Faults(c.Mxcsr, raised))
        {
            // An exception the guest unmasked: #XM before anything is written.
            bool fused = i.I.Mnemonic.ToString() is var name && (name.StartsWith("Vfm", StringComparison.Ordinal) || name.StartsWith("Vfnm", StringComparison.Ordinal));
            c.Mxcsr |= SimdExceptions.Reported(c.Mxcsr, raised, fused);
            throw SimdExceptions.Fault(i.Ip, c.Mxcsr);
        }
        c.Mxcsr |= raised;
        if (store) StoreBytes(c, Operands.Ea(c, ref i), d, i.MemBits >> 3);
        else if ((cached & 1) == 0) SetReg(c, i.I.Op0Register, d);
        var modified = i.I.RflagsModified;
        if (modified != RflagsBits.None)
        {
            ulong mask = FlagMask(modified);
            c.Materialize();
            c.RflagsBits = (c.RflagsBits & ~mask) | (flags & mask);
        }
    }

    /// <summary>Compares and tests: they set RFLAGS and leave their first operand alone.</summary>
    static bool ReadsOnly(Mnemonic m) => m is Mnemonic.Vcomiss or Mnemonic.Vcomisd or Mnemonic.Vucomiss or Mnemonic.Vucomisd
        or Mnemonic.Vtestps or Mnemonic.Vtestpd or Mnemonic.Vptest;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<byte> Operand(CpuState c, ref Insn i, int n) => i.I.GetOpKind(n) switch
    {
        OpKind.Register => Reg(c, i.I.GetOpRegister(n)),
        OpKind.Memory => LoadBytes(c, Operands.Ea(c, ref i), i.MemBits >> 3),
        _ => default,
    };

    static ulong FlagMask(RflagsBits f)
    {
        ulong m = 0;
        if ((f & RflagsBits.CF) != 0) m |= Rf.CF;
        if ((f & RflagsBits.PF) != 0) m |= Rf.PF;
        if ((f & RflagsBits.AF) != 0) m |= Rf.AF;
        if ((f & RflagsBits.ZF) != 0) m |= Rf.ZF;
        if ((f & RflagsBits.SF) != 0) m |= Rf.SF;
        if ((f & RflagsBits.OF) != 0) m |= Rf.OF;
        return m;
    }

    /// <summary>The instruction again with operand n on register n (XMM or YMM as in the original), encoded into a stub.</summary>
    static nint MakeStub(in Instruction original)
    {
        var ins = original;
        var op = ins.Code.ToOpCode();
        if (ins.Mnemonic == Mnemonic.Vinsertps && ins.Op2Kind == OpKind.Memory)
            ins.Immediate8 &= 0x3f; // from memory the single comes as it is; from a register imm8[7:6] would pick it
        for (int n = 0; n < ins.OpCount; n++)
        {
            var kind = ins.GetOpKind(n);
            if (kind == OpKind.Register)
            {
                ins.SetOpRegister(n, (IsYmm(ins.GetOpRegister(n)) ? Iced.Intel.Register.YMM0 : Iced.Intel.Register.XMM0) + n);
            }
            else if (kind == OpKind.Memory)
            {
                ins.SetOpKind(n, OpKind.Register);
                ins.SetOpRegister(n, (op.GetOpKind(n) is OpCodeOperandKind.ymm_or_mem ? Iced.Intel.Register.YMM0 : Iced.Intel.Register.XMM0) + n);
            }
        }
        ins.SegmentPrefix = Iced.Intel.Register.None;
        var writer = new BytesWriter();
        var encoder = Encoder.Create(64, writer);
        if (!encoder.TryEncode(ins, 0, out _, out string? error))
            throw new InvalidOperationException($"cannot re-encode {original} for the host: {error}");
        return HostAvx.StubFor(writer.Bytes.AsSpan(0, writer.Length));
    }

    sealed class BytesWriter : CodeWriter
    {
        public readonly byte[] Bytes = new byte[16];
        public int Length;
        public override void WriteByte(byte value) => Bytes[Length++] = value;
    }
}
