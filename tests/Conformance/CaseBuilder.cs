using Iced.Intel;
using static LegoEmu.Tests.Conformance.StateLayout;

namespace LegoEmu.Tests.Conformance;

/// <summary>One operand of the instruction being built.</summary>
sealed class Operand
{
    public OpCodeOperandKind Kind;
    public OpKind As; // Register, Memory or Immediate32 (standing for any immediate)
    public Register Reg;
    public MemoryOperand Mem;
    public long Imm;
    /// <summary>Width in bits of the value the operand carries (GPR or memory integer width).</summary>
    public int Bits;
}

/// <summary>The per-attempt state of building one case.</summary>
sealed class CaseBuilder
{
    public readonly Form Form;
    public readonly OpCodeInfo Op;
    public readonly Random R;
    public readonly CaseState State;
    public readonly Operand[] Ops;
    public readonly Lanes Lanes;
    /// <summary>Effective address and size of the memory operand, when there is one.</summary>
    public ulong Ea;
    public int MemBytes;
    public int MemIndex = -1;

    public CaseBuilder(Form form, Random r)
    {
        Form = form;
        Op = form.Code.ToOpCode();
        R = r;
        Lanes = LanesOf(Op.MemorySize);
        State = new CaseState(r, Lanes);
        Ops = new Operand[Op.OpCount];
    }

    public Mnemonic Mnemonic => Form.Mnemonic;
    public bool IsX87 => new Instruction { Code = Form.Code }.CpuidFeatures.Any(f => f is CpuidFeature.FPU or CpuidFeature.FPU287 or CpuidFeature.FPU387);

    /// <summary>MMX registers are the x87 registers' significands: any form naming one, and EMMS.</summary>
    public bool UsesMmx => Mnemonic == Mnemonic.Emms || Enumerable.Range(0, Op.OpCount).Select(Op.GetOpKind)
        .Any(k => k is OpCodeOperandKind.mm_reg or OpCodeOperandKind.mm_rm or OpCodeOperandKind.mm_or_mem);

    public Instruction? Build(out string? error)
    {
        error = null;
        for (int n = 0; n < Ops.Length; n++) Ops[n] = ChooseOperand(Op.GetOpKind(n));
        MemIndex = Array.FindIndex(Ops, o => o.As == OpKind.Memory);
        if (MemIndex >= 0) ChooseAddress();
        FillOperandValues();
        if (IsX87) X87Setup();
        else if (UsesMmx) MmxSetup();
        MxcsrSetup();
        CaseConstraints.Apply(this);
        var ins = Create();
        error = CaseGenerator.CheckEncoding([ins], out _);
        return error is null ? ins : null;
    }

    // ---- operands ----

