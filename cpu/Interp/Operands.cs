using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp;

/// <summary>Operand access shared by all instruction families: effective addresses, GPRs, memory, XMM.</summary>
public static class Operands
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mask(int bits) => bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long SignExtend(ulong v, int bits)
    {
        int sh = 64 - bits;
        return (long)(v << sh) >> sh;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    /// <summary>The address of a save area (FXSAVE, XSAVE) that must be <paramref name="bytes"/>-aligned, else #GP.</summary>
    public static ulong AlignedArea(CpuState c, ref Insn i, int bytes, string area)
    {
        ulong a = Ea(c, ref i);
        if ((a & (ulong)(bytes - 1)) != 0) throw new CpuFault(FaultKind.GeneralProtection, i.Ip, $"misaligned {area} area at 0x{a:x}");
        return a;
    }

    public static ulong Ea(CpuState c, ref Insn i)
    {
        ulong a = i.Disp;
        if (i.Base >= 0) a += c.R[i.Base];
        if (i.Index >= 0) a += c.R[i.Index] << i.ScaleShift;
        if (i.Addr32) a = (uint)a;
        if (i.Seg != 0) a += i.Seg == 1 ? c.FsBase : c.GsBase;
        return a;
    }

    // ---- GPRs ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong GetReg(CpuState c, Register r)
    {
        int idx = Registers.GprIndex[(int)r];
        ulong v = c.R[idx];
        return Registers.GprSize[(int)r] switch
        {
            8 => v,
            4 => (uint)v,
            2 => (ushort)v,
            _ => Registers.HighByte[(int)r] ? (byte)(v >> 8) : (byte)v,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SetReg(CpuState c, Register r, ulong v)
    {
        int idx = Registers.GprIndex[(int)r];
        ref ulong slot = ref c.R[idx];
        switch (Registers.GprSize[(int)r])
        {
            case 8: slot = v; break;
            case 4: slot = (uint)v; break;
            case 2: slot = (slot & ~0xffffUL) | (ushort)v; break;
            default:
                if (Registers.HighByte[(int)r]) slot = (slot & ~0xff00UL) | ((ulong)(byte)v << 8);
                else slot = (slot & ~0xffUL) | (byte)v;
                break;
        }
    }

    // ---- memory ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadMem(CpuState c, ulong a, int bits) => bits switch
    {
        64 => c.Mem.Read64(a),
        32 => c.Mem.Read32(a),
        16 => c.Mem.Read16(a),
        _ => c.Mem.Read8(a),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteMem(CpuState c, ulong a, int bits, ulong v)
    {
        switch (bits)
        {
            case 64: c.Mem.Write64(a, v); break;
            case 32: c.Mem.Write32(a, (uint)v); break;
            case 16: c.Mem.Write16(a, (ushort)v); break;
            default: c.Mem.Write8(a, (byte)v); break;
        }
    }

    // ---- generic operands ----

    /// <summary>Reads operand <paramref name="n"/> at <paramref name="bits"/> width (immediates are truncated to it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Read(CpuState c, ref Insn i, int n, int bits)
    {
        switch (i.I.GetOpKind(n))
        {
            case OpKind.Register: return GetReg(c, i.I.GetOpRegister(n));
            case OpKind.Memory: return ReadMem(c, Ea(c, ref i), bits);
            default: return i.I.GetImmediate(n) & Mask(bits);
        }
    }

    /// <summary>Reads operand 0 for a read-modify-write; <paramref name="ea"/> is reused by <see cref="StoreDst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LoadDst(CpuState c, ref Insn i, int bits, out ulong ea)
    {
        if (i.I.Op0Kind == OpKind.Register)
        {
            ea = 0;
            return GetReg(c, i.I.Op0Register);
        }
        ea = Ea(c, ref i);
        return ReadMem(c, ea, bits);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreDst(CpuState c, ref Insn i, int bits, ulong ea, ulong v)
    {
        if (i.I.Op0Kind == OpKind.Register) SetReg(c, i.I.Op0Register, v);
        else WriteMem(c, ea, bits, v);
    }

    /// <summary>Writes operand 0 (register or memory) without reading it first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write0(CpuState c, ref Insn i, int bits, ulong v)
    {
        if (i.I.Op0Kind == OpKind.Register) SetReg(c, i.I.Op0Register, v);
        else WriteMem(c, Ea(c, ref i), bits, v);
    }

    // ---- XMM ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref Vector128<byte> Xmm(CpuState c, Register r) => ref c.Xmm[r - Register.XMM0];

    /// <summary>Reads a full 128-bit operand (XMM or m128).</summary>
    public static Vector128<byte> ReadX(CpuState c, ref Insn i, int n)
    {
        if (i.I.GetOpKind(n) == OpKind.Register) return Xmm(c, i.I.GetOpRegister(n));
        return ReadXMem(c, ref i);
    }

    /// <summary>Reads the instruction's 128-bit memory operand, with no alignment rule.</summary>
    public static Vector128<byte> ReadXMem(CpuState c, ref Insn i) => c.Mem.Read128(Ea(c, ref i));

    /// <summary>Reads a 128-bit memory operand that must be 16-byte aligned (MOVAPS, PXOR m128 ...).</summary>
    public static Vector128<byte> ReadXAligned(CpuState c, ref Insn i, int n)
    {
        if (i.I.GetOpKind(n) == OpKind.Register) return Xmm(c, i.I.GetOpRegister(n));
        return ReadXMemAligned(c, ref i);
    }

    /// <summary>Reads the instruction's 128-bit memory operand, which must be 16-byte aligned.</summary>
    public static Vector128<byte> ReadXMemAligned(CpuState c, ref Insn i)
    {
        ulong a = Ea(c, ref i);
        if ((a & 15) != 0) throw new CpuFault(FaultKind.GeneralProtection, i.Ip, $"misaligned 16-byte access at 0x{a:x}");
        return c.Mem.Read128(a);
    }

    /// <summary>Writes the instruction's 128-bit memory operand, which must be 16-byte aligned (MOVAPS, MOVNTDQ ...).</summary>
    public static void WriteXMemAligned(CpuState c, ref Insn i, in Vector128<byte> v)
    {
        ulong a = Ea(c, ref i);
        if ((a & 15) != 0) throw new CpuFault(FaultKind.GeneralProtection, i.Ip, $"misaligned 16-byte store at 0x{a:x}");
        WriteXMem(c, a, v);
    }

    public static void WriteXMem(CpuState c, ulong a, in Vector128<byte> v) => c.Mem.Write128(a, v);

    /// <summary>Reads the low 64 bits of an XMM register or a 64-bit memory operand.</summary>
    public static ulong ReadX64(CpuState c, ref Insn i, int n)
    {
        if (i.I.GetOpKind(n) == OpKind.Register)
        {
            var r = i.I.GetOpRegister(n);
            if (r >= Register.XMM0 && r <= Register.XMM15) return Xmm(c, r).AsUInt64().GetElement(0);
            return GetReg(c, r);
        }
        return c.Mem.Read64(Ea(c, ref i));
    }

    /// <summary>Reads the low 32 bits of an XMM register or a 32-bit memory operand.</summary>
    public static uint ReadX32(CpuState c, ref Insn i, int n)
    {
        if (i.I.GetOpKind(n) == OpKind.Register)
        {
            var r = i.I.GetOpRegister(n);
            if (r >= Register.XMM0 && r <= Register.XMM15) return Xmm(c, r).AsUInt32().GetElement(0);
            return (uint)GetReg(c, r);
        }
        return c.Mem.Read32(Ea(c, ref i));
    }
}
