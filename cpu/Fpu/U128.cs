using System.Numerics;
using System.Runtime.CompilerServices;

namespace LegoEmu.Cpu.Fpu;

/// <summary>
/// The unsigned 128-bit arithmetic of <see cref="F80Arith"/>, with UInt128's semantics (wrapping, shift counts taken
/// modulo 128). Not UInt128 itself: its operators take it by value, which ReadyToRun cannot precompile, so every
/// method using them would be JIT-compiled in each process.
/// </summary>
readonly struct U128
{
    public readonly ulong Lo, Hi;

    public U128(ulong hi, ulong lo)
    {
        Hi = hi;
        Lo = lo;
    }

    public static readonly U128 One = new(0, 1);

    public static implicit operator U128(ulong v) => new(0, v);
    public static explicit operator ulong(U128 v) => v.Lo;

    public static int LeadingZeroCount(U128 v) => v.Hi != 0 ? BitOperations.LeadingZeroCount(v.Hi) : 64 + BitOperations.LeadingZeroCount(v.Lo);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static U128 operator <<(U128 v, int n)
    {
        n &= 127;
        if (n == 0) return v;
        if (n >= 64) return new(v.Lo << (n - 64), 0);
        return new((v.Hi << n) | (v.Lo >> (64 - n)), v.Lo << n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static U128 operator >>(U128 v, int n)
    {
        n &= 127;
        if (n == 0) return v;
        if (n >= 64) return new(0, v.Hi >> (n - 64));
        return new(v.Hi >> n, (v.Lo >> n) | (v.Hi << (64 - n)));
    }

    public static U128 operator &(U128 a, U128 b) => new(a.Hi & b.Hi, a.Lo & b.Lo);
    public static U128 operator |(U128 a, U128 b) => new(a.Hi | b.Hi, a.Lo | b.Lo);

    public static U128 operator +(U128 a, U128 b)
    {
        ulong lo = a.Lo + b.Lo;
        return new(a.Hi + b.Hi + (lo < a.Lo ? 1UL : 0), lo);
    }

    public static U128 operator -(U128 a, U128 b) => new(a.Hi - b.Hi - (a.Lo < b.Lo ? 1UL : 0), a.Lo - b.Lo);
    public static U128 operator ++(U128 a) => a + One;

    /// <summary>The low 128 bits of the product.</summary>
    public static U128 operator *(U128 a, U128 b)
    {
        ulong hi = Math.BigMul(a.Lo, b.Lo, out ulong lo);
        return new(hi + a.Lo * b.Hi + a.Hi * b.Lo, lo);
    }

    public static U128 operator /(U128 a, U128 b) => DivRem(a, b, out _);
    public static U128 operator %(U128 a, U128 b)
    {
        DivRem(a, b, out var r);
        return r;
    }

    public static bool operator ==(U128 a, U128 b) => a.Hi == b.Hi && a.Lo == b.Lo;
    public static bool operator !=(U128 a, U128 b) => !(a == b);
    public static bool operator <(U128 a, U128 b) => a.Hi < b.Hi || (a.Hi == b.Hi && a.Lo < b.Lo);
    public static bool operator >(U128 a, U128 b) => b < a;
    public static bool operator <=(U128 a, U128 b) => !(b < a);
    public static bool operator >=(U128 a, U128 b) => !(a < b);

    public override bool Equals(object? o) => o is U128 v && v == this;
    public override int GetHashCode() => HashCode.Combine(Lo, Hi);

    static U128 DivRem(U128 n, U128 d, out U128 rem)
    {
        if (d == default) throw new DivideByZeroException();
        if (d.Hi == 0)
        {
            // Two 128/64 steps: the high word, then its remainder with the low word.
            ulong qh = n.Hi / d.Lo;
            ulong ql = Interp.InstMulDiv.DivRem128(n.Hi % d.Lo, n.Lo, d.Lo, out ulong rl);
            rem = rl;
            return new(qh, ql);
        }
        // A divisor of 65 bits or more: bit by bit (the quotient has at most 64 bits).
        U128 q = default, r = default;
        for (int k = 127; k >= 0; k--)
        {
            bool carry = (r.Hi >> 63) != 0;
            r = (r << 1) | ((n >> k) & One);
            if (carry || r >= d)
            {
                r -= d;
                q |= One << k;
            }
        }
        rem = r;
        return q;
    }
}