    Operand ChooseOperand(OpCodeOperandKind kind)
    {
        var o = new Operand { Kind = kind };
        switch (kind)
        {
            case OpCodeOperandKind.r8_or_mem: return Form.MemoryVariant ? Memory(o, 8) : Gpr(o, 8);
            case OpCodeOperandKind.r16_or_mem: return Form.MemoryVariant ? Memory(o, 16) : Gpr(o, 16);
            case OpCodeOperandKind.r32_or_mem: return Form.MemoryVariant ? Memory(o, 32) : Gpr(o, 32);
            case OpCodeOperandKind.r64_or_mem: return Form.MemoryVariant ? Memory(o, 64) : Gpr(o, 64);
            case OpCodeOperandKind.xmm_or_mem: return Form.MemoryVariant ? Memory(o, 0) : Xmm(o);
            case OpCodeOperandKind.ymm_or_mem: return Form.MemoryVariant ? Memory(o, 0) : Ymm(o);
            case OpCodeOperandKind.ymm_reg or OpCodeOperandKind.ymm_rm or OpCodeOperandKind.ymm_vvvv or OpCodeOperandKind.ymm_is4: return Ymm(o);
            case OpCodeOperandKind.mm_or_mem: return Form.MemoryVariant ? Memory(o, 0) : Mm(o);
            case OpCodeOperandKind.mm_reg or OpCodeOperandKind.mm_rm: return Mm(o);
            case OpCodeOperandKind.mem:
            case OpCodeOperandKind.mem_offs:
                return Memory(o, 0);
            case OpCodeOperandKind.r8_reg or OpCodeOperandKind.r8_opcode: return Gpr(o, 8);
            case OpCodeOperandKind.r16_reg or OpCodeOperandKind.r16_rm or OpCodeOperandKind.r16_opcode or OpCodeOperandKind.r16_reg_mem: return Gpr(o, 16);
            case OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_rm or OpCodeOperandKind.r32_opcode or OpCodeOperandKind.r32_reg_mem
                or OpCodeOperandKind.r32_vvvv: return Gpr(o, 32);
            case OpCodeOperandKind.r64_reg or OpCodeOperandKind.r64_rm or OpCodeOperandKind.r64_opcode or OpCodeOperandKind.r64_reg_mem
                or OpCodeOperandKind.r64_vvvv: return Gpr(o, 64);
            case OpCodeOperandKind.xmm_reg or OpCodeOperandKind.xmm_rm or OpCodeOperandKind.xmm_vvvv or OpCodeOperandKind.xmm_is4: return Xmm(o);
            case OpCodeOperandKind.al: return Fixed(o, Register.AL);
            case OpCodeOperandKind.cl: return Fixed(o, Register.CL);
            case OpCodeOperandKind.ax: return Fixed(o, Register.AX);
            case OpCodeOperandKind.dx: return Fixed(o, Register.DX);
            case OpCodeOperandKind.eax: return Fixed(o, Register.EAX);
            case OpCodeOperandKind.rax: return Fixed(o, Register.RAX);
            case OpCodeOperandKind.st0: return Fixed(o, Register.ST0);
            case OpCodeOperandKind.sti_opcode: return Fixed(o, Register.ST0 + R.Next(8));
            case OpCodeOperandKind.imm8 or OpCodeOperandKind.imm8_const_1 or OpCodeOperandKind.imm8sex16 or OpCodeOperandKind.imm8sex32
                or OpCodeOperandKind.imm8sex64 or OpCodeOperandKind.imm16 or OpCodeOperandKind.imm32 or OpCodeOperandKind.imm32sex64
                or OpCodeOperandKind.imm64:
                o.As = OpKind.Immediate32;
                o.Imm = DefaultImmediate(kind);
                return o;
            default:
                throw new CaseGenerationException($"operand kind {kind} is not supported by the generator");
        }
    }

    Operand Gpr(Operand o, int bits)
    {
        o.As = OpKind.Register;
        o.Bits = bits;
        o.Reg = PickGpr(bits);
        return o;
    }

    /// <summary>Any GPR but the stack pointer, which the driver needs intact; AH..BH now and then (they exclude REX).</summary>
    public Register PickGpr(int bits)
    {
        if (bits == 8 && R.Next(6) == 0) return Register.AH + R.Next(4);
        int i;
        do i = R.Next(16); while (i == Rsp);
        return bits switch
        {
            64 => Register.RAX + i,
            32 => Register.EAX + i,
            16 => Register.AX + i,
            _ => i < 4 ? Register.AL + i : Register.SPL + (i - 4),
        };
    }

    Operand Xmm(Operand o)
    {
        o.As = OpKind.Register;
        o.Reg = Register.XMM0 + R.Next(16);
        return o;
    }

    Operand Ymm(Operand o)
    {
        o.As = OpKind.Register;
        o.Reg = Register.YMM0 + R.Next(16);
        return o;
    }

    Operand Mm(Operand o)
    {
        o.As = OpKind.Register;
        o.Reg = Register.MM0 + R.Next(8);
        return o;
    }

    static Operand Fixed(Operand o, Register reg)
    {
        o.As = OpKind.Register;
        o.Reg = reg;
        o.Bits = reg.IsGPR() ? reg.GetSize() * 8 : 0;
        return o;
    }

    Operand Memory(Operand o, int bits)
    {
        o.As = OpKind.Memory;
        o.Bits = bits;
        return o;
    }

