using Iced.Intel;
using static LegoEmu.Tests.Conformance.StateLayout;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// The semantics the generic operand generator does not know: values that keep a case from faulting
/// (divide errors, out-of-area bit strings, unmasked x87 exceptions) and values that make it
/// interesting (shift counts around the width, compare-exchange hits).
/// </summary>
static class CaseConstraints
{
    public static void Apply(CaseBuilder b)
    {
        switch (b.Mnemonic)
        {
            case Mnemonic.Div or Mnemonic.Idiv: Divide(b); break;
            case Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc: BitOffset(b); break;
            case Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar or Mnemonic.Rol or Mnemonic.Ror or Mnemonic.Rcl
                or Mnemonic.Rcr or Mnemonic.Shld or Mnemonic.Shrd:
                ShiftCount(b);
                break;
            case Mnemonic.Enter: Enter(b); break;
            case Mnemonic.Leave: Leave(b); break;
            case Mnemonic.Popf or Mnemonic.Popfq: Popf(b); break;
            case Mnemonic.Cmpxchg: Cmpxchg(b); break;
            case Mnemonic.Cmpxchg8b or Mnemonic.Cmpxchg16b: CmpxchgWide(b); break;
            case Mnemonic.Ldmxcsr or Mnemonic.Vldmxcsr: b.State.SetMem(b.Ea, 4, (ulong)b.R.Next(0x10000)); break;
            // Exceptions stay masked: an unmasked one would trap in the driver's register dump.
            case Mnemonic.Fldcw: b.State.SetMem(b.Ea, 2, (ulong)b.R.Next(0x10000) | 0x3f); break;
            case Mnemonic.Fldenv or Mnemonic.Frstor: FpuEnvironment(b); break;
            case Mnemonic.Bextr: BitFieldControl(b, (uint)b.R.Next(72) | (uint)b.R.Next(72) << 8); break;
            case Mnemonic.Bzhi: BitFieldControl(b, (ulong)b.R.Next(b.R.Next(2) == 0 ? 72 : 256)); break;
            case Mnemonic.Psllw or Mnemonic.Pslld or Mnemonic.Psllq or Mnemonic.Psrlw or Mnemonic.Psrld or Mnemonic.Psrlq
                or Mnemonic.Psraw or Mnemonic.Psrad:
                VectorShiftCount(b);
                break;
            case Mnemonic.Pslldq or Mnemonic.Psrldq: SetImmediate(b, b.R.Next(4) == 0 ? b.R.Next(256) : b.R.Next(21)); break;
            // Legacy-encoded compares define predicates 0..7 only; bits 7:3 of imm8 are reserved.
            case Mnemonic.Cmpps or Mnemonic.Cmppd or Mnemonic.Cmpss or Mnemonic.Cmpsd: SetImmediate(b, b.R.Next(8)); break;
            // VEX compares define all 32 predicates.
            case Mnemonic.Vcmpps or Mnemonic.Vcmppd or Mnemonic.Vcmpss or Mnemonic.Vcmpsd: SetImmediate(b, b.R.Next(32)); break;
        }
    }

    /// <summary>
    /// An environment image (14 or 28 bytes; FRSTOR's 94/108 start with one): control word with all
    /// exceptions masked, status word without the ES/B summary bits, which would make the next
    /// waiting x87 instruction trap.
    /// </summary>
    static void FpuEnvironment(CaseBuilder b)
    {
        int stride = b.MemBytes is 14 or 94 ? 2 : 4;
        b.State.SetMem(b.Ea, 2, (ulong)b.R.Next(0x10000) | 0x3f);
        b.State.SetMem(b.Ea + (ulong)stride, 2, (ulong)b.R.Next(0x10000) & 0x7f7f);
    }

    /// <summary>
    /// BEXTR's start/length and BZHI's index (the last operand, a register) mostly inside or just beyond the
    /// operand, where the results differ; random upper bits must not matter, and now and then all bits are random.
    /// </summary>
    static void BitFieldControl(CaseBuilder b, ulong low)
    {
        var control = b.Ops[^1];
        if (b.R.Next(5) == 0) return;
        ulong upper = b.R.Next(2) == 0 ? 0 : ValuePools.Random64(b.R) & ~0xffffUL;
        b.State.Set(control.Reg, (upper | low) & (control.Bits == 64 ? ulong.MaxValue : 0xffff_ffffUL));
    }

