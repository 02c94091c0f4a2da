using System.Runtime.CompilerServices;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>A condition code fixed at instantiation (0..15: O NO B AE E NE BE A S NS P NP L GE LE G).</summary>
interface ICc
{
    static abstract int Cc { get; }
}

struct CcO : ICc { public static int Cc => 0; }
struct CcNo : ICc { public static int Cc => 1; }
struct CcB : ICc { public static int Cc => 2; }
struct CcAe : ICc { public static int Cc => 3; }
struct CcE : ICc { public static int Cc => 4; }
struct CcNe : ICc { public static int Cc => 5; }
struct CcBe : ICc { public static int Cc => 6; }
struct CcA : ICc { public static int Cc => 7; }
struct CcS : ICc { public static int Cc => 8; }
struct CcNs : ICc { public static int Cc => 9; }
struct CcP : ICc { public static int Cc => 10; }
struct CcNp : ICc { public static int Cc => 11; }
struct CcL : ICc { public static int Cc => 12; }
struct CcGe : ICc { public static int Cc => 13; }
struct CcLe : ICc { public static int Cc => 14; }
struct CcG : ICc { public static int Cc => 15; }

/// <summary>
/// Condition evaluation with the condition known to the JIT: the common lazy-flag cases (a compare,
/// a logic result, ZF/SF of any result) are answered inline, everything else by <see cref="CpuState.Cond"/>.
/// The answers are the ones <see cref="CpuState.Cond"/> gives.
/// </summary>
static class Conditions
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Holds<T>(CpuState c) where T : struct, ICc
    {
        int cc = T.Cc;
        FlagOp op = c.Op;
        if (op == FlagOp.Sub && cc is >= 2 and <= 7 or >= 12)
        {
            ulong a = c.FlagSrc1, b = c.FlagSrc2;
            int sh = 64 - c.OpBits;
            switch (cc)
            {
                case 2: return a < b;
                case 3: return a >= b;
                case 4: return a == b;
                case 5: return a != b;
                case 6: return a <= b;
                case 7: return a > b;
                case 12: return (long)(a << sh) >> sh < (long)(b << sh) >> sh;
                case 13: return (long)(a << sh) >> sh >= (long)(b << sh) >> sh;
                case 14: return (long)(a << sh) >> sh <= (long)(b << sh) >> sh;
                default: return (long)(a << sh) >> sh > (long)(b << sh) >> sh;
            }
        }
        if (op == FlagOp.Logic && cc is not (10 or 11))
        {
            ulong r = c.FlagRes;
            bool neg = (r & (1UL << (c.OpBits - 1))) != 0;
            switch (cc)
            {
                case 0: case 2: return false;
                case 1: case 3: return true;
                case 4: case 6: return r == 0;
                case 5: case 7: return r != 0;
                case 8: case 12: return neg;
                case 9: case 13: return !neg;
                case 14: return r == 0 || neg;
                default: return r != 0 && !neg;
            }
        }
        // Whatever set them, ZF and SF are those of the kept result.
        if (op != FlagOp.None && cc is >= 4 and <= 5 or >= 8 and <= 9)
        {
            ulong r = op == FlagOp.Sub ? LazyFlags.SubResult(c.OpBits, c.FlagSrc1, c.FlagSrc2) : c.FlagRes;
            switch (cc)
            {
                case 4: return r == 0;
                case 5: return r != 0;
                case 8: return (r & (1UL << (c.OpBits - 1))) != 0;
                default: return (r & (1UL << (c.OpBits - 1))) == 0;
            }
        }
        return c.Cond(cc);
    }
}