    long DefaultImmediate(OpCodeOperandKind kind) => kind switch
    {
        OpCodeOperandKind.imm8_const_1 => 1,
        OpCodeOperandKind.imm8 => (long)ValuePools.Int(R, 8),
        OpCodeOperandKind.imm8sex16 or OpCodeOperandKind.imm8sex32 or OpCodeOperandKind.imm8sex64 => (sbyte)ValuePools.Int(R, 8),
        OpCodeOperandKind.imm16 => (long)ValuePools.Int(R, 16),
        OpCodeOperandKind.imm32 => (long)ValuePools.Int(R, 32),
        OpCodeOperandKind.imm32sex64 => (int)ValuePools.Int(R, 32),
        _ => (long)ValuePools.Int(R, 64),
    };

    // ---- memory addressing ----

    /// <summary>The alignment a memory operand needs: legacy SSE m128 operands 16, VEX ones only for the aligned moves (16 or 32).</summary>
    public static int Alignment(Mnemonic m, int size, bool vex)
    {
        if (vex)
            return m is Mnemonic.Vmovaps or Mnemonic.Vmovapd or Mnemonic.Vmovdqa or Mnemonic.Vmovntps or Mnemonic.Vmovntpd
                or Mnemonic.Vmovntdq or Mnemonic.Vmovntdqa ? size : 1;
        return size == 16 && m is not (Mnemonic.Movups or Mnemonic.Movupd or Mnemonic.Movdqu or Mnemonic.Lddqu
            or Mnemonic.Pcmpestri or Mnemonic.Pcmpestrm or Mnemonic.Pcmpistri or Mnemonic.Pcmpistrm) ? 16 : 1;
    }

    void ChooseAddress()
    {
        var o = Ops[MemIndex];
        MemBytes = Math.Max(1, Op.MemorySize.GetSize());
        if (o.Bits == 0) o.Bits = Math.Min(64, MemBytes * 8);
        if (Mnemonic == Mnemonic.Lea)
        {
            o.Mem = LeaAddress();
            Ea = 0;
            return;
        }
        int align = Alignment(Mnemonic, MemBytes, Op.Encoding == EncodingKind.VEX);
        long delta = 0;
        if (R.Next(10) < 3)
        {
            long lo = -(MemSize / 2), hi = MemSize / 2 - MemBytes;
            delta = R.NextInt64(lo, hi + 1);
            delta -= ((delta % align) + align) % align;
        }
        Ea = (ulong)((long)Anchor + delta);
        if (o.Kind == OpCodeOperandKind.mem_offs)
        {
            o.Mem = new MemoryOperand(Register.None, Register.None, 1, (long)Ea, 8);
            return;
        }

        var reserved = ReservedGprs();
        Register Free(int bits)
        {
            for (int tries = 0; tries < 64; tries++)
            {
                int i = R.Next(16);
                if (i == Rsp || reserved.Contains(i)) continue;
                reserved.Add(i);
                return (bits == 64 ? Register.RAX : Register.EAX) + i;
            }
            throw new RetryCase();
        }

        int form = R.Next(10);
        bool addr32 = form == 9;
        int abits = addr32 ? 32 : 64;
        long disp = R.Next(3) switch { 0 => 0, 1 => (sbyte)R.Next(256), _ => R.Next(-0x1000, 0x1000) };
        switch (form)
        {
            case 7: // RIP-relative: the encoder turns the absolute target into a displacement
                o.Mem = new MemoryOperand(Register.RIP, Register.None, 1, (long)Ea, 8);
                return;
            case 8: // absolute disp32, encoded with a SIB byte and no base
                o.Mem = new MemoryOperand(Register.None, Register.None, 1, (long)Ea, 8);
                return;
            case 6:
            {
                var index = Free(64);
                int scale = 1 << R.Next(4);
                long iv = R.Next(-16, 17);
                State.SetFull(CaseState.GprIndex(index), (ulong)iv);
                o.Mem = new MemoryOperand(Register.None, index, scale, (long)Ea - iv * scale, 8);
                return;
            }
            case 4 or 5 or 9:
            {
                var b = Free(abits);
                var index = Free(abits);
                int scale = 1 << R.Next(4);
                long iv = R.Next(-16, 17);
                ulong bv = Ea - (ulong)disp - (ulong)(iv * scale);
                if (addr32)
                {
                    // Only the low 32 bits take part in a 32-bit address: random upper halves must not matter.
                    State.SetFull(CaseState.GprIndex(index), (ValuePools.Random64(R) & ~0xffff_ffffUL) | (uint)iv);
                    State.SetFull(CaseState.GprIndex(b), (ValuePools.Random64(R) & ~0xffff_ffffUL) | (uint)bv);
                }
                else
                {
                    State.SetFull(CaseState.GprIndex(index), (ulong)iv);
                    State.SetFull(CaseState.GprIndex(b), bv);
                }
                o.Mem = new MemoryOperand(b, index, scale, disp, disp == 0 && form == 5 ? 0 : abits == 32 ? 4 : 8);
                if (form == 4) o.Mem = new MemoryOperand(b, index, scale, disp, disp == 0 ? 0 : 1);
                return;
            }
            default:
            {
                var b = Free(64);
                if (form == 2) disp = 0;
                State.SetFull(CaseState.GprIndex(b), Ea - (ulong)disp);
                // Form 3 forces a 32-bit displacement even where 8 bits would do.
                o.Mem = new MemoryOperand(b, Register.None, 1, disp, form == 3 ? 8 : disp == 0 ? 0 : 1);
                return;
            }
        }
    }

