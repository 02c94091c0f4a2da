using System.Numerics;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Fpu;

/// <summary>
/// Exact conversions and comparisons for 80-bit extended values, done with integer arithmetic so
/// nothing passes through a 64-bit double. Rounding honours the x87 rounding-control field.
/// </summary>
public static class F80
{
    public const int Bias = 16383;
    public const ushort MaxExp = 0x7fff;
    public const ulong IntBit = 1UL << 63;

    /// <summary>The "real indefinite" quiet NaN the FPU produces for invalid operations.</summary>
    public static Float80 Indefinite => new() { Mantissa = 0xC000_0000_0000_0000, SignExp = 0xffff };
    public static Float80 Zero(bool neg) => new() { Mantissa = 0, SignExp = (ushort)(neg ? 0x8000 : 0) };
    public static Float80 One => new() { Mantissa = IntBit, SignExp = Bias };
    public static Float80 Infinity(bool neg) => new() { Mantissa = IntBit, SignExp = (ushort)((neg ? 0x8000 : 0) | MaxExp) };

    public static bool Sign(in Float80 v) => (v.SignExp & 0x8000) != 0;
    public static int Exp(in Float80 v) => v.SignExp & 0x7fff;
    public static bool IsNaN(in Float80 v) => Exp(v) == MaxExp && (v.Mantissa << 1) != 0;
    public static bool IsInf(in Float80 v) => Exp(v) == MaxExp && (v.Mantissa << 1) == 0;
    public static bool IsZero(in Float80 v) => Exp(v) == 0 && v.Mantissa == 0;

    /// <summary>
    /// Unnormals, pseudo-NaNs and pseudo-infinities: a clear integer bit with a nonzero exponent.
    /// The 387 and later refuse them as operands (invalid operation, indefinite result).
    /// </summary>
    public static bool IsUnsupported(in Float80 v) => Exp(v) != 0 && (v.Mantissa & IntBit) == 0;

    static Float80 Make(bool neg, int exp, ulong mant) => new() { Mantissa = mant, SignExp = (ushort)((neg ? 0x8000 : 0) | exp) };

    // ---- widening: exact ----

    public static Float80 FromDouble(double d)
    {
        ulong bits = BitConverter.DoubleToUInt64Bits(d);
        bool neg = (bits >> 63) != 0;
        int e = (int)((bits >> 52) & 0x7ff);
        ulong frac = bits & ((1UL << 52) - 1);
        if (e == 0x7ff) return Make(neg, MaxExp, IntBit | (frac << 11));
        if (e == 0)
        {
            if (frac == 0) return Zero(neg);
            int lz = BitOperations.LeadingZeroCount(frac);
            return Make(neg, Bias - 1023 + 1 - (lz - 11), frac << lz);
        }
        return Make(neg, e - 1023 + Bias, IntBit | (frac << 11));
    }

    public static Float80 FromSingle(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        bool neg = (bits >> 31) != 0;
        int e = (int)((bits >> 23) & 0xff);
        ulong frac = bits & ((1u << 23) - 1);
        if (e == 0xff) return Make(neg, MaxExp, IntBit | (frac << 40));
        if (e == 0)
        {
            if (frac == 0) return Zero(neg);
            int lz = BitOperations.LeadingZeroCount(frac);
            return Make(neg, Bias - 127 + 1 - (lz - 40), frac << lz);
        }
        return Make(neg, e - 127 + Bias, IntBit | (frac << 40));
    }

    public static Float80 FromInt64(long v)
    {
        if (v == 0) return Zero(false);
        bool neg = v < 0;
        ulong a = neg ? (ulong)(-(v + 1)) + 1 : (ulong)v;
        int lz = BitOperations.LeadingZeroCount(a);
        return Make(neg, Bias + 63 - lz, a << lz);
    }

    // ---- narrowing with rounding ----

    /// <summary>
    /// Rounds <paramref name="mant"/> right by <paramref name="drop"/> bits per rounding control
    /// (0 nearest-even, 1 down, 2 up, 3 toward zero). Returns the kept bits and whether precision was lost.
    /// </summary>
    static ulong RoundShift(ulong mant, int drop, bool neg, int rc, out bool inexact) => RoundShift(mant, drop, neg, rc, out inexact, out _);

