using System.Numerics;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Fpu;

/// <summary>
/// x87 arithmetic on 80-bit values in software: exact intermediate results in 128-bit integers, one
/// rounding to the precision-control width (24, 53 or 64 bits) in the rounding-control direction.
/// </summary>
public static class F80Arith
{
    /// <summary>Exception bits the operation raised (x87 status word positions: IE 1, DE 2, ZE 4, OE 8, UE 16, PE 32).</summary>
    public struct Result
    {
        public Float80 Value;
        public ushort Exceptions;
        /// <summary>C1: the significand was rounded up.</summary>
        public bool RoundedUp;
    }

    public const ushort IE = 1, ZE = 4, OE = 8, UE = 16, PE = 32;

    static int PrecisionBits(ushort cw) => ((cw >> 8) & 3) switch { 0 => 24, 2 => 53, _ => 64 };
    static int Rc(ushort cw) => (cw >> 10) & 3;

    /// <summary>Splits a finite non-zero value into sign, unbiased exponent of bit 63, and a normalised significand.</summary>
    static void Unpack(in Float80 v, out bool neg, out int exp, out ulong mant)
    {
        neg = F80.Sign(v);
        mant = v.Mantissa;
        exp = (F80.Exp(v) == 0 ? 1 : F80.Exp(v)) - F80.Bias;
        int lz = BitOperations.LeadingZeroCount(mant);
        mant <<= lz;
        exp -= lz;
    }

    static Result Value(Float80 v, ushort ex = 0) => new() { Value = v, Exceptions = ex };
    static Result Invalid() => Value(F80.Indefinite, IE);

    static Float80 Quiet(in Float80 v) => new() { Mantissa = v.Mantissa | (1UL << 62), SignExp = v.SignExp };

    /// <summary>NaN operands propagate: the one with the larger significand wins, made quiet.</summary>
    static bool PropagateNaN(in Float80 a, in Float80 b, out Result r)
    {
        bool an = F80.IsNaN(a), bn = F80.IsNaN(b);
        if (!an && !bn) { r = default; return false; }
        bool signalling = (an && (a.Mantissa & (1UL << 62)) == 0) || (bn && (b.Mantissa & (1UL << 62)) == 0);
        // Two NaNs: the larger significand (so a QNaN beats an SNaN); equal ones: the positive NaN.
        Float80 pick = an && bn
            ? (a.Mantissa << 1) != (b.Mantissa << 1) ? ((a.Mantissa << 1) > (b.Mantissa << 1) ? a : b) : (F80.Sign(a) ? b : a)
            : an ? a : b;
        r = Value(Quiet(pick), signalling ? IE : (ushort)0);
        return true;
    }

    /// <summary>Rounds sig * 2^e2 (sig != 0) to the target precision and packs it.</summary>
    static Result Round(bool neg, U128 sig, int e2, ushort cw)
    {
        int p = PrecisionBits(cw);
        int rc = Rc(cw);
        int lead = 127 - (int)U128.LeadingZeroCount(sig);
        int exp = lead + e2; // unbiased exponent of the leading bit
        int biased = exp + F80.Bias;
        int shift = lead - (p - 1);
        if (biased < 1) shift += 1 - biased; // denormal: fewer significant bits
        U128 kept;
        bool inexact, up;
        if (shift <= 0)
        {
            kept = sig << -shift;
            inexact = false;
            up = false;
        }
        else
        {
            U128 rem;
            if (shift >= 128) { kept = 0; rem = sig; }
            else { kept = sig >> shift; rem = sig & ((U128.One << shift) - 1); }
            inexact = rem != 0;
            U128 half = shift > 128 ? 0 : U128.One << (shift - 1);
            up = rc switch
            {
                0 => shift <= 128 && (rem > half || (rem == half && (kept & 1) != 0)),
                1 => neg && inexact,
                2 => !neg && inexact,
                _ => false,
            };
            if (up) kept++;
        }
        ushort ex = inexact ? PE : (ushort)0;
        if (biased < 1)
        {
            // Denormal (or rounded up into the smallest normal): the exponent field is 0 or 1.
            ulong m = (ulong)(kept << (64 - p));
            int field = (m & F80.IntBit) != 0 ? 1 : 0;
            if (inexact) ex |= UE;
            return new Result { Value = new Float80 { Mantissa = m, SignExp = (ushort)((neg ? 0x8000 : 0) | field) }, Exceptions = ex, RoundedUp = up };
        }
        if (kept >> p != 0) { kept >>= 1; biased++; }
        if (biased >= F80.MaxExp)
        {
            bool toInf = rc == 0 || (rc == 1 && neg) || (rc == 2 && !neg);
            var v = toInf ? F80.Infinity(neg)
                          : new Float80 { Mantissa = ulong.MaxValue << (64 - p), SignExp = (ushort)((neg ? 0x8000 : 0) | (F80.MaxExp - 1)) };
            return new Result { Value = v, Exceptions = (ushort)(OE | PE), RoundedUp = toInf };
        }
        return new Result
        {
            Value = new Float80 { Mantissa = (ulong)(kept << (64 - p)), SignExp = (ushort)((neg ? 0x8000 : 0) | biased) },
            Exceptions = ex,
            RoundedUp = up,
        };
    }