    /// <summary>GPRs the instruction reads or writes other than through its memory address.</summary>
    HashSet<int> ReservedGprs()
    {
        var probeOps = (Operand[])Ops.Clone();
        probeOps[MemIndex] = new Operand { Kind = Ops[MemIndex].Kind, As = OpKind.Memory, Mem = new MemoryOperand(Register.RIP, Register.None, 1, (long)Anchor, 8) };
        var set = new HashSet<int> { Rsp };
        foreach (var o in probeOps)
        {
            if (o.As == OpKind.Register && o.Reg.IsGPR()) set.Add(CaseState.GprIndex(o.Reg));
        }
        try
        {
            var probe = Create(probeOps);
            foreach (var used in new InstructionInfoFactory().GetInfo(probe).GetUsedRegisters())
            {
                if (used.Register.IsGPR()) set.Add(CaseState.GprIndex(used.Register));
            }
        }
        catch (ArgumentException)
        {
            throw new RetryCase();
        }
        return set;
    }

    /// <summary>LEA computes without accessing memory, so every addressing form is fair game.</summary>
    MemoryOperand LeaAddress()
    {
        int form = R.Next(12);
        bool addr32 = R.Next(4) == 0;
        Register Base() => (addr32 ? Register.EAX : Register.RAX) + R.Next(16);
        Register Index()
        {
            int i;
            do i = R.Next(16); while (i == Rsp);
            return (addr32 ? Register.EAX : Register.RAX) + i;
        }
        long disp = R.Next(6) switch
        {
            0 => 0,
            1 => (sbyte)R.Next(256),
            2 => int.MaxValue,
            3 => int.MinValue,
            4 => -1,
            _ => R.Next(int.MinValue, int.MaxValue),
        };
        int scale = 1 << R.Next(4);
        int dsize = addr32 ? 4 : 8;
        return form switch
        {
            0 => new MemoryOperand(Base(), Register.None, 1, 0, 0),
            1 => new MemoryOperand(Base(), Register.None, 1, (sbyte)disp, 1),
            2 => new MemoryOperand(Base(), Register.None, 1, disp, dsize),
            3 or 4 or 5 => new MemoryOperand(Base(), Index(), scale, disp, disp == 0 ? 0 : dsize),
            6 => new MemoryOperand(Register.None, Index(), scale, disp, dsize),
            7 => new MemoryOperand(addr32 ? Register.EIP : Register.RIP, Register.None, 1, (long)(Anchor + (ulong)R.Next(-100000, 100000)), dsize),
            8 => new MemoryOperand(Register.None, Register.None, 1, addr32 ? (uint)disp : disp, dsize),
            9 => new MemoryOperand(addr32 ? Register.ESP : Register.RSP, Register.None, 1, (sbyte)disp, 1),
            10 => new MemoryOperand(addr32 ? Register.R13D : Register.R13, Index(), scale, 0, 0),
            _ => new MemoryOperand(addr32 ? Register.EBP : Register.RBP, Register.None, 1, 0, 0),
        };
    }

