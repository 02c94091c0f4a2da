using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>
/// Picks, at decode time, a handler made for the instruction's operand shape and width and digests its
/// register indices and immediate into <see cref="Insn"/>, so the hot instructions never look at Iced's
/// operand kinds while they run. Anything it does not recognise keeps its generic handler.
/// </summary>
public static unsafe class Specializer
{
    enum Shape { None, R, M, RR, RI, RM, MR, MI }

    /// <summary>Replaces <see cref="Insn.Exec"/> with a shaped handler when there is one; needs <see cref="Insn.OpBits"/> set.</summary>
    public static bool Apply(in Instruction ins, ref Insn i)
    {
        if (ins.Code == Code.INVALID || ins.Encoding != EncodingKind.Legacy) return false;
        var h = Choose(in ins, ref i);
        if (h == null) return false;
        i.Exec = h;
        return true;
    }

    static delegate*<CpuState, ref Insn, void> Choose(in Instruction ins, ref Insn i)
    {
        int bits = i.OpBits;
        switch (ins.Mnemonic)
        {
            case Mnemonic.Add: return Alu(0, in ins, ref i);
            case Mnemonic.Adc: return Alu(1, in ins, ref i);
            case Mnemonic.Sub: return Alu(2, in ins, ref i);
            case Mnemonic.Sbb: return Alu(3, in ins, ref i);
            case Mnemonic.And: return Alu(4, in ins, ref i);
            case Mnemonic.Or: return Alu(5, in ins, ref i);
            case Mnemonic.Xor: return Alu(6, in ins, ref i);
            case Mnemonic.Cmp: return Alu(7, in ins, ref i);
            case Mnemonic.Test: return Alu(8, in ins, ref i);
            case Mnemonic.Inc: return Unary(0, in ins, ref i);
            case Mnemonic.Dec: return Unary(1, in ins, ref i);
            case Mnemonic.Neg: return Unary(2, in ins, ref i);
            case Mnemonic.Not: return Unary(3, in ins, ref i);
            case Mnemonic.Mov:
            {
                var s = ShapeOf(in ins, ref i);
                return s >= Shape.RR ? FormTable.Mov[WidthIndex(bits) * 5 + (s - Shape.RR)] : null;
            }
            case Mnemonic.Movzx: return Extend(in ins, ref i, bits, sign: false);
            case Mnemonic.Movsx:
            case Mnemonic.Movsxd: return Extend(in ins, ref i, bits, sign: true);
            case Mnemonic.Lea: return Lea(in ins, ref i, bits);
            case Mnemonic.Imul: return Imul(in ins, ref i, bits);
            case Mnemonic.Shl:
            case Mnemonic.Sal: return Shift(0, in ins, ref i, bits);
            case Mnemonic.Shr: return Shift(1, in ins, ref i, bits);
            case Mnemonic.Sar: return Shift(2, in ins, ref i, bits);
            case Mnemonic.Rol: return Shift(3, in ins, ref i, bits);
            case Mnemonic.Ror: return Shift(4, in ins, ref i, bits);
            // TZCNT/LZCNT reach here only at v3 (below, CpuModel made them BSF/BSR) and keep their generic handlers.
            case Mnemonic.Bsf: return Scan(in ins, ref i, bits, reverse: false);
            case Mnemonic.Bsr: return Scan(in ins, ref i, bits, reverse: true);
            case Mnemonic.Push: return Push(in ins, ref i);
            case Mnemonic.Pop:
                return ins.Code == Code.Pop_r64 && Gpr(ins.Op0Register, out i.R0, out i.Sh0) ? &BranchForms.PopR : null;
            case Mnemonic.Ret: return ins.Code == Code.Retnq ? &BranchForms.Ret : null;
            case Mnemonic.Jmp: return Jump(in ins, ref i, call: false);
            case Mnemonic.Call: return Jump(in ins, ref i, call: true);
            case Mnemonic.Movdqa:
            case Mnemonic.Movaps:
            case Mnemonic.Movapd:
            case Mnemonic.Movntdq:
            case Mnemonic.Movntps:
            case Mnemonic.Movntpd:
                return XmmMove(in ins, ref i, aligned: true);
            case Mnemonic.Movdqu:
            case Mnemonic.Movups:
            case Mnemonic.Movupd:
                return XmmMove(in ins, ref i, aligned: false);
            case Mnemonic.Movd: return MovdMovq(in ins, ref i, q: false);
            case Mnemonic.Movq: return MovdMovq(in ins, ref i, q: true);
            case Mnemonic.Movss: return Scalar(in ins, ref i, sd: false);
            case Mnemonic.Movsd: return ins.Code == Code.Movsd_m32_m32 ? null : Scalar(in ins, ref i, sd: true);
            case Mnemonic.Pmovmskb:
                return ins.Op0Kind == OpKind.Register && Gpr(ins.Op0Register, out i.R0, out i.Sh0) && ins.Op1Kind == OpKind.Register
                    && Xmm(ins.Op1Register, out i.R1) ? &SseForms.Pmovmskb : null;
            case Mnemonic.Pshufd:
            {
                var s = XmmShapeOf(in ins, ref i, 3);
                if (s is not (Shape.RR or Shape.RM) || ins.Op2Kind != OpKind.Immediate8) return null;
                i.Imm = ins.Immediate8;
                return s == Shape.RR ? &SseForms.PshufdRR : &SseForms.PshufdRM;
            }
        }
        if (FormTable.VecShiftI[(int)ins.Mnemonic] != null)
        {
            if (ins.OpCount != 2 || ins.Op0Kind != OpKind.Register || !Xmm(ins.Op0Register, out i.R0) || ins.Op1Kind != OpKind.Immediate8) return null;
            i.Imm = ins.Immediate8;
            return FormTable.VecShiftI[(int)ins.Mnemonic];
        }
        if (FormTable.VecRR[(int)ins.Mnemonic] != null)
        {
            return XmmShapeOf(in ins, ref i, 2) switch
            {
                Shape.RR => FormTable.VecRR[(int)ins.Mnemonic],
                Shape.RM => FormTable.VecRM[(int)ins.Mnemonic],
                _ => null,
            };
        }
        if (ins.IsJccShortOrNear && ins.Op0Kind == OpKind.NearBranch64)
        {
            i.Imm = ins.NearBranchTarget;
            return FormTable.Jcc[i.Cc];
        }
        if (IsCmovcc(ins.Mnemonic))
        {
            var s = ShapeOf(in ins, ref i);
            if (bits < 16 || s is not (Shape.RR or Shape.RM)) return null;
            return FormTable.Cmov[(WidthIndex(bits) - 1) * 2 + (s == Shape.RM ? 1 : 0)];
        }
        if (IsSetcc(ins.Mnemonic))
        {
            return ShapeOf(in ins, ref i) switch
            {
                Shape.R => &MovForms.SetccR,
                Shape.M => &MovForms.SetccM,
                _ => null,
            };
        }
        return null;
    }