    /// <param name="up">Whether the magnitude was rounded up: the x87 reports it in C1.</param>
    static ulong RoundShift(ulong mant, int drop, bool neg, int rc, out bool inexact, out bool up)
    {
        up = false;
        if (drop <= 0) { inexact = false; return mant; }
        ulong kept, rem, half;
        if (drop >= 64)
        {
            kept = 0;
            rem = mant; // everything is dropped
            inexact = mant != 0;
            half = drop == 64 ? IntBit : 0;
            up = rc switch
            {
                0 => drop == 64 && (rem > half),
                1 => neg && inexact,
                2 => !neg && inexact,
                _ => false,
            };
            return up ? 1UL : 0;
        }
        kept = mant >> drop;
        rem = mant & ((1UL << drop) - 1);
        half = 1UL << (drop - 1);
        inexact = rem != 0;
        up = rc switch
        {
            0 => rem > half || (rem == half && (kept & 1) != 0),
            1 => neg && inexact,
            2 => !neg && inexact,
            _ => false,
        };
        return up ? kept + 1 : kept;
    }

    public static int RoundingControl(X87 fpu) => (fpu.ControlWord >> 10) & 3;

    /// <summary>x87 status-word exception bits reported by conversions.</summary>
    public const ushort IE = 1, OE = 8, UE = 16, PE = 32;

    /// <summary>
    /// Converts to an IEEE binary format with <paramref name="fracBits"/> fraction bits and the given
    /// exponent width, reporting what FST m32/m64 reports: IE for a signalling NaN (stored quiet), OE,
    /// UE (tiny after rounding, and inexact), PE, and in <paramref name="up"/> whether the magnitude
    /// was rounded up (C1).
    /// </summary>
    static ulong ToIeee(in Float80 v, int fracBits, int expBits, int rc, out ushort ex, out bool up)
    {
        bool neg = Sign(v);
        int e = Exp(v);
        ulong sign = neg ? 1UL << (fracBits + expBits) : 0;
        int maxE = (1 << expBits) - 1;
        int bias = (1 << (expBits - 1)) - 1;
        ex = 0;
        up = false;
        if (IsUnsupported(v))
        {
            ex = IE; // stored as the indefinite NaN
            return (1UL << (fracBits + expBits)) | ((ulong)maxE << fracBits) | (1UL << (fracBits - 1));
        }
        if (e == MaxExp)
        {
            if ((v.Mantissa << 1) == 0) return sign | ((ulong)maxE << fracBits);
            if ((v.Mantissa & (1UL << 62)) == 0) ex |= IE;
            // NaN: keep the top payload bits and force quiet.
            ulong payload = (v.Mantissa << 1) >> (64 - fracBits);
            return sign | ((ulong)maxE << fracBits) | payload | (1UL << (fracBits - 1));
        }
        if (v.Mantissa == 0) return sign;
        // Normalise (handles denormals and unnormals).
        int lz = BitOperations.LeadingZeroCount(v.Mantissa);
        ulong m = v.Mantissa << lz;
        int unbiased = (e == 0 ? 1 : e) - Bias - lz;
        int te = unbiased + bias;
        bool inexact;
        if (te >= 1)
        {
            ulong r = RoundShift(m, 63 - fracBits, neg, rc, out inexact, out up);
            if (r >> (fracBits + 1) != 0) { r >>= 1; te++; }
            if (te >= maxE)
            {
                ex |= OE | PE;
                bool toInf = rc == 0 || (rc == 1 && neg) || (rc == 2 && !neg);
                up = toInf;
                return toInf ? sign | ((ulong)maxE << fracBits) : sign | ((ulong)(maxE - 1) << fracBits) | ((1UL << fracBits) - 1);
            }
            if (inexact) ex |= PE;
            return sign | ((ulong)te << fracBits) | (r & ((1UL << fracBits) - 1));
        }
        // Subnormal result: one extra bit of shift per exponent step below the minimum.
        int drop = 63 - fracBits + (1 - te);
        ulong d = RoundShift(m, drop, neg, rc, out inexact, out up);
        // Tininess is judged after rounding with an unbounded exponent: just below the smallest
        // normal, a value that rounds up to it is not tiny.
        bool tiny = te < 0 || (RoundShift(m, 63 - fracBits, neg, rc, out _) >> (fracBits + 1)) == 0;
        if (inexact) ex |= tiny ? (ushort)(UE | PE) : PE;
        return sign | d; // a carry into the exponent field yields the smallest normal, as it should
    }

