using System.Numerics;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>Bit instructions: BT BTS BTR BTC, BSF BSR, TZCNT LZCNT (as BSF/BSR: BMI1/ABM are not advertised), POPCNT.</summary>
static unsafe class InstBits
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Bt, &Bt);
        HandlerTable.Set(Mnemonic.Bts, &Bts);
        HandlerTable.Set(Mnemonic.Btr, &Btr);
        HandlerTable.Set(Mnemonic.Btc, &Btc);
        HandlerTable.Set(Mnemonic.Bsf, &Bsf);
        HandlerTable.Set(Mnemonic.Bsr, &Bsr);
        // Without BMI1/LZCNT in CPUID these encodings are REP BSF / REP BSR, as on older CPUs.
        HandlerTable.Set(Mnemonic.Tzcnt, &Bsf);
        HandlerTable.Set(Mnemonic.Lzcnt, &Bsr);
        HandlerTable.Set(Mnemonic.Popcnt, &Popcnt);
    }

    /// <summary>0 = test, 1 = set, 2 = reset, 3 = complement.</summary>
    static void BitOp(CpuState c, ref Insn i, int kind)
    {
        int bits = i.OpBits;
        bool regOffset = i.I.Op1Kind == OpKind.Register;
        ulong off = regOffset ? GetReg(c, i.I.Op1Register) : i.I.GetImmediate(1);
        ulong value, ea = 0;
        int bit;
        if (i.I.Op0Kind == OpKind.Memory)
        {
            ea = Ea(c, ref i);
            if (regOffset)
            {
                // A register offset addresses a bit string: it may reach beyond the operand, either way.
                long soff = SignExtend(off, bits);
                ea += (ulong)((soff >> BitOperations.Log2((uint)bits)) * (bits / 8));
                bit = (int)(soff & (bits - 1));
            }
            else bit = (int)(off & (ulong)(bits - 1));
            value = ReadMem(c, ea, bits);
        }
        else
        {
            bit = (int)(off & (ulong)(bits - 1));
            value = GetReg(c, i.I.Op0Register);
        }
        ulong cf = (value >> bit) & 1;
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~Rf.CF) | cf;
        if (kind == 0) return;
        ulong m = 1UL << bit;
        ulong r = kind == 1 ? value | m : kind == 2 ? value & ~m : value ^ m;
        if (i.I.Op0Kind == OpKind.Memory) WriteMem(c, ea, bits, r);
        else SetReg(c, i.I.Op0Register, r);
    }

    static void Bt(CpuState c, ref Insn i) => BitOp(c, ref i, 0);
    static void Bts(CpuState c, ref Insn i) => BitOp(c, ref i, 1);
    static void Btr(CpuState c, ref Insn i) => BitOp(c, ref i, 2);
    static void Btc(CpuState c, ref Insn i) => BitOp(c, ref i, 3);

    static void SetZf(CpuState c, bool zf)
    {
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~Rf.ZF) | (zf ? Rf.ZF : 0);
    }

    static void Bsf(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        // A zero source leaves the destination untouched (not even zero-extended), as hardware does.
        if (v == 0) { SetZf(c, true); return; }
        SetReg(c, i.I.Op0Register, (ulong)BitOperations.TrailingZeroCount(v));
        SetZf(c, false);
    }

    static void Bsr(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        if (v == 0) { SetZf(c, true); return; }
        SetReg(c, i.I.Op0Register, (ulong)(63 - BitOperations.LeadingZeroCount(v)));
        SetZf(c, false);
    }

    static void Popcnt(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        SetReg(c, i.I.Op0Register, (ulong)BitOperations.PopCount(v));
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~Rf.Arith) | (v == 0 ? Rf.ZF : 0);
    }
}