    /// <summary>0..3 for 8, 16, 32 and 64 bits.</summary>
    static int WidthIndex(int bits) => bits switch { 8 => 0, 16 => 1, 32 => 2, _ => 3 };

    static bool IsCmovcc(Mnemonic m) => m is Mnemonic.Cmovo or Mnemonic.Cmovno or Mnemonic.Cmovb or Mnemonic.Cmovae or Mnemonic.Cmove
        or Mnemonic.Cmovne or Mnemonic.Cmovbe or Mnemonic.Cmova or Mnemonic.Cmovs or Mnemonic.Cmovns or Mnemonic.Cmovp
        or Mnemonic.Cmovnp or Mnemonic.Cmovl or Mnemonic.Cmovge or Mnemonic.Cmovle or Mnemonic.Cmovg;

    static bool IsSetcc(Mnemonic m) => m is Mnemonic.Seto or Mnemonic.Setno or Mnemonic.Setb or Mnemonic.Setae or Mnemonic.Sete
        or Mnemonic.Setne or Mnemonic.Setbe or Mnemonic.Seta or Mnemonic.Sets or Mnemonic.Setns or Mnemonic.Setp
        or Mnemonic.Setnp or Mnemonic.Setl or Mnemonic.Setge or Mnemonic.Setle or Mnemonic.Setg;

