using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>Two-operand integer arithmetic and logic: ADD ADC SUB SBB AND OR XOR CMP TEST, INC DEC NEG NOT.</summary>
static unsafe class InstAlu
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Add, &Add);
        HandlerTable.Set(Mnemonic.Adc, &Adc);
        HandlerTable.Set(Mnemonic.Sub, &Sub);
        HandlerTable.Set(Mnemonic.Sbb, &Sbb);
        HandlerTable.Set(Mnemonic.And, &And);
        HandlerTable.Set(Mnemonic.Or, &Or);
        HandlerTable.Set(Mnemonic.Xor, &Xor);
        HandlerTable.Set(Mnemonic.Cmp, &Cmp);
        HandlerTable.Set(Mnemonic.Test, &Test);
        HandlerTable.Set(Mnemonic.Inc, &Inc);
        HandlerTable.Set(Mnemonic.Dec, &Dec);
        HandlerTable.Set(Mnemonic.Neg, &Neg);
        HandlerTable.Set(Mnemonic.Not, &Not);
    }

    static void Add(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong b = Read(c, ref i, 1, bits);
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        ulong r = (a + b) & Mask(bits);
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlags(FlagOp.Add, bits, r, a, b);
    }

    static void Adc(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong cin = c.CF ? 1UL : 0;
        ulong b = Read(c, ref i, 1, bits);
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        ulong r = (a + b + cin) & Mask(bits);
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlags(FlagOp.Adc, bits, r, a, b);
        c.FlagAux = cin;
    }

    static void Sub(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong b = Read(c, ref i, 1, bits);
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        ulong r = (a - b) & Mask(bits);
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlags(FlagOp.Sub, bits, r, a, b);
    }

    static void Sbb(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong cin = c.CF ? 1UL : 0;
        ulong b = Read(c, ref i, 1, bits);
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        ulong r = (a - b - cin) & Mask(bits);
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlags(FlagOp.Sbb, bits, r, a, b);
        c.FlagAux = cin;
    }

    static void And(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong b = Read(c, ref i, 1, bits);
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        ulong r = a & b;
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlags(FlagOp.Logic, bits, r, 0, 0);
    }

    static void Or(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong b = Read(c, ref i, 1, bits);
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        ulong r = a | b;
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlags(FlagOp.Logic, bits, r, 0, 0);
    }

    static void Xor(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong r;
        if (i.I.Op0Kind == OpKind.Register && i.I.Op1Kind == OpKind.Register && i.I.Op0Register == i.I.Op1Register)
        {
            r = 0; // the zeroing idiom: no need to read anything
            SetReg(c, i.I.Op0Register, 0);
        }
        else
        {
            ulong b = Read(c, ref i, 1, bits);
            ulong a = LoadDst(c, ref i, bits, out ulong ea);
            r = a ^ b;
            StoreDst(c, ref i, bits, ea, r);
        }
        c.SetFlags(FlagOp.Logic, bits, r, 0, 0);
    }

    static void Cmp(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = Read(c, ref i, 0, bits);
        ulong b = Read(c, ref i, 1, bits);
        c.SetFlags(FlagOp.Sub, bits, (a - b) & Mask(bits), a, b);
    }

    static void Test(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = Read(c, ref i, 0, bits);
        ulong b = Read(c, ref i, 1, bits);
        c.SetFlags(FlagOp.Logic, bits, a & b, 0, 0);
    }

    static void Inc(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        c.PreserveCarry();
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        ulong r = (a + 1) & Mask(bits);
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlags(FlagOp.Inc, bits, r, a, 1);
    }

    static void Dec(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        c.PreserveCarry();
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        ulong r = (a - 1) & Mask(bits);
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlags(FlagOp.Dec, bits, r, a, 1);
    }

    static void Neg(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        ulong r = (0 - a) & Mask(bits);
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlags(FlagOp.Sub, bits, r, 0, a);
    }

    static void Not(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        StoreDst(c, ref i, bits, ea, ~a & Mask(bits));
    }
}
