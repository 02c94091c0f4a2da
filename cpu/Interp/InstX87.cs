using System.Runtime.Intrinsics;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.Fpu;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// x87 data movement, comparison and control: loads and stores of every format (exact, with the
/// rounding-control field honoured), FXCH, FCOM/FUCOM/FCOMI families, FXAM/FTST, constants, FCMOVcc,
/// control and status words. Arithmetic on 80-bit values is not implemented yet and stops loudly.
/// </summary>
static unsafe class InstX87
{
    const ushort C0 = 1 << 8, C1 = 1 << 9, C2 = 1 << 10, C3 = 1 << 14;
    const ushort IE = 1, SF = 1 << 6, ES = 1 << 7, B = 1 << 15;

    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Fld, &Fld);
        HandlerTable.Set(Mnemonic.Fst, &Fst);
        HandlerTable.Set(Mnemonic.Fstp, &Fst);
        HandlerTable.Set(Mnemonic.Fild, &Fild);
        HandlerTable.Set(Mnemonic.Fist, &Fist);
        HandlerTable.Set(Mnemonic.Fistp, &Fist);
        HandlerTable.Set(Mnemonic.Fisttp, &Fist);
        HandlerTable.Set(Mnemonic.Fxch, &Fxch);
        foreach (var m in new[] { Mnemonic.Fucomi, Mnemonic.Fucomip, Mnemonic.Fcomi, Mnemonic.Fcomip })
            HandlerTable.Set(m, &Fcomi);
        foreach (var m in new[] { Mnemonic.Fucom, Mnemonic.Fucomp, Mnemonic.Fucompp, Mnemonic.Fcom, Mnemonic.Fcomp, Mnemonic.Fcompp })
            HandlerTable.Set(m, &Fcom);
        HandlerTable.Set(Mnemonic.Ftst, &Ftst);
        HandlerTable.Set(Mnemonic.Fxam, &Fxam);
        foreach (var m in new[] { Mnemonic.Fld1, Mnemonic.Fldz, Mnemonic.Fldpi, Mnemonic.Fldl2e, Mnemonic.Fldl2t, Mnemonic.Fldlg2, Mnemonic.Fldln2 })
            HandlerTable.Set(m, &FldConst);
        HandlerTable.Set(Mnemonic.Fchs, &Fchs);
        HandlerTable.Set(Mnemonic.Fabs, &Fabs);
        foreach (var m in new[] { Mnemonic.Fcmovb, Mnemonic.Fcmove, Mnemonic.Fcmovbe, Mnemonic.Fcmovu, Mnemonic.Fcmovnb, Mnemonic.Fcmovne, Mnemonic.Fcmovnbe, Mnemonic.Fcmovnu })
            HandlerTable.Set(m, &Fcmov);
        HandlerTable.Set(Mnemonic.Fnstcw, &Fnstcw);
        HandlerTable.Set(Mnemonic.Fstcw, &Fnstcw);
        HandlerTable.Set(Mnemonic.Fldcw, &Fldcw);
        HandlerTable.Set(Mnemonic.Fnstsw, &Fnstsw);
        HandlerTable.Set(Mnemonic.Fstsw, &Fnstsw);
        HandlerTable.Set(Mnemonic.Fninit, &Fninit);
        HandlerTable.Set(Mnemonic.Finit, &Fninit);
        HandlerTable.Set(Mnemonic.Fnclex, &Fnclex);
        HandlerTable.Set(Mnemonic.Fclex, &Fnclex);
        HandlerTable.Set(Mnemonic.Wait, &Nop);
        HandlerTable.Set(Mnemonic.Fnop, &Nop);
        HandlerTable.Set(Mnemonic.Ffree, &Ffree);
        HandlerTable.Set(Mnemonic.Ffreep, &Ffree);
        HandlerTable.Set(Mnemonic.Fincstp, &Fincstp);
        HandlerTable.Set(Mnemonic.Fdecstp, &Fdecstp);
        foreach (var m in new[] { Mnemonic.Fadd, Mnemonic.Faddp, Mnemonic.Fiadd, Mnemonic.Fsub, Mnemonic.Fsubp, Mnemonic.Fisub,
                     Mnemonic.Fsubr, Mnemonic.Fsubrp, Mnemonic.Fisubr, Mnemonic.Fmul, Mnemonic.Fmulp, Mnemonic.Fimul,
                     Mnemonic.Fdiv, Mnemonic.Fdivp, Mnemonic.Fidiv, Mnemonic.Fdivr, Mnemonic.Fdivrp, Mnemonic.Fidivr })
            HandlerTable.Set(m, &Arith);
        HandlerTable.Set(Mnemonic.Fsqrt, &Fsqrt);
        HandlerTable.Set(Mnemonic.Frndint, &Frndint);
        HandlerTable.Set(Mnemonic.Fxsave, &Fxsave);
        HandlerTable.Set(Mnemonic.Fxsave64, &Fxsave);
        HandlerTable.Set(Mnemonic.Fxrstor, &Fxrstor);
        HandlerTable.Set(Mnemonic.Fxrstor64, &Fxrstor);
    }

    // ---- the register stack ----

    static int Phys(X87 f, int i) => (f.Top + i) & 7;
    static bool Empty(X87 f, int phys) => ((f.TagWord >> (2 * phys)) & 3) == 3;

    static void SetTag(X87 f, int phys, int tag) =>
        f.TagWord = (ushort)((f.TagWord & ~(3 << (2 * phys))) | (tag << (2 * phys)));

    /// <summary>Reads ST(i); an empty register is a stack underflow yielding the indefinite NaN.</summary>
    static Float80 St(X87 f, int i)
    {
        int p = Phys(f, i);
        if (Empty(f, p))
        {
            f.StatusWord |= IE | SF;
            f.StatusWord &= unchecked((ushort)~C1);
            return F80.Indefinite;
        }
        return f.Regs[p];
    }

    static void SetSt(X87 f, int i, Float80 v)
    {
        int p = Phys(f, i);
        f.Regs[p] = v;
        SetTag(f, p, F80.Tag(v));
    }

    static void Push(X87 f, Float80 v)
    {
        int top = (f.Top - 1) & 7;
        if (!Empty(f, top))
        {
            f.StatusWord |= IE | SF | C1; // stack overflow
            v = F80.Indefinite;
        }
        else f.StatusWord &= unchecked((ushort)~C1);
        f.Top = top;
        f.Regs[top] = v;
        SetTag(f, top, F80.Tag(v));
    }

    static void Pop(X87 f)
    {
        SetTag(f, f.Top, 3);
        f.Top = (f.Top + 1) & 7;
    }

    static int StIndex(Iced.Intel.Register r) => r - Iced.Intel.Register.ST0;

    // ---- loads and stores ----

    static Float80 LoadMem(CpuState c, ref Insn i)
    {
        ulong a = Ea(c, ref i);
        return i.I.MemorySize switch
        {
            MemorySize.Float32 => F80.FromSingle(BitConverter.UInt32BitsToSingle(c.Mem.Read32(a))),
            MemorySize.Float64 => F80.FromDouble(BitConverter.UInt64BitsToDouble(c.Mem.Read64(a))),
            _ => new Float80 { Mantissa = c.Mem.Read64(a), SignExp = c.Mem.Read16(a + 8) },
        };
    }

    static void Fld(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        Float80 v = i.I.Op0Kind == OpKind.Register ? St(f, StIndex(i.I.Op0Register)) : LoadMem(c, ref i);
        Push(f, v);
    }

    static void Fst(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        var v = St(f, 0);
        if (i.I.Op0Kind == OpKind.Register) SetSt(f, StIndex(i.I.Op0Register), v);
        else
        {
            ulong a = Ea(c, ref i);
            int rc = F80.RoundingControl(f);
            switch (i.I.MemorySize)
            {
                case MemorySize.Float32: c.Mem.Write32(a, BitConverter.SingleToUInt32Bits(F80.ToSingle(v, rc))); break;
                case MemorySize.Float64: c.Mem.Write64(a, BitConverter.DoubleToUInt64Bits(F80.ToDouble(v, rc))); break;
                default:
                    c.Mem.Write64(a, v.Mantissa);
                    c.Mem.Write16(a + 8, v.SignExp);
                    break;
            }
        }
        if (i.I.Mnemonic == Mnemonic.Fstp) Pop(f);
    }

    static void Fild(CpuState c, ref Insn i)
    {
        ulong a = Ea(c, ref i);
        long v = i.MemBits switch
        {
            16 => (short)c.Mem.Read16(a),
            32 => (int)c.Mem.Read32(a),
            _ => (long)c.Mem.Read64(a),
        };
        Push(c.Fpu, F80.FromInt64(v));
    }

    static void Fist(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        var v = St(f, 0);
        int bits = i.MemBits;
        int rc = i.I.Mnemonic == Mnemonic.Fisttp ? 3 : F80.RoundingControl(f);
        long? r = F80.ToInteger(v, bits, rc);
        ulong outv;
        if (r is long ok) outv = (ulong)ok;
        else
        {
            f.StatusWord |= IE; // masked invalid: store the integer indefinite
            outv = bits == 64 ? 0x8000_0000_0000_0000UL : bits == 32 ? 0x8000_0000UL : 0x8000UL;
        }
        WriteMem(c, Ea(c, ref i), bits, outv);
        if (i.I.Mnemonic != Mnemonic.Fist) Pop(f);
    }

    static void Fxch(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        int k = i.I.OpCount > 1 ? StIndex(i.I.Op1Register) : 1;
        var a = St(f, 0);
        var b = St(f, k);
        SetSt(f, 0, b);
        SetSt(f, k, a);
        f.StatusWord &= unchecked((ushort)~C1);
    }

    // ---- comparisons ----

    /// <summary>The ST(i) a compare uses besides ST(0): the last register operand, ST(1) when none is encoded.</summary>
    static int OtherIndex(ref Insn i)
    {
        int n = i.I.OpCount;
        if (n == 0) return 1;
        return i.I.GetOpKind(n - 1) == OpKind.Register ? StIndex(i.I.GetOpRegister(n - 1)) : 1;
    }

    static void Fcomi(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        int r = F80.Compare(St(f, 0), St(f, OtherIndex(ref i)));
        ulong fl = r switch { 2 => Rf.ZF | Rf.PF | Rf.CF, -1 => Rf.CF, 0 => Rf.ZF, _ => 0 };
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~Rf.Arith) | fl;
        f.StatusWord &= unchecked((ushort)~C1);
        if (i.I.Mnemonic is Mnemonic.Fucomip or Mnemonic.Fcomip) Pop(f);
    }

    static void SetCompareCodes(X87 f, int r)
    {
        ushort cc = r switch { 2 => (ushort)(C3 | C2 | C0), -1 => C0, 0 => C3, _ => (ushort)0 };
        f.StatusWord = (ushort)((f.StatusWord & ~(C3 | C2 | C1 | C0)) | cc);
    }

    static void Fcom(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        Float80 other = i.I.OpCount > 0 && i.I.Op0Kind == OpKind.Memory ? LoadMem(c, ref i) : St(f, OtherIndex(ref i));
        SetCompareCodes(f, F80.Compare(St(f, 0), other));
        var m = i.I.Mnemonic;
        if (m is Mnemonic.Fucomp or Mnemonic.Fcomp) Pop(f);
        if (m is Mnemonic.Fucompp or Mnemonic.Fcompp) { Pop(f); Pop(f); }
    }

    static void Ftst(CpuState c, ref Insn i) => SetCompareCodes(c.Fpu, F80.Compare(St(c.Fpu, 0), F80.Zero(false)));

    static void Fxam(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        int p = Phys(f, 0);
        var v = f.Regs[p];
        ushort cc;
        if (Empty(f, p)) cc = C3 | C0;
        else if (F80.IsNaN(v)) cc = C0;
        else if (F80.IsInf(v)) cc = C2 | C0;
        else if (F80.IsZero(v)) cc = C3;
        else if (F80.Exp(v) == 0) cc = C3 | C2;
        else if ((v.Mantissa & F80.IntBit) == 0) cc = 0; // unsupported encoding
        else cc = C2;
        if (F80.Sign(v)) cc |= C1;
        f.StatusWord = (ushort)((f.StatusWord & ~(C3 | C2 | C1 | C0)) | cc);
    }

    // ---- constants and sign ----

    static void FldConst(CpuState c, ref Insn i)
    {
        // Values as the FPU returns them with round-to-nearest (the default control word).
        var v = i.I.Mnemonic switch
        {
            Mnemonic.Fld1 => F80.One,
            Mnemonic.Fldz => F80.Zero(false),
            Mnemonic.Fldpi => new Float80 { Mantissa = 0xC90FDAA22168C235, SignExp = 0x4000 },
            Mnemonic.Fldl2e => new Float80 { Mantissa = 0xB8AA3B295C17F0BC, SignExp = 0x3fff },
            Mnemonic.Fldl2t => new Float80 { Mantissa = 0xD49A784BCD1B8AFE, SignExp = 0x4000 },
            Mnemonic.Fldlg2 => new Float80 { Mantissa = 0x9A209A84FBCFF799, SignExp = 0x3ffd },
            _ => new Float80 { Mantissa = 0xB17217F7D1CF79AC, SignExp = 0x3ffe },
        };
        Push(c.Fpu, v);
    }

    static void Fchs(CpuState c, ref Insn i)
    {
        var v = St(c.Fpu, 0);
        v.SignExp ^= 0x8000;
        SetSt(c.Fpu, 0, v);
        c.Fpu.StatusWord &= unchecked((ushort)~C1);
    }

    static void Fabs(CpuState c, ref Insn i)
    {
        var v = St(c.Fpu, 0);
        v.SignExp &= 0x7fff;
        SetSt(c.Fpu, 0, v);
        c.Fpu.StatusWord &= unchecked((ushort)~C1);
    }

    static void Fcmov(CpuState c, ref Insn i)
    {
        bool take = i.I.Mnemonic switch
        {
            Mnemonic.Fcmovb => c.Cond(2),
            Mnemonic.Fcmove => c.Cond(4),
            Mnemonic.Fcmovbe => c.Cond(6),
            Mnemonic.Fcmovu => c.Cond(10),
            Mnemonic.Fcmovnb => c.Cond(3),
            Mnemonic.Fcmovne => c.Cond(5),
            Mnemonic.Fcmovnbe => c.Cond(7),
            _ => c.Cond(11),
        };
        if (take) SetSt(c.Fpu, 0, St(c.Fpu, StIndex(i.I.Op1Register)));
    }

    // ---- control ----

    static void Fnstcw(CpuState c, ref Insn i) => c.Mem.Write16(Ea(c, ref i), c.Fpu.ControlWord);
    static void Fldcw(CpuState c, ref Insn i) => c.Fpu.ControlWord = (ushort)(c.Mem.Read16(Ea(c, ref i)) | 0x40);

    static void Fnstsw(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        ushort sw = f.StatusWord;
        if ((sw & 0x3f & ~f.ControlWord) != 0) sw |= ES | B;
        if (i.I.Op0Kind == OpKind.Register) SetReg(c, i.I.Op0Register, sw);
        else c.Mem.Write16(Ea(c, ref i), sw);
    }

    static void Fninit(CpuState c, ref Insn i) => c.Fpu.Reset();
    static void Fnclex(CpuState c, ref Insn i) => c.Fpu.StatusWord &= 0x7f00; // keeps C0..C3 and TOP
    static void Nop(CpuState c, ref Insn i) { }
    static void Ffree(CpuState c, ref Insn i)
    {
        SetTag(c.Fpu, Phys(c.Fpu, StIndex(i.I.Op0Register)), 3);
        if (i.I.Mnemonic == Mnemonic.Ffreep) Pop(c.Fpu);
    }
    static void Fincstp(CpuState c, ref Insn i) => c.Fpu.Top = (c.Fpu.Top + 1) & 7;
    static void Fdecstp(CpuState c, ref Insn i) => c.Fpu.Top = (c.Fpu.Top - 1) & 7;

    // ---- FXSAVE / FXRSTOR: the 512-byte x87 + SSE image ----

    static ulong FxArea(CpuState c, ref Insn i)
    {
        ulong a = Ea(c, ref i);
        if ((a & 15) != 0) throw new CpuFault(FaultKind.GeneralProtection, i.Ip, $"misaligned FXSAVE area at 0x{a:x}");
        return a;
    }

    static void Fxsave(CpuState c, ref Insn i)
    {
        ulong a = FxArea(c, ref i);
        var f = c.Fpu;
        var img = new byte[512];
        BitConverter.TryWriteBytes(img.AsSpan(0), f.ControlWord);
        BitConverter.TryWriteBytes(img.AsSpan(2), f.StatusWord);
        byte abridged = 0;
        for (int p = 0; p < 8; p++) if (!Empty(f, p)) abridged |= (byte)(1 << p);
        img[4] = abridged;
        BitConverter.TryWriteBytes(img.AsSpan(6), f.LastOpcode);
        BitConverter.TryWriteBytes(img.AsSpan(8), f.LastIp);
        BitConverter.TryWriteBytes(img.AsSpan(16), f.LastDp);
        BitConverter.TryWriteBytes(img.AsSpan(24), c.Mxcsr);
        BitConverter.TryWriteBytes(img.AsSpan(28), 0x0000ffffu); // MXCSR_MASK: DAZ supported
        for (int k = 0; k < 8; k++)
        {
            var v = f.Regs[Phys(f, k)];
            BitConverter.TryWriteBytes(img.AsSpan(32 + 16 * k), v.Mantissa);
            BitConverter.TryWriteBytes(img.AsSpan(40 + 16 * k), v.SignExp);
        }
        for (int k = 0; k < 16; k++) c.Xmm[k].CopyTo(img.AsSpan(160 + 16 * k));
        c.Mem.WriteBytes(a, img);
    }

    static void Fxrstor(CpuState c, ref Insn i)
    {
        ulong a = FxArea(c, ref i);
        var img = new byte[512];
        c.Mem.ReadBytes(a, img);
        uint mxcsr = BitConverter.ToUInt32(img, 24);
        if ((mxcsr & 0xffff_0000) != 0) throw new CpuFault(FaultKind.GeneralProtection, i.Ip, "FXRSTOR with reserved MXCSR bits set");
        var f = c.Fpu;
        f.ControlWord = BitConverter.ToUInt16(img, 0);
        f.StatusWord = BitConverter.ToUInt16(img, 2);
        f.LastOpcode = BitConverter.ToUInt16(img, 6);
        f.LastIp = BitConverter.ToUInt64(img, 8);
        f.LastDp = BitConverter.ToUInt64(img, 16);
        c.Mxcsr = mxcsr;
        for (int k = 0; k < 8; k++)
            f.Regs[Phys(f, k)] = new Float80 { Mantissa = BitConverter.ToUInt64(img, 32 + 16 * k), SignExp = BitConverter.ToUInt16(img, 40 + 16 * k) };
        byte abridged = img[4];
        for (int p = 0; p < 8; p++) SetTag(f, p, (abridged & (1 << p)) != 0 ? F80.Tag(f.Regs[p]) : 3);
        for (int k = 0; k < 16; k++) c.Xmm[k] = System.Runtime.Intrinsics.Vector128.Create(new ReadOnlySpan<byte>(img, 160 + 16 * k, 16));
    }

    // ---- arithmetic ----

    static void Complete(X87 f, F80Arith.Result r)
    {
        f.StatusWord = (ushort)((f.StatusWord & ~C1) | r.Exceptions | (r.RoundedUp ? C1 : 0));
    }

    /// <summary>
    /// The two-operand arithmetic family. Forms: ST(0) op mem/int (dest ST0), ST(0) op ST(i), ST(i) op ST(0),
    /// and the popping forms; R variants swap the operands.
    /// </summary>
    static void Arith(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        var m = i.I.Mnemonic;
        int dest = 0;
        Float80 src;
        if (i.I.Op0Kind == OpKind.Memory || (i.I.OpCount > 1 && i.I.Op1Kind == OpKind.Memory))
        {
            ulong a = Ea(c, ref i);
            src = m is Mnemonic.Fiadd or Mnemonic.Fisub or Mnemonic.Fisubr or Mnemonic.Fimul or Mnemonic.Fidiv or Mnemonic.Fidivr
                ? F80.FromInt64(i.MemBits == 16 ? (short)c.Mem.Read16(a) : (int)c.Mem.Read32(a))
                : i.MemBits == 32 ? F80.FromSingle(BitConverter.UInt32BitsToSingle(c.Mem.Read32(a)))
                : F80.FromDouble(BitConverter.UInt64BitsToDouble(c.Mem.Read64(a)));
        }
        else
        {
            int d = i.I.OpCount > 0 ? StIndex(i.I.Op0Register) : 1;
            int s = i.I.OpCount > 1 ? StIndex(i.I.Op1Register) : 0;
            dest = d;
            src = St(f, s);
        }
        var dv = St(f, dest);
        ushort cw = f.ControlWord;
        var r = m switch
        {
            Mnemonic.Fadd or Mnemonic.Faddp or Mnemonic.Fiadd => F80Arith.Add(dv, src, cw),
            Mnemonic.Fsub or Mnemonic.Fsubp or Mnemonic.Fisub => F80Arith.Add(dv, src, cw, subtract: true),
            Mnemonic.Fsubr or Mnemonic.Fsubrp or Mnemonic.Fisubr => F80Arith.Add(src, dv, cw, subtract: true),
            Mnemonic.Fmul or Mnemonic.Fmulp or Mnemonic.Fimul => F80Arith.Mul(dv, src, cw),
            Mnemonic.Fdiv or Mnemonic.Fdivp or Mnemonic.Fidiv => F80Arith.Div(dv, src, cw),
            _ => F80Arith.Div(src, dv, cw),
        };
        SetSt(f, dest, r.Value);
        Complete(f, r);
        if (m is Mnemonic.Faddp or Mnemonic.Fsubp or Mnemonic.Fsubrp or Mnemonic.Fmulp or Mnemonic.Fdivp or Mnemonic.Fdivrp) Pop(f);
    }

    static void Fsqrt(CpuState c, ref Insn i)
    {
        var r = F80Arith.Sqrt(St(c.Fpu, 0), c.Fpu.ControlWord);
        SetSt(c.Fpu, 0, r.Value);
        Complete(c.Fpu, r);
    }

    static void Frndint(CpuState c, ref Insn i)
    {
        var r = F80Arith.RoundToInt(St(c.Fpu, 0), c.Fpu.ControlWord);
        SetSt(c.Fpu, 0, r.Value);
        Complete(c.Fpu, r);
    }
}