    // ---- operand shapes ----

    static bool Gpr(Register r, out byte idx, out byte sh)
    {
        int g = Registers.GprIndex[(int)r];
        idx = (byte)Math.Max(g, 0);
        sh = (byte)(Registers.HighByte[(int)r] ? 8 : 0);
        return g >= 0;
    }

    static bool IsImmediate(OpKind k) => k is OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or OpKind.Immediate64
        or OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8to64 or OpKind.Immediate32to64;

    /// <summary>
    /// The shape of a one- or two-operand instruction whose registers are all GPRs, with the registers and
    /// the immediate (truncated to the operand width, as the generic handlers read it) digested.
    /// </summary>
    static Shape ShapeOf(in Instruction ins, ref Insn i)
    {
        if (ins.OpCount == 1)
        {
            return ins.Op0Kind switch
            {
                OpKind.Register => Gpr(ins.Op0Register, out i.R0, out i.Sh0) ? Shape.R : Shape.None,
                OpKind.Memory => Shape.M,
                _ => Shape.None,
            };
        }
        if (ins.OpCount != 2) return Shape.None;
        var k1 = ins.Op1Kind;
        if (ins.Op0Kind == OpKind.Register)
        {
            if (!Gpr(ins.Op0Register, out i.R0, out i.Sh0)) return Shape.None;
            if (k1 == OpKind.Register) return Gpr(ins.Op1Register, out i.R1, out i.Sh1) ? Shape.RR : Shape.None;
            if (k1 == OpKind.Memory) return Shape.RM;
            if (!IsImmediate(k1)) return Shape.None;
            i.Imm = ins.GetImmediate(1) & Operands.Mask(i.OpBits);
            return Shape.RI;
        }
        if (ins.Op0Kind == OpKind.Memory)
        {
            if (k1 == OpKind.Register) return Gpr(ins.Op1Register, out i.R1, out i.Sh1) ? Shape.MR : Shape.None;
            if (!IsImmediate(k1)) return Shape.None;
            i.Imm = ins.GetImmediate(1) & Operands.Mask(i.OpBits);
            return Shape.MI;
        }
        return Shape.None;
    }

    static bool Xmm(Register r, out byte idx)
    {
        bool x = r is >= Register.XMM0 and <= Register.XMM15;
        idx = (byte)(x ? r - Register.XMM0 : 0);
        return x;
    }

    /// <summary>
    /// XMM register (RR), XMM from memory (RM) or memory from XMM (MR), with the XMM indices digested, for
    /// an instruction of <paramref name="count"/> operands (a trailing one is an immediate). MMX forms are None.
    /// </summary>
    static Shape XmmShapeOf(in Instruction ins, ref Insn i, int count)
    {
        if (ins.OpCount != count) return Shape.None;
        if (ins.Op0Kind == OpKind.Register)
        {
            if (!Xmm(ins.Op0Register, out i.R0)) return Shape.None;
            if (ins.Op1Kind == OpKind.Memory) return Shape.RM;
            return ins.Op1Kind == OpKind.Register && Xmm(ins.Op1Register, out i.R1) ? Shape.RR : Shape.None;
        }
        return ins.Op0Kind == OpKind.Memory && ins.Op1Kind == OpKind.Register && Xmm(ins.Op1Register, out i.R1) ? Shape.MR : Shape.None;
    }

    static delegate*<CpuState, ref Insn, void> XmmMove(in Instruction ins, ref Insn i, bool aligned) => XmmShapeOf(in ins, ref i, 2) switch
    {
        Shape.RR => &SseForms.MovRR,
        Shape.RM => aligned ? &SseForms.MovAlignedRM : &SseForms.MovUnalignedRM,
        Shape.MR => aligned ? &SseForms.MovAlignedMR : &SseForms.MovUnalignedMR,
        _ => null,
    };