    // ---- values ----

    public static Lanes LanesOf(MemorySize size) => size switch
    {
        MemorySize.Float32 or MemorySize.Packed64_Float32 or MemorySize.Packed128_Float32 or MemorySize.Packed256_Float32 => Lanes.Float32,
        MemorySize.Float64 or MemorySize.Packed128_Float64 or MemorySize.Packed256_Float64 => Lanes.Float64,
        MemorySize.Packed256_Int8 or MemorySize.Packed256_UInt8 => Lanes.Int8,
        MemorySize.Packed256_Int16 or MemorySize.Packed256_UInt16 => Lanes.Int16,
        MemorySize.Packed256_Int32 or MemorySize.Packed256_UInt32 => Lanes.Int32,
        MemorySize.Packed256_Int64 or MemorySize.Packed256_UInt64 or MemorySize.UInt256 => Lanes.Int64,
        MemorySize.Int8 or MemorySize.UInt8 or MemorySize.Packed128_Int8 or MemorySize.Packed128_UInt8 or MemorySize.Packed64_Int8 or MemorySize.Packed64_UInt8 => Lanes.Int8,
        MemorySize.Int16 or MemorySize.UInt16 or MemorySize.Packed128_Int16 or MemorySize.Packed128_UInt16 or MemorySize.Packed64_Int16 or MemorySize.Packed64_UInt16 or MemorySize.Packed32_Int16 or MemorySize.Packed32_UInt16 => Lanes.Int16,
        MemorySize.Int32 or MemorySize.UInt32 or MemorySize.Packed128_Int32 or MemorySize.Packed128_UInt32 or MemorySize.Packed64_Int32 or MemorySize.Packed64_UInt32 => Lanes.Int32,
        MemorySize.Int64 or MemorySize.UInt64 or MemorySize.Packed128_Int64 or MemorySize.Packed128_UInt64 or MemorySize.UInt128 => Lanes.Int64,
        _ => Lanes.Mixed,
    };

    void FillOperandValues()
    {
        foreach (var o in Ops)
        {
            if (o.As == OpKind.Register && o.Reg.IsGPR()) State.Set(o.Reg, ValuePools.Int(R, o.Bits));
        }
        if (MemIndex >= 0 && Mnemonic != Mnemonic.Lea) FillMemory();

        // Equal operands are their own edge case (CMP x,x; SUB giving zero; XOR of equals).
        var data = Ops.Where(o => o.Bits > 0 && (o.As == OpKind.Memory || o.Reg.IsGPR())).ToList();
        if (data.Count >= 2 && data[0].Bits == data[1].Bits && R.Next(7) == 0)
            WriteValue(data[1], ReadValue(data[0]));
        var xmms = Ops.Where(o => o.As == OpKind.Register && o.Reg.IsXMM()).ToList();
        if (xmms.Count >= 1 && MemIndex >= 0 && MemBytes == 16 && R.Next(7) == 0)
            State.Xmm(xmms[0].Reg - Register.XMM0).CopyTo(State.MemSpan(Ea, 16));
        else if (xmms.Count >= 2 && R.Next(7) == 0)
            State.Xmm(xmms[0].Reg - Register.XMM0).CopyTo(State.Xmm(xmms[1].Reg - Register.XMM0));
    }

