using System.Numerics;

namespace LegoEmu.Cpu.State;

/// <summary>
/// Flag arithmetic over the lazy representation (last operation, width, result, operands), shared by
/// <see cref="CpuState"/> and by translated code, which keeps the same representation in locals.
/// </summary>
public static class LazyFlags
{
    static ulong SignBit(int bits) => 1UL << (bits - 1);

    /// <summary>
    /// The result of a SUB or CMP, from its operands. Writers of the lazy flags need not store it (translated
    /// code does not: a compare at the end of a loop would pay a subtraction and a store on every iteration for
    /// it), so every reader of a <see cref="FlagOp.Sub"/> state takes it from here, never from the result field.
    /// </summary>
    public static ulong SubResult(int bits, ulong a, ulong b) => (a - b) & (ulong.MaxValue >> (64 - bits));
    static ulong Parity(ulong res) => (BitOperations.PopCount(res & 0xff) & 1) == 0 ? Rf.PF : 0;

    /// <summary>The six arithmetic flags of <paramref name="op"/>; <paramref name="rflagsBits"/> supplies CF for INC/DEC.</summary>
    public static ulong Compute(FlagOp op, int bits, ulong res, ulong a, ulong b, ulong aux, ulong rflagsBits)
    {
        if (op == FlagOp.None) return rflagsBits & Rf.Arith;
        if (op == FlagOp.Sub) res = SubResult(bits, a, b);
        ulong sign = SignBit(bits);
        ulong f = (res == 0 ? Rf.ZF : 0) | ((res & sign) != 0 ? Rf.SF : 0) | Parity(res);
        switch (op)
        {
            case FlagOp.Add:
                if (res < a) f |= Rf.CF;
                if (((a ^ res) & (b ^ res) & sign) != 0) f |= Rf.OF;
                f |= (a ^ b ^ res) & Rf.AF;
                break;
            case FlagOp.Adc:
                if (aux != 0 ? res <= a : res < a) f |= Rf.CF;
                if (((a ^ res) & (b ^ res) & sign) != 0) f |= Rf.OF;
                f |= (a ^ b ^ res) & Rf.AF;
                break;
            case FlagOp.Sub:
                if (a < b) f |= Rf.CF;
                if (((a ^ b) & (a ^ res) & sign) != 0) f |= Rf.OF;
                f |= (a ^ b ^ res) & Rf.AF;
                break;
            case FlagOp.Sbb:
                if (aux != 0 ? a <= b : a < b) f |= Rf.CF;
                if (((a ^ b) & (a ^ res) & sign) != 0) f |= Rf.OF;
                f |= (a ^ b ^ res) & Rf.AF;
                break;
            case FlagOp.Logic:
                break;
            case FlagOp.Inc:
                f |= rflagsBits & Rf.CF;
                if (res == sign) f |= Rf.OF;
                if ((res & 0xf) == 0) f |= Rf.AF;
                break;
            case FlagOp.Dec:
                f |= rflagsBits & Rf.CF;
                if (res == sign - 1) f |= Rf.OF;
                if ((res & 0xf) == 0xf) f |= Rf.AF;
                break;
            case FlagOp.ResultAux:
                f |= aux & (Rf.CF | Rf.OF | Rf.AF);
                break;
        }
        return f;
    }

    /// <summary>CF alone, cheaply for the common operations.</summary>
    public static bool Carry(FlagOp op, int bits, ulong res, ulong a, ulong b, ulong aux, ulong rflagsBits) => op switch
    {
        FlagOp.None => (rflagsBits & Rf.CF) != 0,
        FlagOp.Add => res < a,
        FlagOp.Sub => a < b,
        FlagOp.Logic => false,
        _ => (Compute(op, bits, res, a, b, aux, rflagsBits) & Rf.CF) != 0,
    };

    /// <summary>Evaluates condition code 0..15 (O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G).</summary>
    public static bool Cond(FlagOp op, int bits, ulong res, ulong a, ulong b, ulong aux, ulong rflagsBits, int cc)
    {
        if (op == FlagOp.Sub)
        {
            int sh = 64 - bits;
            long sa = (long)(a << sh) >> sh, sb = (long)(b << sh) >> sh;
            switch (cc)
            {
                case 2: return a < b;
                case 3: return a >= b;
                case 4: return a == b;
                case 5: return a != b;
                case 6: return a <= b;
                case 7: return a > b;
                case 12: return sa < sb;
                case 13: return sa >= sb;
                case 14: return sa <= sb;
                case 15: return sa > sb;
            }
        }
        else if (op == FlagOp.Logic)
        {
            bool neg = (res & SignBit(bits)) != 0;
            switch (cc)
            {
                case 0: return false;
                case 1: return true;
                case 2: return false;
                case 3: return true;
                case 4: return res == 0;
                case 5: return res != 0;
                case 6: return res == 0;
                case 7: return res != 0;
                case 8: return neg;
                case 9: return !neg;
                case 12: return neg;
                case 13: return !neg;
                case 14: return res == 0 || neg;
                case 15: return res != 0 && !neg;
            }
        }
        ulong f = op == FlagOp.None ? rflagsBits : Compute(op, bits, res, a, b, aux, rflagsBits) | (rflagsBits & ~Rf.Arith);
        bool result = (cc >> 1) switch
        {
            0 => (f & Rf.OF) != 0,
            1 => (f & Rf.CF) != 0,
            2 => (f & Rf.ZF) != 0,
            3 => (f & (Rf.CF | Rf.ZF)) != 0,
            4 => (f & Rf.SF) != 0,
            5 => (f & Rf.PF) != 0,
            6 => ((f & Rf.SF) != 0) != ((f & Rf.OF) != 0),
            _ => (f & Rf.ZF) != 0 || (((f & Rf.SF) != 0) != ((f & Rf.OF) != 0)),
        };
        return (cc & 1) != 0 ? !result : result;
    }
}