    static delegate*<CpuState, ref Insn, void> Scalar(in Instruction ins, ref Insn i, bool sd) => (XmmShapeOf(in ins, ref i, 2), sd) switch
    {
        (Shape.RR, false) => &SseForms.MovssRR,
        (Shape.RM, false) => &SseForms.MovssRM,
        (Shape.MR, false) => &SseForms.MovssMR,
        (Shape.RR, true) => &SseForms.MovsdRR,
        (Shape.RM, true) => &SseForms.MovsdRM,
        (Shape.MR, true) => &SseForms.MovsdMR,
        _ => null,
    };

    /// <summary>MOVD/MOVQ between XMM registers, GPRs and memory (MMX forms stay generic).</summary>
    static delegate*<CpuState, ref Insn, void> MovdMovq(in Instruction ins, ref Insn i, bool q)
    {
        if (ins.OpCount != 2) return null;
        if (ins.Op0Kind == OpKind.Register && Xmm(ins.Op0Register, out i.R0))
        {
            if (ins.Op1Kind == OpKind.Memory) return q ? &SseForms.MovqXM : &SseForms.MovdXM;
            if (ins.Op1Kind != OpKind.Register) return null;
            if (Xmm(ins.Op1Register, out i.R1)) return q ? &SseForms.MovqXX : null;
            if (!Gpr(ins.Op1Register, out i.R1, out i.Sh1)) return null;
            return q ? &SseForms.MovqXR : &SseForms.MovdXR;
        }
        if (ins.Op1Kind != OpKind.Register || !Xmm(ins.Op1Register, out i.R1)) return null;
        if (ins.Op0Kind == OpKind.Memory) return q ? &SseForms.MovqMX : &SseForms.MovdMX;
        if (ins.Op0Kind != OpKind.Register || !Gpr(ins.Op0Register, out i.R0, out i.Sh0)) return null;
        return q ? &SseForms.MovqRX : &SseForms.MovdRX;
    }

    // ---- families ----

    static delegate*<CpuState, ref Insn, void> Alu(int op, in Instruction ins, ref Insn i)
    {
        var s = ShapeOf(in ins, ref i);
        if (s < Shape.RR) return null;
        return FormTable.Alu[(op * 4 + WidthIndex(i.OpBits)) * 5 + (s - Shape.RR)];
    }

    /// <summary>INC (0), DEC (1), NEG (2), NOT (3).</summary>
    static delegate*<CpuState, ref Insn, void> Unary(int op, in Instruction ins, ref Insn i)
    {
        var s = ShapeOf(in ins, ref i);
        if (s is not (Shape.R or Shape.M)) return null;
        return FormTable.Unary[(op * 4 + WidthIndex(i.OpBits)) * 2 + (s == Shape.M ? 1 : 0)];
    }

    /// <summary>MOVZX, MOVSX, MOVSXD: destination width from operand 0, source width from the register or memory operand.</summary>
    static delegate*<CpuState, ref Insn, void> Extend(in Instruction ins, ref Insn i, int bits, bool sign)
    {
        var s = ShapeOf(in ins, ref i);
        int src = s switch
        {
            Shape.RR => Registers.GprSize[(int)ins.Op1Register] * 8,
            Shape.RM => i.MemBits,
            _ => 0,
        };
        if (src is not (8 or 16 or 32) || bits is not (16 or 32 or 64)) return null;
        return FormTable.Extend[(((sign ? 1 : 0) * 2 + (s == Shape.RM ? 1 : 0)) * 3 + WidthIndex(src)) * 3 + WidthIndex(bits) - 1];
    }

    static delegate*<CpuState, ref Insn, void> Lea(in Instruction ins, ref Insn i, int bits)
    {
        if (ShapeOf(in ins, ref i) != Shape.RM) return null;
        if (i.Base < 0 && i.Index < 0)
        {
            ulong a = i.Addr32 ? (uint)i.Disp : i.Disp;
            i.Imm = a & Operands.Mask(bits);
            return bits is 64 or 32 ? &MovForms.LeaConst : null;
        }
        if (bits == 32)
        {
            if (i.Index < 0) return &MovForms.LeaBase32;
            return i.Base < 0 ? &MovForms.LeaIndex32 : &MovForms.LeaBaseIndex32;
        }
        if (bits != 64 || i.Addr32) return null;
        if (i.Index < 0) return &MovForms.LeaBase64;
        return i.Base < 0 ? &MovForms.LeaIndex64 : &MovForms.LeaBaseIndex64;
    }