    static Operand? Immediate(CaseBuilder b) => b.Ops.LastOrDefault(o => o.As == OpKind.Immediate32);

    static void SetImmediate(CaseBuilder b, long value)
    {
        var imm = Immediate(b);
        if (imm is not null) imm.Imm = value;
    }

    /// <summary>
    /// Divisor and dividend are chosen through the quotient, so the quotient always fits and the
    /// division never faults; divide faults have their own tests.
    /// </summary>
    static void Divide(CaseBuilder b)
    {
        var divisor = b.Ops[0];
        int w = divisor.Bits;
        if (divisor.As == OpKind.Register)
        {
            // The dividend lives in AX (8-bit) or rDX:rAX: a divisor register overlapping it is a different test.
            int i = CaseState.GprIndex(divisor.Reg);
            if (i == 0 || (i == 2 && w > 8)) throw new RetryCase();
        }
        var r = b.R;
        bool signed = b.Mnemonic == Mnemonic.Idiv;
        ulong mask = ValuePools.Mask(w);
        Int128 n;
        if (!signed)
        {
            ulong d = ValuePools.Int(r, w);
            if (d == 0) d = 1 + ((ulong)r.Next(1000) & mask);
            ulong q = ValuePools.Int(r, w);
            ulong rem = (ulong)(r.NextInt64() & long.MaxValue) % d;
            if (r.Next(4) == 0) rem = d - 1;
            var un = (UInt128)q * d + rem;
            n = (Int128)un;
            b.WriteValue(divisor, d);
        }
        else
        {
            long d = Sext(ValuePools.Int(r, w), w);
            if (d == 0) d = r.Next(2) == 0 ? 1 : -1;
            long q = Sext(ValuePools.Int(r, w), w);
            Int128 n0 = (Int128)q * d;
            Int128 absD = d < 0 ? -(Int128)d : d;
            Int128 rem = (Int128)(ulong)(r.NextInt64() & long.MaxValue) % absD;
            if (r.Next(4) == 0) rem = absD - 1;
            if (n0 < 0 || (n0 == 0 && r.Next(2) == 0)) rem = -rem;
            n = n0 + rem;
            // Truncating division must give back q, and the dividend must fit in twice the width.
            // Beyond 32 bits the dividend cannot outgrow the 128-bit rDX:rAX pair (|q*d| < 2^126).
            if (n / d != q || (w < 64 && (n >= (Int128)1 << (2 * w - 1) || n < -((Int128)1 << (2 * w - 1))))) throw new RetryCase();
            b.WriteValue(divisor, (ulong)d & mask);
        }
        var un128 = (UInt128)n;
        if (w == 8)
        {
            b.State.Set(Register.AX, (ulong)(un128 & 0xffff));
        }
        else
        {
            b.State.Set(Acc(w, 0), (ulong)(un128 & mask));
            b.State.Set(Acc(w, 2), (ulong)((un128 >> w) & mask));
        }
    }

    static Register Acc(int w, int index) => w switch
    {
        16 => Register.AX + index,
        32 => Register.EAX + index,
        _ => Register.RAX + index,
    };

    static long Sext(ulong v, int bits) => (long)(v << (64 - bits)) >> (64 - bits);

    /// <summary>
    /// A register bit offset into memory addresses a bit string that may start far before or after the
    /// operand; it is kept inside the memory area, both sides of the operand included.
    /// </summary>
    static void BitOffset(CaseBuilder b)
    {
        var dst = b.Ops[0];
        var off = b.Ops[1];
        if (off.As != OpKind.Register || dst.As != OpKind.Memory) return;
        int w = dst.Bits;
        long below = (long)(b.Ea - MemArea) * 8;
        long above = (long)(MemArea + MemSize - b.Ea) * 8 - w;
        long lo = -below, hi = above;
        lo = (lo + w - 1) / w * w; // whole operands only: the access is operand-sized and aligned to the operand size
        long value = b.R.Next(4) switch
        {
            0 => b.R.Next(w),
            1 => new long[] { 0, w - 1, w, w + 1, -1, -w, -w - 1, 2 * w - 1 }[b.R.Next(8)],
            _ => b.R.NextInt64(lo, hi),
        };
        value = Math.Clamp(value, lo, hi);
        long minSigned = -(1L << (w - 1)), maxSigned = w == 64 ? long.MaxValue : (1L << (w - 1)) - 1;
        value = Math.Clamp(value, minSigned, maxSigned);
        b.State.Set(off.Reg, (ulong)value & ValuePools.Mask(w));
    }

