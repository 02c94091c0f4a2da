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
                var (q, r) = UInt128.DivRem(new UInt128(hi, c.R[0]), d);
                c.R[0] = (ulong)q;
                c.R[2] = (ulong)r;
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
                var n = (Int128)new UInt128(c.R[2], c.R[0]);
                if (d == -1 && n == Int128.MinValue) throw DivideError(ref i);
                var (q, r) = Int128.DivRem(n, d);
                if (q != (long)q) throw DivideError(ref i);
                c.R[0] = (ulong)(long)q;
                c.R[2] = (ulong)(long)r;
                break;
            }
        }
    }
}