    void FillMemory()
    {
        var size = Op.MemorySize;
        switch (size)
        {
            case MemorySize.Float32: State.SetMem(Ea, 4, ValuePools.F32(R)); return;
            case MemorySize.Float64: State.SetMem(Ea, 8, ValuePools.F64(R)); return;
            case MemorySize.Float80:
            {
                var (m, se) = ValuePools.F80(R);
                State.SetMem(Ea, 8, m);
                State.SetMem(Ea + 8, 2, se);
                return;
            }
        }
        if (MemBytes <= 8 && Lanes is not (Lanes.Float32 or Lanes.Float64))
            State.SetMem(Ea, MemBytes, ValuePools.Int(R, MemBytes * 8));
        else if (MemBytes <= 32)
            State.FillLanes(State.MemSpan(Ea, MemBytes), Lanes);
    }

    public ulong ReadValue(Operand o) =>
        o.As == OpKind.Memory ? State.GetMem(Ea, o.Bits / 8) : State.Get(o.Reg);

    public void WriteValue(Operand o, ulong v)
    {
        if (o.As == OpKind.Memory) State.SetMem(Ea, o.Bits / 8, v);
        else State.Set(o.Reg, v);
    }

    // ---- x87 ----

    static readonly HashSet<Mnemonic> X87Pushes =
    [
        Mnemonic.Fld, Mnemonic.Fild, Mnemonic.Fld1, Mnemonic.Fldz, Mnemonic.Fldpi, Mnemonic.Fldl2e, Mnemonic.Fldl2t,
        Mnemonic.Fldlg2, Mnemonic.Fldln2, Mnemonic.Fbld,
    ];

    static readonly HashSet<Mnemonic> X87NoStack =
    [
        Mnemonic.Fnstsw, Mnemonic.Fstsw, Mnemonic.Fnstcw, Mnemonic.Fstcw, Mnemonic.Fldcw, Mnemonic.Fninit, Mnemonic.Finit,
        Mnemonic.Fnclex, Mnemonic.Fclex, Mnemonic.Fnop, Mnemonic.Wait, Mnemonic.Fincstp, Mnemonic.Fdecstp, Mnemonic.Ffree,
        Mnemonic.Ffreep, Mnemonic.Fxam,
    ];

    void X87Setup()
    {
        int need = 0;
        foreach (var o in Ops)
        {
            if (o.As == OpKind.Register && o.Reg is >= Register.ST0 and <= Register.ST7) need = Math.Max(need, o.Reg - Register.ST0 + 1);
        }
        if (Mnemonic is Mnemonic.Fcompp or Mnemonic.Fucompp) need = 2;
        else if (!X87Pushes.Contains(Mnemonic) && !X87NoStack.Contains(Mnemonic)) need = Math.Max(need, 1);

        int depth;
        if (X87Pushes.Contains(Mnemonic)) depth = R.Next(10) == 0 ? 8 : R.Next(8); // 8: stack overflow
        else if (need > 0 && R.Next(12) == 0) depth = R.Next(need); // stack underflow
        else depth = R.Next(need, 9);
        State.Depth = depth;

        // Equal operands make the compare and subtract edge cases.
        if (R.Next(6) == 0)
        {
            int other = Ops.Where(o => o.As == OpKind.Register && o.Reg is > Register.ST0 and <= Register.ST7).Select(o => o.Reg - Register.ST0).DefaultIfEmpty(1).First();
            State.SetSt(other, State.GetSt(0));
        }
        if (R.Next(2) == 0)
        {
            int pc = R.Next(3) switch { 0 => 0, 1 => 2, _ => 3 };
            State.Fcw = (ushort)(0x7f | (pc << 8) | (R.Next(4) << 10));
        }
    }

    /// <summary>
    /// All eight registers valid, so TOP is 0 and ST(i) is MMi both before and after. Significands
    /// get lane values; exponents are mostly all ones, as an MMX write leaves them.
    /// </summary>
    void MmxSetup()
    {
        State.Depth = 8;
        Span<byte> lanes = stackalloc byte[8];
        for (int k = 0; k < 8; k++)
        {
            State.FillLanes(lanes, Lanes);
            ushort se = R.Next(4) == 0 ? (ushort)R.Next(0x10000) : (ushort)0xffff;
            State.SetSt(k, (System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(lanes), se));
        }
    }

