using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>Multiplication and division: MUL, IMUL (one, two and three operands), DIV, IDIV.</summary>
static unsafe class InstMulDiv
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Mul, &Mul);
        HandlerTable.Set(Mnemonic.Imul, &Imul);
        HandlerTable.Set(Mnemonic.Div, &Div);
        HandlerTable.Set(Mnemonic.Idiv, &Idiv);
    }

    static void Mul(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong src = Read(c, ref i, 0, bits);
        ulong lo, hi;
        switch (bits)
        {
            case 8:
            {
                uint r = (uint)(byte)c.R[0] * (uint)src;
                c.R[0] = (c.R[0] & ~0xffffUL) | (ushort)r;
                lo = (byte)r; hi = (byte)(r >> 8);
                break;
            }
            case 16:
            {
                uint r = (uint)(ushort)c.R[0] * (uint)src;
                lo = (ushort)r; hi = (ushort)(r >> 16);
                c.R[0] = (c.R[0] & ~0xffffUL) | lo;
                c.R[2] = (c.R[2] & ~0xffffUL) | hi;
                break;
            }
            case 32:
            {
                ulong r = (ulong)(uint)c.R[0] * src;
                lo = (uint)r; hi = r >> 32;
                c.R[0] = lo; c.R[2] = hi;
                break;
            }
            default:
                hi = Math.BigMul(c.R[0], src, out lo);
                c.R[0] = lo; c.R[2] = hi;
                break;
        }
        c.SetFlagsAux(bits, lo, hi != 0 ? Rf.CF | Rf.OF : 0);
    }

    static void Imul(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        int ops = i.I.OpCount;
        if (ops == 1)
        {
            long src = SignExtend(Read(c, ref i, 0, bits), bits);
            bool overflow;
            ulong lo;
            switch (bits)
            {
                case 8:
                {
                    int r = (sbyte)c.R[0] * (int)src;
                    c.R[0] = (c.R[0] & ~0xffffUL) | (ushort)r;
                    lo = (byte)r; overflow = r != (sbyte)r;
                    break;
                }
                case 16:
                {
                    int r = (short)c.R[0] * (int)src;
                    c.R[0] = (c.R[0] & ~0xffffUL) | (ushort)r;
                    c.R[2] = (c.R[2] & ~0xffffUL) | (ushort)(r >> 16);
                    lo = (ushort)r; overflow = r != (short)r;
                    break;
                }
                case 32:
                {
                    long r = (int)c.R[0] * src;
                    c.R[0] = (uint)r; c.R[2] = (uint)(r >> 32);
                    lo = (uint)r; overflow = r != (int)r;
                    break;
                }
                default:
                {
                    long hi = Math.BigMul((long)c.R[0], src, out long l);
                    c.R[0] = (ulong)l; c.R[2] = (ulong)hi;
                    lo = (ulong)l; overflow = hi != (l >> 63);
                    break;
                }
            }
            c.SetFlagsAux(bits, lo, overflow ? Rf.CF | Rf.OF : 0);
            return;
        }
        long a = SignExtend(Read(c, ref i, ops == 2 ? 0 : 1, bits), bits);
        long b = SignExtend(Read(c, ref i, ops == 2 ? 1 : 2, bits), bits);
        long res;
        bool of;
        if (bits == 64)
        {
            long hi = Math.BigMul(a, b, out res);
            of = hi != (res >> 63);
        }
        else
        {
            long full = a * b;
            res = SignExtend((ulong)full, bits);
            of = res != full;
        }
        ulong r64 = (ulong)res & Mask(bits);
        SetReg(c, i.I.Op0Register, r64);
        c.SetFlagsAux(bits, r64, of ? Rf.CF | Rf.OF : 0);
    }

    static CpuFault DivideError(ref Insn i) => new(FaultKind.DivideError, i.Ip, "divide error");

    static void Div(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong d = Read(c, ref i, 0, bits);
        if (d == 0) throw DivideError(ref i);
        switch (bits)
        {
            case 8:
            {
                uint n = (ushort)c.R[0];
                uint q = n / (uint)d, r = n % (uint)d;
                if (q > 0xff) throw DivideError(ref i);
                c.R[0] = (c.R[0] & ~0xffffUL) | (r << 8) | q;
                break;
            }
            case 16:
            {
                uint n = ((uint)(ushort)c.R[2] << 16) | (ushort)c.R[0];
                uint q = n / (uint)d, r = n % (uint)d;
                if (q > 0xffff) throw DivideError(ref i);
                c.R[0] = (c.R[0] & ~0xffffUL) | q;
                c.R[2] = (c.R[2] & ~0xffffUL) | r;
                break;
            }
            case 32:
            {
                ulong n = ((ulong)(uint)c.R[2] << 32) | (uint)c.R[0];
                ulong q = n / d, r = n % d;
                if (q > 0xffff_ffff) throw DivideError(ref i);
                c.R[0] = q; c.R[2] = r;
                break;
            }
            default:
            {
                ulong hi = c.R[2];
                if (hi >= d) throw DivideError(ref i);
                if (hi == 0)
                {
                    // The common case (RDX cleared before the division): one hardware division, no 128-bit arithmetic.
                    ulong lo = c.R[0];
                    c.R[0] = lo / d;
                    c.R[2] = lo % d;
                    break;
                }
                c.R[0] = DivRem128(hi, c.R[0], d, out ulong r);
                c.R[2] = r;
                break;
            }
        }
    }

    static void Idiv(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        long d = SignExtend(Read(c, ref i, 0, bits), bits);
        if (d == 0) throw DivideError(ref i);
        switch (bits)
        {
            case 8:
            {
                int n = (short)c.R[0];
                int q = n / (int)d, r = n % (int)d;
                if (q != (sbyte)q) throw DivideError(ref i);
                c.R[0] = (c.R[0] & ~0xffffUL) | ((ulong)(byte)r << 8) | (byte)q;
                break;
            }
            case 16:
            {
                int n = (int)(((uint)(ushort)c.R[2] << 16) | (ushort)c.R[0]);
                int q = n / (int)d, r = n % (int)d;
                if (q != (short)q) throw DivideError(ref i);
                c.R[0] = (c.R[0] & ~0xffffUL) | (ushort)q;
                c.R[2] = (c.R[2] & ~0xffffUL) | (ushort)r;
                break;
            }
            case 32:
            {
                long n = (long)(((ulong)(uint)c.R[2] << 32) | (uint)c.R[0]);
                if (n == long.MinValue && d == -1) throw DivideError(ref i);
                long q = n / d, r = n % d;
                if (q != (int)q) throw DivideError(ref i);
                c.R[0] = (uint)q; c.R[2] = (uint)r;
                break;
            }
            default:
            {
                long lo = (long)c.R[0];
                if ((long)c.R[2] == lo >> 63 && !(lo == long.MinValue && d == -1))
                {
                    // RDX is RAX's sign (CQO): a 64-bit dividend, one hardware division.
                    c.R[0] = (ulong)(lo / d);
                    c.R[2] = (ulong)(lo % d);
                    break;
                }
                // On magnitudes: |RDX:RAX| / |d| must fit 64 bits, and the signed quotient 64 bits with its sign.
                ulong nhi = c.R[2], nlo = c.R[0];
                bool nneg = (long)nhi < 0;
                if (nneg)
                {
                    nlo = 0 - nlo;
                    nhi = ~nhi + (nlo == 0 ? 1UL : 0);
                }
                ulong ud = d < 0 ? 0 - (ulong)d : (ulong)d;
                if (nhi >= ud) throw DivideError(ref i);
                ulong uq = DivRem128(nhi, nlo, ud, out ulong ur);
                bool qneg = nneg != d < 0;
                if (uq > (qneg ? 1UL << 63 : long.MaxValue)) throw DivideError(ref i);
                c.R[0] = qneg ? 0 - uq : uq;
                c.R[2] = nneg ? 0 - ur : ur;
                break;
            }
        }
    }

    /// <summary>
    /// hi:lo / d for hi &lt; d (the quotient fits 64 bits), in 64-bit steps (Hacker's Delight, divlu): UInt128's
    /// division takes its operands by value, which ReadyToRun cannot precompile, so each process would JIT it.
    /// </summary>
    internal static ulong DivRem128(ulong hi, ulong lo, ulong d, out ulong rem)
    {
        const ulong b = 1UL << 32;
        int s = System.Numerics.BitOperations.LeadingZeroCount(d);
        d <<= s;
        ulong dn1 = d >> 32, dn0 = d & 0xffff_ffff;
        ulong un32 = s == 0 ? hi : (hi << s) | (lo >> (64 - s));
        ulong un10 = lo << s;
        ulong un1 = un10 >> 32, un0 = un10 & 0xffff_ffff;
        ulong q1 = un32 / dn1, rhat = un32 - q1 * dn1;
        while (q1 >= b || q1 * dn0 > b * rhat + un1)
        {
            q1--;
            rhat += dn1;
            if (rhat >= b) break;
        }
        ulong un21 = un32 * b + un1 - q1 * d;
        ulong q0 = un21 / dn1;
        rhat = un21 - q0 * dn1;
        while (q0 >= b || q0 * dn0 > b * rhat + un0)
        {
            q0--;
            rhat += dn1;
            if (rhat >= b) break;
        }
        rem = (un21 * b + un0 - q0 * d) >> s;
        return q1 * b + q0;
    }
}