    static delegate*<CpuState, ref Insn, void> Imul(in Instruction ins, ref Insn i, int bits)
    {
        if (bits is not (32 or 64) || ins.OpCount is not (2 or 3) || ins.Op0Kind != OpKind.Register) return null;
        if (!Gpr(ins.Op0Register, out i.R0, out i.Sh0)) return null;
        bool mem = ins.Op1Kind == OpKind.Memory;
        if (!mem && (ins.Op1Kind != OpKind.Register || !Gpr(ins.Op1Register, out i.R1, out i.Sh1))) return null;
        int form = mem ? 1 : 0;
        if (ins.OpCount == 3)
        {
            if (!IsImmediate(ins.Op2Kind)) return null;
            i.Imm = (ulong)Operands.SignExtend(ins.GetImmediate(2) & Operands.Mask(bits), bits);
            form += 2;
        }
        return FormTable.Imul[(bits == 64 ? 4 : 0) + form];
    }

    /// <summary>SHL/SAL (0), SHR (1), SAR (2), ROL (3), ROR (4) of a register by a count below its width.</summary>
    static delegate*<CpuState, ref Insn, void> Shift(int op, in Instruction ins, ref Insn i, int bits)
    {
        if (ins.OpCount != 2 || ins.Op0Kind != OpKind.Register) return null;
        if (!Gpr(ins.Op0Register, out i.R0, out i.Sh0)) return null;
        int w = WidthIndex(bits);
        if (ins.Op1Kind == OpKind.Register)
            return ins.Op1Register == Register.CL && bits >= 32 ? FormTable.Shift[(op * 4 + w) * 2 + 1] : null;
        if (!IsImmediate(ins.Op1Kind)) return null;
        i.Imm = ins.GetImmediate(1) & (bits == 64 ? 63UL : 31UL);
        // A zero count leaves the flags alone and 8- and 16-bit counts can reach the width: the generic handler has those cases.
        if (i.Imm == 0 || i.Imm >= (ulong)bits) return null;
        return FormTable.Shift[(op * 4 + w) * 2];
    }

    static delegate*<CpuState, ref Insn, void> Scan(in Instruction ins, ref Insn i, int bits, bool reverse)
    {
        var s = ShapeOf(in ins, ref i);
        if (bits is not (32 or 64) || s is not (Shape.RR or Shape.RM)) return null;
        return FormTable.Scan[(reverse ? 4 : 0) + (bits == 64 ? 2 : 0) + (s == Shape.RM ? 1 : 0)];
    }

    static delegate*<CpuState, ref Insn, void> Push(in Instruction ins, ref Insn i)
    {
        switch (ins.Code)
        {
            case Code.Push_r64:
                return Gpr(ins.Op0Register, out i.R0, out i.Sh0) ? &BranchForms.PushR : null;
            case Code.Pushq_imm8:
            case Code.Pushq_imm32:
                i.Imm = ins.GetImmediate(0);
                return &BranchForms.PushI;
            case Code.Push_rm64:
                return ins.Op0Kind == OpKind.Memory ? &BranchForms.PushM : null;
            default:
                return null;
        }
    }

    static delegate*<CpuState, ref Insn, void> Jump(in Instruction ins, ref Insn i, bool call)
    {
        switch (ins.Code)
        {
            case Code.Jmp_rel8_64:
            case Code.Jmp_rel32_64:
            case Code.Call_rel32_64:
                i.Imm = ins.NearBranchTarget;
                return call ? &BranchForms.Call : &BranchForms.Jmp;
            case Code.Jmp_rm64:
            case Code.Call_rm64:
                if (ins.Op0Kind == OpKind.Memory) return call ? &BranchForms.CallM : &BranchForms.JmpM;
                if (!Gpr(ins.Op0Register, out i.R0, out i.Sh0)) return null;
                return call ? &BranchForms.CallR : &BranchForms.JmpR;
            default:
                return null;
        }
    }
}
