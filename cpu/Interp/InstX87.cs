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
    const ushort IE = 1, DE = 2, SF = 1 << 6;

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
        HandlerTable.Set(Mnemonic.Ficom, &Ficom);
        HandlerTable.Set(Mnemonic.Ficomp, &Ficom);
        HandlerTable.Set(Mnemonic.Fxam, &Fxam);
        foreach (var m in new[] { Mnemonic.Fld1, Mnemonic.Fldz, Mnemonic.Fldpi, Mnemonic.Fldl2e, Mnemonic.Fldl2t, Mnemonic.Fldlg2, Mnemonic.Fldln2 })
            HandlerTable.Set(m, &FldConst);
        HandlerTable.Set(Mnemonic.Fchs, &Fchs);
        HandlerTable.Set(Mnemonic.Fabs, &Fabs);
        foreach (var m in new[] { Mnemonic.Fcmovb, Mnemonic.Fcmove, Mnemonic.Fcmovbe, Mnemonic.Fcmovu, Mnemonic.Fcmovnb, Mnemonic.Fcmovne, Mnemonic.Fcmovnbe, Mnemonic.Fcmovnu })
            HandlerTable.Set(m, &Fcmov);
        HandlerTable.Set(Mnemonic.Fnstcw, &Fnstcw);
        HandlerTable.Set(Mnemonic.Fstcw, &Fstcw);
        HandlerTable.Set(Mnemonic.Fldcw, &Fldcw);
        HandlerTable.Set(Mnemonic.Fnstsw, &Fnstsw);
        HandlerTable.Set(Mnemonic.Fstsw, &Fstsw);
        HandlerTable.Set(Mnemonic.Fninit, &Fninit);
        HandlerTable.Set(Mnemonic.Finit, &Finit);
        HandlerTable.Set(Mnemonic.Fnclex, &Fnclex);
        HandlerTable.Set(Mnemonic.Fclex, &Fclex);
        HandlerTable.Set(Mnemonic.Wait, &Wait);
        HandlerTable.Set(Mnemonic.Fnop, &Wait);
        // 8087/80287 control instructions that later FPUs execute as no-ops.
        foreach (var m in new[] { Mnemonic.Fneni, Mnemonic.Fndisi, Mnemonic.Fnsetpm })
            HandlerTable.Set(m, &Nop);
        foreach (var m in new[] { Mnemonic.Feni, Mnemonic.Fdisi, Mnemonic.Fsetpm })
            HandlerTable.Set(m, &Wait);
        HandlerTable.Set(Mnemonic.Fstpnce, &Fstpnce);
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

    /// <summary>
    /// Masked stack underflow: when ST(<paramref name="src"/>) or ST(<paramref name="dest"/>) is
    /// empty, the destination receives the indefinite NaN and the operation itself does not happen.
    /// </summary>
    static bool Underflow(X87 f, int src, int dest = 0)
    {
        if (!Empty(f, Phys(f, src)) && !Empty(f, Phys(f, dest))) return false;
        f.StatusWord = (ushort)((f.StatusWord | IE | SF) & ~C1);
        SetSt(f, dest, F80.Indefinite);
        return true;
    }

    // ---- loads and stores ----

    static Float80 LoadMem(CpuState c, ref Insn i) => LoadMem(c, ref i, out _);

    /// <param name="denormal">A single or double denormal was read: the x87 flags it as DE on load
    /// (it is normal once widened, so this cannot be seen afterwards).</param>
    static Float80 LoadMem(CpuState c, ref Insn i, out bool denormal)
    {
        ulong a = Ea(c, ref i);
        denormal = false;
        switch (i.I.MemorySize)
        {
            case MemorySize.Float32:
            {
                uint raw = c.Mem.Read32(a);
                denormal = (raw & 0x7f80_0000) == 0 && (raw & 0x7f_ffff) != 0;
                return F80.FromSingle(BitConverter.UInt32BitsToSingle(raw));
            }
            case MemorySize.Float64:
            {
                ulong raw = c.Mem.Read64(a);
                denormal = (raw & 0x7ff0_0000_0000_0000) == 0 && (raw & 0xf_ffff_ffff_ffff) != 0;
                return F80.FromDouble(BitConverter.UInt64BitsToDouble(raw));
            }
            default:
                return new Float80 { Mantissa = c.Mem.Read64(a), SignExp = c.Mem.Read16(a + 8) };
        }
    }

    static Float80 Quiet(Float80 v) => new() { Mantissa = v.Mantissa | (1UL << 62), SignExp = v.SignExp };

    static void Fld(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        var f = c.Fpu;
        Float80 v;
        if (i.I.Op0Kind == OpKind.Register) v = St(f, StIndex(i.I.Op0Register));
        else
        {
            v = LoadMem(c, ref i, out bool denormal);
            // Widening a single or double signals on SNaN (loaded quiet) and on denormals; m80 loads are
            // exact copies. A stack overflow takes precedence over both.
            if (i.I.MemorySize != MemorySize.Float80 && Empty(f, (f.Top - 1) & 7))
            {
                if (F80.IsSignalling(v)) { f.StatusWord |= IE; v = Quiet(v); }
                if (denormal) f.StatusWord |= DE;
            }
        }
        Push(f, v);
    }

    static void Fst(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        var f = c.Fpu;
        var v = St(f, 0);
        if (i.I.Op0Kind == OpKind.Register) SetSt(f, StIndex(i.I.Op0Register), v);
        else
        {
            ulong a = Ea(c, ref i);
            int rc = F80.RoundingControl(f);
            ushort ex = 0;
            bool up = false;
            switch (i.I.MemorySize)
            {
                case MemorySize.Float32: c.Mem.Write32(a, BitConverter.SingleToUInt32Bits(F80.ToSingle(v, rc, out ex, out up))); break;
                case MemorySize.Float64: c.Mem.Write64(a, BitConverter.DoubleToUInt64Bits(F80.ToDouble(v, rc, out ex, out up))); break;
                default:
                    c.Mem.Write64(a, v.Mantissa);
                    c.Mem.Write16(a + 8, v.SignExp);
                    break;
            }
            // Narrowing stores report IE (SNaN), OE, UE, PE, and in C1 whether they rounded up.
            f.StatusWord = (ushort)((f.StatusWord & ~C1) | ex | (up ? C1 : 0));
        }
        if (i.I.Mnemonic is Mnemonic.Fstp or Mnemonic.Fstpnce) Pop(f);
    }

    /// <summary>FSTPNCE (D9 D8+i), an alias of FSTP ST(i) that pops an empty ST(0) without a stack fault.</summary>
    static void Fstpnce(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        var f = c.Fpu;
        if (Empty(f, Phys(f, 0)))
        {
            Pop(f);
            return;
        }
        Fst(c, ref i);
    }

    static void Fild(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
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
        if (X87Unmasked.Diverted(c, ref i)) return;
        var f = c.Fpu;
        var v = St(f, 0);
        int bits = i.MemBits;
        int rc = i.I.Mnemonic == Mnemonic.Fisttp ? 3 : F80.RoundingControl(f);
        long? r = F80.ToInteger(v, bits, rc, out bool inexact, out bool up);
        ulong outv;
        if (r is long ok)
        {
            outv = (ulong)ok;
            f.StatusWord = (ushort)((f.StatusWord & ~C1) | (inexact ? F80.PE : 0) | (up ? C1 : 0));
        }
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
        if (X87Unmasked.Diverted(c, ref i)) return;
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

    /// <summary>
    /// Exceptions of a compare: IE for a signalling NaN, and for any NaN in the ordered forms
    /// (FCOM, FCOMI, FTST); DE for a denormal operand.
    /// </summary>
    static void CompareExceptions(X87 f, in Float80 a, in Float80 b, bool ordered, bool memoryDenormal = false)
    {
        if (F80.IsUnsupported(a) || F80.IsUnsupported(b))
        {
            f.StatusWord |= IE;
            return;
        }
        bool nan = F80.IsNaN(a) || F80.IsNaN(b);
        if (nan)
        {
            if (ordered || F80.IsSignalling(a) || F80.IsSignalling(b)) f.StatusWord |= IE;
            return;
        }
        if (memoryDenormal || F80.IsDenormal(a) || F80.IsDenormal(b)) f.StatusWord |= DE;
    }

    static void Fcomi(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        var f = c.Fpu;
        var a = St(f, 0);
        var b = St(f, OtherIndex(ref i));
        CompareExceptions(f, a, b, i.I.Mnemonic is Mnemonic.Fcomi or Mnemonic.Fcomip);
        int r = F80.Compare(a, b);
        ulong fl = r switch { 2 => Rf.ZF | Rf.PF | Rf.CF, -1 => Rf.CF, 0 => Rf.ZF, _ => 0 };
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~Rf.Arith) | fl;
        f.StatusWord &= unchecked((ushort)~C1);
        // An unmasked invalid operation (a NaN, a stack fault) still sets RFLAGS to unordered, but the stack is not popped.
        if (i.I.Mnemonic is Mnemonic.Fucomip or Mnemonic.Fcomip && !UnmaskedInvalid(f)) Pop(f);
    }

    /// <summary>IE raised with the control word unmasking it: the instruction leaves the stack as it found it.
    /// (No exception was pending when it began, or it would have faulted first, so IE is this instruction's.)</summary>
    static bool UnmaskedInvalid(X87 f) => (f.StatusWord & ~f.ControlWord & IE) != 0;

    static void SetCompareCodes(X87 f, int r)
    {
        ushort cc = r switch { 2 => (ushort)(C3 | C2 | C0), -1 => C0, 0 => C3, _ => (ushort)0 };
        f.StatusWord = (ushort)((f.StatusWord & ~(C3 | C2 | C1 | C0)) | cc);
    }

    static void Fcom(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        var f = c.Fpu;
        bool memoryDenormal = false;
        Float80 other = i.I.OpCount > 0 && i.I.Op0Kind == OpKind.Memory ? LoadMem(c, ref i, out memoryDenormal) : St(f, OtherIndex(ref i));
        var top = St(f, 0);
        var m = i.I.Mnemonic;
        CompareExceptions(f, top, other, m is Mnemonic.Fcom or Mnemonic.Fcomp or Mnemonic.Fcompp, memoryDenormal);
        SetCompareCodes(f, F80.Compare(top, other));
        if (m is Mnemonic.Fucomp or Mnemonic.Fcomp) Pop(f);
        if (m is Mnemonic.Fucompp or Mnemonic.Fcompp) { Pop(f); Pop(f); }
    }

    /// <summary>FICOM/FICOMP: ST(0) against a 16- or 32-bit integer in memory (exact in 80 bits), like FCOM.</summary>
    static void Ficom(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        var f = c.Fpu;
        ulong a = Ea(c, ref i);
        var other = F80.FromInt64(i.MemBits == 16 ? (short)c.Mem.Read16(a) : (int)c.Mem.Read32(a));
        var top = St(f, 0);
        CompareExceptions(f, top, other, ordered: true);
        SetCompareCodes(f, F80.Compare(top, other));
        if (i.I.Mnemonic == Mnemonic.Ficomp) Pop(f);
    }

    static void Ftst(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        var v = St(c.Fpu, 0);
        CompareExceptions(c.Fpu, v, F80.Zero(false), ordered: true);
        SetCompareCodes(c.Fpu, F80.Compare(v, F80.Zero(false)));
    }

    static void Fxam(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        var f = c.Fpu;
        int p = Phys(f, 0);
        var v = f.Regs[p];
        ushort cc;
        if (Empty(f, p)) cc = C3 | C0;
        else if (F80.IsUnsupported(v)) cc = 0;
        else if (F80.IsNaN(v)) cc = C0;
        else if (F80.IsInf(v)) cc = C2 | C0;
        else if (F80.IsZero(v)) cc = C3;
        else if (F80.Exp(v) == 0) cc = C3 | C2;
        else cc = C2;
        if (F80.Sign(v)) cc |= C1;
        f.StatusWord = (ushort)((f.StatusWord & ~(C3 | C2 | C1 | C0)) | cc);
    }

    // ---- constants and sign ----

    static void FldConst(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        // The FPU holds these constants with more than 64 bits and rounds them per the rounding
        // control: the 64-bit truncation, and whether what follows is at least half an ulp.
        (ulong trunc, ushort se, bool half) = i.I.Mnemonic switch
        {
            Mnemonic.Fld1 => (F80.IntBit, (ushort)0x3fff, false),
            Mnemonic.Fldz => (0UL, (ushort)0, false),
            Mnemonic.Fldpi => (0xC90FDAA22168C234UL, (ushort)0x4000, true),    // ...C4C6628B
            Mnemonic.Fldl2e => (0xB8AA3B295C17F0BBUL, (ushort)0x3fff, true),   // ...BE87FED0
            Mnemonic.Fldl2t => (0xD49A784BCD1B8AFEUL, (ushort)0x4000, false),  // ...492BF6FF
            Mnemonic.Fldlg2 => (0x9A209A84FBCFF798UL, (ushort)0x3ffd, true),   // ...8F8959AC
            _ => (0xB17217F7D1CF79ABUL, (ushort)0x3ffe, true),                 // ln 2: ...C9E3B398
        };
        bool exact = i.I.Mnemonic is Mnemonic.Fld1 or Mnemonic.Fldz;
        int rc = F80.RoundingControl(c.Fpu);
        bool up = !exact && (rc == 2 || (rc == 0 && half)); // all positive: "up" and "toward +inf" agree
        Push(c.Fpu, new Float80 { Mantissa = up ? trunc + 1 : trunc, SignExp = se });
    }

    static void Fchs(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        if (Underflow(c.Fpu, 0)) return;
        var v = St(c.Fpu, 0);
        v.SignExp ^= 0x8000;
        SetSt(c.Fpu, 0, v);
        c.Fpu.StatusWord &= unchecked((ushort)~C1);
    }

    static void Fabs(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        if (Underflow(c.Fpu, 0)) return;
        var v = St(c.Fpu, 0);
        v.SignExp &= 0x7fff;
        SetSt(c.Fpu, 0, v);
        c.Fpu.StatusWord &= unchecked((ushort)~C1);
    }

    static void Fcmov(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
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
        // An empty operand is a stack underflow whether or not the move happens; unmasked, ST(0) is left alone.
        var f = c.Fpu;
        int src = StIndex(i.I.Op1Register);
        if ((f.ControlWord & IE) == 0 && (Empty(f, Phys(f, src)) || Empty(f, Phys(f, 0))))
        {
            f.StatusWord = (ushort)((f.StatusWord | IE | SF) & ~C1);
            return;
        }
        if (Underflow(f, src)) return;
        if (take) SetSt(f, 0, St(f, src));
    }

    // ---- control ----

    static void Fnstcw(CpuState c, ref Insn i) => c.Mem.Write16(Ea(c, ref i), c.Fpu.ControlWord);
    // Reserved bits 7 and 13..15 read back as zero, bit 6 as one.
    static void Fldcw(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        c.Fpu.ControlWord = (ushort)((c.Mem.Read16(Ea(c, ref i)) & 0x1f3f) | 0x40);
    }

    static void Fnstsw(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        ushort sw = f.StoredStatus;
        if (i.I.Op0Kind == OpKind.Register) SetReg(c, i.I.Op0Register, sw);
        else c.Mem.Write16(Ea(c, ref i), sw);
    }

    static void Fninit(CpuState c, ref Insn i)
    {
        // FNINIT leaves the data registers alone (FXAM of an empty register still shows their sign).
        c.Fpu.Initialize();
    }
    static void Fnclex(CpuState c, ref Insn i) => c.Fpu.StatusWord &= 0x7f00; // keeps C0..C3 and TOP
    static void Nop(CpuState c, ref Insn i) { }
    /// <summary>FWAIT, FNOP and the waiting forms of the 8087/80287 controls: nothing but the check for a pending exception.</summary>
    static void Wait(CpuState c, ref Insn i) => X87Unmasked.Diverted(c, ref i);

    // The waiting forms of the control instructions: the check, then what their no-wait forms do.
    static void Fstcw(CpuState c, ref Insn i) { if (!X87Unmasked.Diverted(c, ref i)) Fnstcw(c, ref i); }
    static void Fstsw(CpuState c, ref Insn i) { if (!X87Unmasked.Diverted(c, ref i)) Fnstsw(c, ref i); }
    static void Finit(CpuState c, ref Insn i) { if (!X87Unmasked.Diverted(c, ref i)) Fninit(c, ref i); }
    static void Fclex(CpuState c, ref Insn i) { if (!X87Unmasked.Diverted(c, ref i)) Fnclex(c, ref i); }
    static void Ffree(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        SetTag(c.Fpu, Phys(c.Fpu, StIndex(i.I.Op0Register)), 3);
        if (i.I.Mnemonic == Mnemonic.Ffreep) Pop(c.Fpu);
    }
    // Both clear C1 (a stack fault before them may have set it).
    static void Fincstp(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        c.Fpu.Top = (c.Fpu.Top + 1) & 7;
        c.Fpu.StatusWord &= unchecked((ushort)~C1);
    }
    static void Fdecstp(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        c.Fpu.Top = (c.Fpu.Top - 1) & 7;
        c.Fpu.StatusWord &= unchecked((ushort)~C1);
    }

    // ---- FXSAVE / FXRSTOR: the 512-byte x87 + SSE image ----

    const int WrittenBytes = 416;

    static void Fxsave(CpuState c, ref Insn i)
    {
        ulong a = AlignedArea(c, ref i, 16, "FXSAVE");
        Span<byte> img = stackalloc byte[FxImage.Size];
        FxImage.Save(c, img);
        // Bytes 416-511 are reserved or left to software: the processor does not write them.
        c.Mem.Write8(a + FxImage.Size - 1, c.Mem.Read8(a + FxImage.Size - 1)); // the whole area writable before a byte changes
        c.Mem.WriteBytes(a, img[..WrittenBytes]);
    }

    static void Fxrstor(CpuState c, ref Insn i)
    {
        ulong a = AlignedArea(c, ref i, 16, "FXSAVE");
        Span<byte> img = stackalloc byte[FxImage.Size];
        c.Mem.ReadBytes(a, img);
        if ((FxImage.Mxcsr(img) & 0xffff_0000) != 0) throw new CpuFault(FaultKind.GeneralProtection, i.Ip, "FXRSTOR with reserved MXCSR bits set");
        FxImage.Restore(c, img);
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
        if (X87Unmasked.Diverted(c, ref i)) return;
        var f = c.Fpu;
        var m = i.I.Mnemonic;
        bool pop = m is Mnemonic.Faddp or Mnemonic.Fsubp or Mnemonic.Fsubrp or Mnemonic.Fmulp or Mnemonic.Fdivp or Mnemonic.Fdivrp;
        int dest = 0;
        Float80 src;
        bool memoryDenormal = false;
        if (i.I.Op0Kind == OpKind.Memory || (i.I.OpCount > 1 && i.I.Op1Kind == OpKind.Memory))
        {
            if (Underflow(f, 0)) return;
            if (m is Mnemonic.Fiadd or Mnemonic.Fisub or Mnemonic.Fisubr or Mnemonic.Fimul or Mnemonic.Fidiv or Mnemonic.Fidivr)
            {
                ulong a = Ea(c, ref i);
                src = F80.FromInt64(i.MemBits == 16 ? (short)c.Mem.Read16(a) : (int)c.Mem.Read32(a));
            }
            else src = LoadMem(c, ref i, out memoryDenormal);
        }
        else
        {
            int d = i.I.OpCount > 0 ? StIndex(i.I.Op0Register) : 1;
            int s = i.I.OpCount > 1 ? StIndex(i.I.Op1Register) : 0;
            dest = d;
            if (Underflow(f, s, d))
            {
                if (pop) Pop(f);
                return;
            }
            src = St(f, s);
        }
        var dv = St(f, dest);
        bool denormal = !F80.IsNaN(dv) && !F80.IsNaN(src) && (memoryDenormal || F80.IsDenormal(dv) || F80.IsDenormal(src));
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
        // A denormal operand is reported unless invalid or divide-by-zero takes precedence.
        if (denormal && (r.Exceptions & (IE | F80Arith.ZE)) == 0) f.StatusWord |= DE;
        SetSt(f, dest, r.Value);
        Complete(f, r);
        if (pop) Pop(f);
    }

    static void Fsqrt(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        if (Underflow(c.Fpu, 0)) return;
        var v = St(c.Fpu, 0);
        if (F80.IsDenormal(v) && !F80.Sign(v)) c.Fpu.StatusWord |= DE; // a negative one is invalid instead
        var r = F80Arith.Sqrt(v, c.Fpu.ControlWord);
        SetSt(c.Fpu, 0, r.Value);
        Complete(c.Fpu, r);
    }

    static void Frndint(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        if (Underflow(c.Fpu, 0)) return;
        var v = St(c.Fpu, 0);
        if (F80.IsDenormal(v)) c.Fpu.StatusWord |= DE;
        var r = F80Arith.RoundToInt(v, c.Fpu.ControlWord);
        SetSt(c.Fpu, 0, r.Value);
        Complete(c.Fpu, r);
    }
}