    static void ShiftCount(CaseBuilder b)
    {
        int w = b.Ops[0].Bits;
        byte count = ValuePools.ShiftCount(b.R, w);
        var last = b.Ops[^1];
        if (last.As == OpKind.Register && last.Reg == Register.CL) b.State.Set(Register.CL, count);
        else if (last.As == OpKind.Immediate32 && last.Kind == OpCodeOperandKind.imm8) last.Imm = count;
    }

    /// <summary>ENTER copies frame pointers from [RBP-8*level]: RBP points into the memory area and levels stay small.</summary>
    static void Enter(CaseBuilder b)
    {
        b.Ops[0].Imm = b.R.Next(3) == 0 ? 0 : b.R.Next(65);
        b.Ops[1].Imm = b.R.Next(5);
        b.State.SetFull(5, Anchor + (ulong)(8 * b.R.Next(9)));
    }

    static void Leave(CaseBuilder b)
    {
        b.State.SetFull(5, Anchor + (ulong)(8 * b.R.Next(-8, 9)) + (ulong)(b.R.Next(4) == 0 ? b.R.Next(1, 8) : 0));
    }

    /// <summary>
    /// The popped image: arithmetic flags, DF and ID freely; IF, IOPL and reserved bits too, which
    /// user mode cannot change. TF, NT, AC (alignment checks are on under Linux), RF and the
    /// virtual-8086 bits stay clear.
    /// </summary>
    static void Popf(CaseBuilder b)
    {
        const ulong never = 1UL << 8 | 1UL << 14 | 1UL << 16 | 1UL << 17 | 1UL << 18 | 1UL << 19 | 1UL << 20;
        ulong v = ValuePools.Random64(b.R) & ~never;
        int size = b.Form.Code == Code.Popfw ? 2 : 8;
        b.State.SetMem(Anchor, size, v);
    }

    static void Cmpxchg(CaseBuilder b)
    {
        if (b.R.Next(2) == 0) return;
        var dst = b.Ops[0];
        b.State.Set(Acc8(dst.Bits), b.ReadValue(dst));
    }

    static Register Acc8(int w) => w == 8 ? Register.AL : Acc(w, 0);

    static void CmpxchgWide(CaseBuilder b)
    {
        if (b.R.Next(2) == 0) return;
        if (b.Mnemonic == Mnemonic.Cmpxchg8b)
        {
            ulong m = b.State.GetMem(b.Ea, 8);
            b.State.Set(Register.EAX, (uint)m);
            b.State.Set(Register.EDX, m >> 32);
        }
        else
        {
            b.State.SetFull(0, b.State.GetMem(b.Ea, 8));
            b.State.SetFull(2, b.State.GetMem(b.Ea + 8, 8));
        }
    }

    /// <summary>Counts from an XMM register or memory use all 64 low bits: small ones, and now and then huge ones.</summary>
    static void VectorShiftCount(CaseBuilder b)
    {
        var count = b.Ops[1];
        ulong v = b.R.Next(4) == 0 ? ValuePools.Random64(b.R) : (ulong)b.R.Next(70);
        if (count.As == OpKind.Immediate32) count.Imm = b.R.Next(4) == 0 ? b.R.Next(256) : b.R.Next(70);
        else if (count.As == OpKind.Memory) b.State.SetMem(b.Ea, 8, v);
        else if (count.Reg.IsMM()) b.State.SetSt(count.Reg - Register.MM0, (v, b.State.GetSt(count.Reg - Register.MM0).SignExp));
        else System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b.State.Xmm(count.Reg - Register.XMM0), v);
    }
}