    public static Result Add(in Float80 a, in Float80 b, ushort cw, bool subtract = false)
    {
        if (F80.IsUnsupported(a) || F80.IsUnsupported(b)) return Invalid();
        // A NaN propagates with its own sign: subtraction must not flip it.
        if (PropagateNaN(a, b, out var nan)) return nan;
        var bb = b;
        if (subtract) bb.SignExp ^= 0x8000;
        bool ai = F80.IsInf(a), bi = F80.IsInf(bb);
        if (ai || bi)
        {
            if (ai && bi && F80.Sign(a) != F80.Sign(bb)) return Invalid();
            return Value(ai ? a : bb);
        }
        bool az = a.Mantissa == 0, bz = bb.Mantissa == 0;
        if (az && bz)
        {
            bool neg = F80.Sign(a) && F80.Sign(bb) || (F80.Sign(a) != F80.Sign(bb) && Rc(cw) == 1);
            return Value(F80.Zero(neg));
        }
        if (az) return Round(F80.Sign(bb), Sig(bb, out int eb0), eb0, cw);
        if (bz) return Round(F80.Sign(a), Sig(a, out int ea0), ea0, cw);
        Unpack(a, out bool sa, out int ea, out ulong ma);
        Unpack(bb, out bool sb, out int eb, out ulong mb);
        // Significands at bit 126 leave bit 127 for the carry; the smaller one is shifted with a sticky bit.
        U128 x = (U128)ma << 63, y = (U128)mb << 63;
        int e = ea;
        if (ea < eb || (ea == eb && ma < mb)) { (x, y) = (y, x); (sa, sb) = (sb, sa); e = eb; (ea, eb) = (eb, ea); }
        int d = ea - eb;
        if (d > 0)
        {
            bool sticky = d >= 127 || (y & ((U128.One << d) - 1)) != 0;
            y = d >= 127 ? 0 : y >> d;
            if (sticky) y |= 1;
        }
        U128 s = sa == sb ? x + y : x - y;
        if (s == 0) return Value(F80.Zero(Rc(cw) == 1));
        return Round(sa, s, e - 126, cw);
    }

    /// <summary>The significand as an integer with its power-of-two scale (value = sig * 2^e2).</summary>
    static U128 Sig(in Float80 v, out int e2)
    {
        Unpack(v, out _, out int e, out ulong m);
        e2 = e - 63;
        return m;
    }

    public static Result Mul(in Float80 a, in Float80 b, ushort cw)
    {
        if (F80.IsUnsupported(a) || F80.IsUnsupported(b)) return Invalid();
        if (PropagateNaN(a, b, out var nan)) return nan;
        bool neg = F80.Sign(a) != F80.Sign(b);
        bool ai = F80.IsInf(a), bi = F80.IsInf(b), az = a.Mantissa == 0 && !ai, bz = b.Mantissa == 0 && !bi;
        if (ai || bi) return (az || bz) ? Invalid() : Value(F80.Infinity(neg));
        if (az || bz) return Value(F80.Zero(neg));
        Unpack(a, out _, out int ea, out ulong ma);
        Unpack(b, out _, out int eb, out ulong mb);
        U128 prod = (U128)ma * mb;
        return Round(neg, prod, ea - 63 + eb - 63, cw);
    }

