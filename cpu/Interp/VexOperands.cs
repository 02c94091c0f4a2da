using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// Operand access for VEX-encoded vector instructions. YMMn is XMMn (its low half, in <see cref="CpuState.Xmm"/>)
/// plus <see cref="CpuState.YmmHigh"/>; a VEX.128 write zeroes the high half. VEX memory operands have no
/// alignment rule except for the explicitly aligned moves.
/// </summary>
public static class VexOperands
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsYmm(Register r) => r is >= Register.YMM0 and <= Register.YMM15;

    /// <summary>Register number 0..15 of an XMM or YMM register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Index(Register r) => IsYmm(r) ? r - Register.YMM0 : r - Register.XMM0;

    /// <summary>True when operand <paramref name="n"/> is a YMM register: the instruction works on 256 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Wide(ref Insn i, int n) => i.I.GetOpKind(n) == OpKind.Register && IsYmm(i.I.GetOpRegister(n));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Reg(CpuState c, Register r)
    {
        int k = Index(r);
        return Vector256.Create(c.Xmm[k], IsYmm(r) ? c.YmmHigh[k] : Vector128<byte>.Zero);
    }

    /// <summary>Writes a whole YMM register; an XMM destination (VEX.128) gets the low half and a zero high half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SetReg(CpuState c, Register r, in Vector256<byte> v)
    {
        int k = Index(r);
        c.Xmm[k] = v.GetLower();
        c.YmmHigh[k] = IsYmm(r) ? v.GetUpper() : Vector128<byte>.Zero;
    }

    /// <summary>Reads operand <paramref name="n"/>: a register, or 16 (<paramref name="wide"/>: 32) bytes of memory.</summary>
    public static Vector256<byte> Read(CpuState c, ref Insn i, int n, bool wide, bool aligned = false)
    {
        if (i.I.GetOpKind(n) == OpKind.Register) return Reg(c, i.I.GetOpRegister(n));
        ulong a = Address(c, ref i, wide, aligned);
        var lo = Load128(c, a);
        return Vector256.Create(lo, wide ? Load128(c, a + 16) : Vector128<byte>.Zero);
    }

    /// <summary>Stores the low 16 (<paramref name="wide"/>: all 32) bytes of <paramref name="v"/> to the memory operand.</summary>
    public static void Store(CpuState c, ref Insn i, in Vector256<byte> v, bool wide, bool aligned = false)
    {
        // Both ends of 32 bytes first (they span at most two pages): a store that faults has changed nothing.
        StoreBytes(c, Address(c, ref i, wide, aligned), v, wide ? 32 : 16);
    }

    /// <summary>Loads <paramref name="bytes"/> (1 to 32) bytes at the bottom of a vector, the rest zero.</summary>
    public static Vector256<byte> LoadBytes(CpuState c, ulong a, int bytes)
    {
        switch (bytes)
        {
            case 32: return Vector256.Create(Load128(c, a), Load128(c, a + 16));
            case 16: return Vector256.Create(Load128(c, a), Vector128<byte>.Zero);
            case 8: return Vector256.CreateScalar(c.Mem.Read64(a)).AsByte();
            case 4: return Vector256.CreateScalar(c.Mem.Read32(a)).AsByte();
            case 2: return Vector256.CreateScalar(c.Mem.Read16(a)).AsByte();
            default: return Vector256.CreateScalar(c.Mem.Read8(a));
        }
    }

    /// <summary>Stores the low <paramref name="bytes"/> (1 to 32) bytes of a vector; a 32-byte store faults before writing anything.</summary>
    public static void StoreBytes(CpuState c, ulong a, in Vector256<byte> v, int bytes)
    {
        switch (bytes)
        {
            case 32:
                c.Mem.Write8(a + 31, v.GetElement(31));
                c.Mem.Write8(a, v.GetElement(0));
                Operands.WriteXMem(c, a + 16, v.GetUpper());
                Operands.WriteXMem(c, a, v.GetLower());
                break;
            case 16: Operands.WriteXMem(c, a, v.GetLower()); break;
            case 8: c.Mem.Write64(a, v.AsUInt64().GetElement(0)); break;
            case 4: c.Mem.Write32(a, v.AsUInt32().GetElement(0)); break;
            case 2: c.Mem.Write16(a, v.AsUInt16().GetElement(0)); break;
            default: c.Mem.Write8(a, v.GetElement(0)); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ulong Address(CpuState c, ref Insn i, bool wide, bool aligned)
    {
        ulong a = Operands.Ea(c, ref i);
        ulong mask = wide ? 31UL : 15UL;
        if (aligned && (a & mask) != 0)
            throw new CpuFault(FaultKind.GeneralProtection, i.Ip, $"misaligned {(wide ? 32 : 16)}-byte access at 0x{a:x}");
        return a;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> Load128(CpuState c, ulong a) => c.Mem.Read128(a);
}