    /// <summary>
    /// Half the cases run under another rounding mode, FTZ or DAZ, some with sticky flags already
    /// set (they must stay set). Exceptions stay masked: an unmasked one would kill the native run.
    /// </summary>
    void MxcsrSetup()
    {
        if (R.Next(2) == 0) return;
        uint m = CaseState.DefaultMxcsr | (uint)(R.Next(4) << 13);
        if (R.Next(4) == 0) m |= 1u << 15; // FTZ
        if (R.Next(4) == 0) m |= 1u << 6;  // DAZ
        if (R.Next(4) == 0) m |= (uint)R.Next(64);
        State.Mxcsr = m;
    }

    // ---- building the instruction ----

    Instruction Create() => Create(Ops);

    Instruction Create(Operand[] ops)
    {
        var code = Form.Code;
        static bool Reg(Operand o) => o.As == OpKind.Register;
        static bool Mem(Operand o) => o.As == OpKind.Memory;
        bool signed = ops.Any(o => o.As == OpKind.Immediate32 && o.Kind is OpCodeOperandKind.imm8sex16 or OpCodeOperandKind.imm8sex32
            or OpCodeOperandKind.imm8sex64 or OpCodeOperandKind.imm32sex64);
        int I(Operand o) => signed ? (int)o.Imm : (int)(uint)o.Imm;
        uint U(Operand o) => (uint)o.Imm;
        switch (ops.Length)
        {
            case 0: return Instruction.Create(code);
            case 1:
                if (Reg(ops[0])) return Instruction.Create(code, ops[0].Reg);
                if (Mem(ops[0])) return Instruction.Create(code, ops[0].Mem);
                return signed ? Instruction.Create(code, I(ops[0])) : Instruction.Create(code, U(ops[0]));
            case 2:
            {
                var (a, b) = (ops[0], ops[1]);
                if (Reg(a) && Reg(b)) return Instruction.Create(code, a.Reg, b.Reg);
                if (Reg(a) && Mem(b)) return Instruction.Create(code, a.Reg, b.Mem);
                if (Mem(a) && Reg(b)) return Instruction.Create(code, a.Mem, b.Reg);
                if (Reg(a))
                {
                    if (b.Kind == OpCodeOperandKind.imm64) return Instruction.Create(code, a.Reg, b.Imm);
                    return signed ? Instruction.Create(code, a.Reg, I(b)) : Instruction.Create(code, a.Reg, U(b));
                }
                if (Mem(a)) return signed ? Instruction.Create(code, a.Mem, I(b)) : Instruction.Create(code, a.Mem, U(b));
                return Instruction.Create(code, U(a), U(b));
            }
            case 3:
            {
                var (a, b, c) = (ops[0], ops[1], ops[2]);
                if (Reg(a) && Reg(b) && Reg(c)) return Instruction.Create(code, a.Reg, b.Reg, c.Reg);
                if (Reg(a) && Reg(b) && Mem(c)) return Instruction.Create(code, a.Reg, b.Reg, c.Mem);
                if (Reg(a) && Mem(b) && Reg(c)) return Instruction.Create(code, a.Reg, b.Mem, c.Reg);
                if (Mem(a) && Reg(b) && Reg(c)) return Instruction.Create(code, a.Mem, b.Reg, c.Reg);
                if (Reg(a) && Reg(b)) return signed ? Instruction.Create(code, a.Reg, b.Reg, I(c)) : Instruction.Create(code, a.Reg, b.Reg, U(c));
                if (Reg(a) && Mem(b)) return signed ? Instruction.Create(code, a.Reg, b.Mem, I(c)) : Instruction.Create(code, a.Reg, b.Mem, U(c));
                if (Mem(a) && Reg(b)) return signed ? Instruction.Create(code, a.Mem, b.Reg, I(c)) : Instruction.Create(code, a.Mem, b.Reg, U(c));
                if (Reg(a)) return Instruction.Create(code, a.Reg, U(b), U(c));
                break;
            }
        }
        throw new CaseGenerationException($"no Instruction.Create overload for the operands of {Form.Name}");
    }
}