    public static Result Div(in Float80 a, in Float80 b, ushort cw)
    {
        if (F80.IsUnsupported(a) || F80.IsUnsupported(b)) return Invalid();
        if (PropagateNaN(a, b, out var nan)) return nan;
        bool neg = F80.Sign(a) != F80.Sign(b);
        bool ai = F80.IsInf(a), bi = F80.IsInf(b), az = a.Mantissa == 0 && !ai, bz = b.Mantissa == 0 && !bi;
        if (ai && bi) return Invalid();
        if (ai) return Value(F80.Infinity(neg));
        if (bi) return Value(F80.Zero(neg));
        if (bz) return az ? Invalid() : Value(F80.Infinity(neg), ZE);
        if (az) return Value(F80.Zero(neg));
        Unpack(a, out _, out int ea, out ulong ma);
        Unpack(b, out _, out int eb, out ulong mb);
        // Two steps of long division give 127 quotient bits; the remainder becomes the sticky bit.
        U128 num = (U128)ma << 62;
        U128 q1 = num / mb, r1 = num % mb;
        U128 n2 = r1 << 64;
        U128 q2 = n2 / mb, r2 = n2 % mb;
        U128 q = (q1 << 64) | q2;
        if (r2 != 0) q |= 1;
        return Round(neg, q, ea - eb - 62 - 64, cw);
    }

    public static Result Sqrt(in Float80 a, ushort cw)
    {
        if (F80.IsUnsupported(a)) return Invalid();
        if (F80.IsNaN(a)) return Value(Quiet(a), (a.Mantissa & (1UL << 62)) == 0 ? IE : (ushort)0);
        if (a.Mantissa == 0 && !F80.IsInf(a)) return Value(a);
        if (F80.Sign(a)) return Invalid();
        if (F80.IsInf(a)) return Value(a);
        Unpack(a, out _, out int e, out ulong m);
        // value = m * 2^(e-63); scale m by 2^k (k = 63 or 64) so the remaining exponent is even.
        int k = ((e - 63 - 63) & 1) == 0 ? 63 : 64;
        U128 n = (U128)m << k;
        U128 r = ISqrt(n);
        U128 rem = n - r * r;
        bool guard = rem > r;
        bool sticky = rem != 0;
        U128 sig = (r << 2) | (guard ? 2u : 0u) | (sticky ? 1u : 0u);
        return Round(false, sig, (e - 63 - k) / 2 - 2, cw);
    }

    /// <summary>
    /// Floor of the square root, in integers only: host floating point would set sticky flags in the
    /// host MXCSR, which holds the guest's SSE state while it runs.
    /// </summary>
    static U128 ISqrt(U128 n)
    {
        if (n < 2) return n;
        // Newton's iteration from a power of two above the root decreases monotonically to the floor.
        int bits = 128 - (int)U128.LeadingZeroCount(n);
        U128 x = U128.One << ((bits + 1) / 2);
        while (true)
        {
            U128 y = (x + n / x) >> 1;
            if (y >= x) return x;
            x = y;
        }
    }

    /// <summary>FRNDINT: rounds to an integer value in the rounding-control direction.</summary>
    public static Result RoundToInt(in Float80 a, ushort cw)
    {
        if (F80.IsUnsupported(a)) return Invalid();
        if (F80.IsNaN(a)) return Value(Quiet(a), F80.IsSignalling(a) ? IE : (ushort)0);
        if (F80.IsInf(a) || a.Mantissa == 0) return Value(a);
        Unpack(a, out bool neg, out int e, out ulong m);
        if (e >= 63) return Value(a);
        int frac = 63 - e;
        bool inexact = frac >= 64 || (m & ((1UL << frac) - 1)) != 0;
        U128 r = RoundShifted(neg, m, frac, Rc(cw), out bool up);
        ushort ex = inexact ? PE : (ushort)0;
        if (r == 0) return Value(F80.Zero(neg), ex);
        var res = Round(neg, r, 0, (ushort)(cw | 0x300)); // an integer below 2^64 is exact at full precision
        res.Exceptions = ex;
        res.RoundedUp = up; // C1: the magnitude went up
        return res;
    }

    static U128 RoundShifted(bool neg, ulong m, int drop, int rc, out bool up)
    {
        U128 v = m;
        if (drop >= 128)
        {
            up = rc == 1 ? neg : rc == 2 && !neg;
            return up ? 1u : 0u;
        }
        U128 kept = v >> drop, rem = v & ((U128.One << drop) - 1), half = drop == 0 ? 0 : U128.One << (drop - 1);
        bool inexact = rem != 0;
        up = rc switch
        {
            0 => drop > 0 && (rem > half || (rem == half && (kept & 1) != 0)),
            1 => neg && inexact,
            2 => !neg && inexact,
            _ => false,
        };
        return up ? kept + 1 : kept;
    }
}
