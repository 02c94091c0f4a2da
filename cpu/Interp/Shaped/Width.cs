using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LegoEmu.Cpu.State;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>
/// Register and memory access at one operand width. Shaped handlers are generic over a width so the
/// JIT compiles one copy per width with every size test folded away.
/// </summary>
interface IWidth
{
    static abstract int Bits { get; }
    static abstract ulong Mask { get; }
    /// <summary>Reads a GPR at this width; <paramref name="sh"/> is 8 for AH..BH and 0 otherwise.</summary>
    static abstract ulong Get(ref ulong slot, int sh);
    /// <summary>Writes a GPR at this width: 32-bit writes clear bits 32..63, narrower ones merge.</summary>
    static abstract void Set(ref ulong slot, int sh, ulong v);
    static abstract ulong Load(CacheView m, ulong a);
    static abstract void Store(CacheView m, ulong a, ulong v);
}

/// <summary>64-bit operands.</summary>
struct W64 : IWidth
{
    public static int Bits => 64;
    public static ulong Mask => ulong.MaxValue;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Get(ref ulong slot, int sh) => slot;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Set(ref ulong slot, int sh, ulong v) => slot = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Load(CacheView m, ulong a) => m.Read64(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(CacheView m, ulong a, ulong v) => m.Write64(a, v);
}

/// <summary>32-bit operands.</summary>
struct W32 : IWidth
{
    public static int Bits => 32;
    public static ulong Mask => uint.MaxValue;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Get(ref ulong slot, int sh) => (uint)slot;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Set(ref ulong slot, int sh, ulong v) => slot = (uint)v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Load(CacheView m, ulong a) => m.Read32(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(CacheView m, ulong a, ulong v) => m.Write32(a, (uint)v);
}

/// <summary>16-bit operands.</summary>
struct W16 : IWidth
{
    public static int Bits => 16;
    public static ulong Mask => ushort.MaxValue;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Get(ref ulong slot, int sh) => (ushort)slot;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Set(ref ulong slot, int sh, ulong v) => slot = (slot & ~0xffffUL) | (ushort)v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Load(CacheView m, ulong a) => m.Read16(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(CacheView m, ulong a, ulong v) => m.Write16(a, (ushort)v);
}

/// <summary>8-bit operands, low bytes and AH..BH alike (the shift says which byte of the slot).</summary>
struct W8 : IWidth
{
    public static int Bits => 8;
    public static ulong Mask => byte.MaxValue;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Get(ref ulong slot, int sh) => (byte)(slot >> sh);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Set(ref ulong slot, int sh, ulong v) => slot = (slot & ~(0xffUL << sh)) | ((ulong)(byte)v << sh);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong Load(CacheView m, ulong a) => m.Read8(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(CacheView m, ulong a, ulong v) => m.Write8(a, (byte)v);
}

/// <summary>Unchecked GPR slots: indices digested at decode time are always 0..15.</summary>
static class Gpr
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref ulong At(CpuState c, nuint idx) => ref Unsafe.Add(ref Unsafe.As<Gprs, ulong>(ref c.R), idx);

    /// <summary>
    /// The effective address, inlined into the shaped handlers: the common forms (base, base+index, absolute)
    /// cost a few loads and adds; 32-bit addressing and FS/GS go through <see cref="Operands.Ea"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Ea(CpuState c, ref LegoEmu.Cpu.Decode.Insn i)
    {
        if (i.Addr32 | i.Seg != 0) return Operands.Ea(c, ref i);
        ref ulong r = ref Unsafe.As<Gprs, ulong>(ref c.R);
        ulong a = i.Disp;
        int b = i.Base, x = i.Index;
        if (b >= 0) a += Unsafe.Add(ref r, (nuint)b);
        if (x >= 0) a += Unsafe.Add(ref r, (nuint)x) << i.ScaleShift;
        return a;
    }
}