    public static double ToDouble(in Float80 v, int rc) => ToDouble(v, rc, out _, out _);
    public static float ToSingle(in Float80 v, int rc) => ToSingle(v, rc, out _, out _);

    public static double ToDouble(in Float80 v, int rc, out ushort exceptions, out bool roundedUp) =>
        BitConverter.UInt64BitsToDouble(ToIeee(v, 52, 11, rc, out exceptions, out roundedUp));

    public static float ToSingle(in Float80 v, int rc, out ushort exceptions, out bool roundedUp) =>
        BitConverter.UInt32BitsToSingle((uint)ToIeee(v, 23, 8, rc, out exceptions, out roundedUp));

    public static bool IsDenormal(in Float80 v) => Exp(v) == 0 && v.Mantissa != 0;
    public static bool IsSignalling(in Float80 v) => IsNaN(v) && (v.Mantissa & (1UL << 62)) == 0;

    /// <summary>Rounds to a signed integer of <paramref name="bits"/> width; null when out of range or NaN (integer indefinite).</summary>
    public static long? ToInteger(in Float80 v, int bits, int rc) => ToInteger(v, bits, rc, out _, out _);

    /// <param name="inexact">The value had a fraction (PE).</param>
    /// <param name="up">The magnitude was rounded up (C1).</param>
    public static long? ToInteger(in Float80 v, int bits, int rc, out bool inexact, out bool up)
    {
        inexact = up = false;
        if (Exp(v) == MaxExp || IsUnsupported(v)) return null;
        bool neg = Sign(v);
        if (v.Mantissa == 0) return 0;
        int e = (Exp(v) == 0 ? 1 : Exp(v)) - Bias;
        ulong mag;
        if (e > 63) return null;
        int drop = 63 - e;
        mag = RoundShift(v.Mantissa, drop, neg, rc, out inexact, out up);
        long limit = bits == 64 ? long.MaxValue : (1L << (bits - 1)) - 1;
        if (neg)
        {
            if (mag > (ulong)limit + 1) return null;
            return mag == (ulong)limit + 1 ? (bits == 64 ? long.MinValue : -(limit + 1)) : -(long)mag;
        }
        if (mag > (ulong)limit) return null;
        return (long)mag;
    }

    /// <summary>Compares: -1 less, 0 equal, 1 greater, 2 unordered. +0 equals -0.</summary>
    public static int Compare(in Float80 a, in Float80 b)
    {
        if (IsNaN(a) || IsNaN(b) || IsUnsupported(a) || IsUnsupported(b)) return 2;
        bool az = a.Mantissa == 0 && Exp(a) != MaxExp, bz = b.Mantissa == 0 && Exp(b) != MaxExp;
        if (az && bz) return 0;
        bool sa = Sign(a), sb = Sign(b);
        if (sa != sb) return sa ? -1 : 1;
        int mag = CompareMagnitude(a, b);
        return sa ? -mag : mag;
    }

    static int CompareMagnitude(in Float80 a, in Float80 b)
    {
        // Normalise denormals so exponent/mantissa order is the value order.
        Norm(a, out int ea, out ulong ma);
        Norm(b, out int eb, out ulong mb);
        if (ma == 0 && mb == 0) return 0;
        if (ma == 0) return -1;
        if (mb == 0) return 1;
        if (ea != eb) return ea < eb ? -1 : 1;
        return ma == mb ? 0 : ma < mb ? -1 : 1;
    }

    static void Norm(in Float80 v, out int e, out ulong m)
    {
        m = v.Mantissa;
        e = Exp(v) == 0 ? 1 : Exp(v);
        if (m == 0 || Exp(v) == MaxExp) return;
        int lz = BitOperations.LeadingZeroCount(m);
        m <<= lz;
        e -= lz;
    }

    /// <summary>x87 tag for a register value: 0 valid, 1 zero, 2 special (NaN, infinity, denormal).</summary>
    public static int Tag(in Float80 v)
    {
        int e = Exp(v);
        if (e == 0) return v.Mantissa == 0 ? 1 : 2;
        if (e == MaxExp || (v.Mantissa & IntBit) == 0) return 2;
        return 0;
    }
}
