using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// BMI1 (ANDN BEXTR BLSI BLSMSK BLSR TZCNT), LZCNT and BMI2 (BZHI MULX PDEP PEXT RORX SARX SHLX SHRX):
/// VEX-encoded scalar instructions on 32- or 64-bit GPRs (TZCNT/LZCNT are F3-prefixed legacy ones).
/// Below v3 <see cref="CpuModel.Adapt"/> turns TZCNT/LZCNT into BSF/BSR and the VEX ones into #UD before
/// they get here. Flags per the SDM: ZF/SF (and PF) from the result, CF and OF given, AF left clear.
/// </summary>
static unsafe class InstBmi
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Tzcnt, &Tzcnt);
        HandlerTable.Set(Mnemonic.Lzcnt, &Lzcnt);
        HandlerTable.Set(Mnemonic.Andn, &Andn);
        HandlerTable.Set(Mnemonic.Bextr, &Bextr);
        HandlerTable.Set(Mnemonic.Blsi, &Blsi);
        HandlerTable.Set(Mnemonic.Blsmsk, &Blsmsk);
        HandlerTable.Set(Mnemonic.Blsr, &Blsr);
        HandlerTable.Set(Mnemonic.Bzhi, &Bzhi);
        HandlerTable.Set(Mnemonic.Mulx, &Mulx);
        HandlerTable.Set(Mnemonic.Pdep, &Pdep);
        HandlerTable.Set(Mnemonic.Pext, &Pext);
        HandlerTable.Set(Mnemonic.Rorx, &Rorx);
        HandlerTable.Set(Mnemonic.Sarx, &Sarx);
        HandlerTable.Set(Mnemonic.Shlx, &Shlx);
        HandlerTable.Set(Mnemonic.Shrx, &Shrx);
    }

    /// <summary>CF when the source is zero, ZF when the count is (the count of a zero source is the width).</summary>
    static void Tzcnt(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        ulong r = v == 0 ? (ulong)bits : (ulong)BitOperations.TrailingZeroCount(v);
        SetReg(c, i.I.Op0Register, r);
        c.SetFlagsAux(bits, r, v == 0 ? Rf.CF : 0);
    }

    static void Lzcnt(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        ulong r = (ulong)(BitOperations.LeadingZeroCount(v) - (64 - bits));
        SetReg(c, i.I.Op0Register, r);
        c.SetFlagsAux(bits, r, v == 0 ? Rf.CF : 0);
    }

    /// <summary>Writes a result whose SF and ZF (and PF) come from it, with CF given and OF clear.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Result(CpuState c, ref Insn i, int bits, ulong r, bool cf)
    {
        r &= Mask(bits);
        SetReg(c, i.I.Op0Register, r);
        c.SetFlagsAux(bits, r, cf ? Rf.CF : 0);
    }

    static void Andn(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = GetReg(c, i.I.Op1Register);
        ulong b = Read(c, ref i, 2, bits);
        Result(c, ref i, bits, ~a & b, false);
    }

    /// <summary>Bits [start, start+len) of the source, with start = control[7:0] and len = control[15:8].</summary>
    static void Bextr(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong src = Read(c, ref i, 1, bits);
        ulong ctl = GetReg(c, i.I.Op2Register);
        int start = (int)(ctl & 0xff), len = (int)((ctl >> 8) & 0xff);
        ulong r = start >= bits ? 0 : src >> start;
        if (len < 64) r &= (1UL << len) - 1;
        SetReg(c, i.I.Op0Register, r);
        // Only ZF is defined (CF, OF clear); SF, AF and PF clear too, as the hardware leaves them.
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~Rf.Arith) | (r == 0 ? Rf.ZF : 0);
    }

    static void Blsi(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        Result(c, ref i, bits, v & (0 - v), v != 0);
    }

    static void Blsmsk(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        Result(c, ref i, bits, v ^ (v - 1), v == 0);
    }

    static void Blsr(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        Result(c, ref i, bits, v & (v - 1), v == 0);
    }

    /// <summary>Clears the bits from index[7:0] up; CF when the index is beyond the operand.</summary>
    static void Bzhi(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong src = Read(c, ref i, 1, bits);
        int n = (int)(GetReg(c, i.I.Op2Register) & 0xff);
        ulong r = n < bits ? src & ((1UL << n) - 1) : src;
        Result(c, ref i, bits, r, n > bits - 1);
    }

    /// <summary>EDX/RDX times the source; the low half goes to the second operand, then the high half to the first (which wins when they are the same register). No flags.</summary>
    static void Mulx(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong src = Read(c, ref i, 2, bits);
        ulong hi, lo;
        if (bits == 64) hi = Math.BigMul(c.R[Registers.RDX], src, out lo);
        else
        {
            ulong p = (ulong)(uint)c.R[Registers.RDX] * (uint)src;
            hi = p >> 32;
            lo = (uint)p;
        }
        SetReg(c, i.I.Op1Register, lo);
        SetReg(c, i.I.Op0Register, hi);
    }

    static void Pdep(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong src = GetReg(c, i.I.Op1Register);
        ulong mask = Read(c, ref i, 2, bits);
        SetReg(c, i.I.Op0Register, Deposit(src, mask));
    }

    static void Pext(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong src = GetReg(c, i.I.Op1Register);
        ulong mask = Read(c, ref i, 2, bits);
        SetReg(c, i.I.Op0Register, Extract(src, mask));
    }

    /// <summary>The low bits of the source, in order, to the set bits of the mask.</summary>
    static ulong Deposit(ulong src, ulong mask)
    {
        if (Bmi2.X64.IsSupported) return Bmi2.X64.ParallelBitDeposit(src, mask);
        ulong r = 0;
        for (ulong bit = 1; mask != 0; bit <<= 1)
        {
            ulong lowest = mask & (0 - mask);
            if ((src & bit) != 0) r |= lowest;
            mask &= mask - 1;
        }
        return r;
    }

    /// <summary>The source bits under the set bits of the mask, packed from bit 0 up.</summary>
    static ulong Extract(ulong src, ulong mask)
    {
        if (Bmi2.X64.IsSupported) return Bmi2.X64.ParallelBitExtract(src, mask);
        ulong r = 0;
        for (ulong bit = 1; mask != 0; bit <<= 1)
        {
            ulong lowest = mask & (0 - mask);
            if ((src & lowest) != 0) r |= bit;
            mask &= mask - 1;
        }
        return r;
    }

    static void Rorx(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        int n = (int)(i.I.GetImmediate(2) & (ulong)(bits - 1));
        ulong r = bits == 64 ? BitOperations.RotateRight(v, n) : BitOperations.RotateRight((uint)v, n);
        SetReg(c, i.I.Op0Register, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Count(CpuState c, ref Insn i, int bits) => (int)(GetReg(c, i.I.Op2Register) & (ulong)(bits - 1));

    static void Sarx(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        SetReg(c, i.I.Op0Register, (ulong)(SignExtend(v, bits) >> Count(c, ref i, bits)));
    }

    static void Shlx(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        SetReg(c, i.I.Op0Register, v << Count(c, ref i, bits));
    }

    static void Shrx(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        SetReg(c, i.I.Op0Register, v >> Count(c, ref i, bits));
    }
}
