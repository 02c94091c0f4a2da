using System.Runtime.Intrinsics;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// Compare-and-exchange family: CMPXCHG, CMPXCHG8B, XADD. A processor component runs one guest
/// thread at a time, so within it these are atomic by construction; against threads on other
/// processor components, LOCK claims the line exclusive first (HandlerTable's locked bracket).
/// </summary>
static unsafe class InstAtomic
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Cmpxchg, &Cmpxchg);
        HandlerTable.Set(Mnemonic.Cmpxchg8b, &Cmpxchg8b);
        HandlerTable.Set(Mnemonic.Xadd, &Xadd);
        HandlerTable.Set(Mnemonic.Cmpxchg16b, &Cmpxchg16b);
    }

    /// <summary>CMPXCHG16B: RDX:RAX against an aligned m128; on a match RCX:RBX is stored, else the memory is loaded.</summary>
    static void Cmpxchg16b(CpuState c, ref Insn i)
    {
        ulong ea = Ea(c, ref i);
        if ((ea & 15) != 0) throw new CpuFault(FaultKind.GeneralProtection, i.Ip, $"misaligned CMPXCHG16B operand at 0x{ea:x}");
        var cur = c.Mem.Read128(ea).AsUInt64();
        ulong lo = cur.GetElement(0), hi = cur.GetElement(1);
        c.Materialize();
        if (lo == c.R[0] && hi == c.R[2])
        {
            var v = Vector128.Create(c.R[3], c.R[1]).AsByte();
            c.Mem.Write128(ea, v);
            c.RflagsBits |= Rf.ZF;
        }
        else
        {
            var v = cur.AsByte();
            c.Mem.Write128(ea, v); // a locked cycle always writes
            c.R[0] = lo;
            c.R[2] = hi;
            c.RflagsBits &= ~Rf.ZF;
        }
    }

    static void Cmpxchg(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong acc = c.R[0] & Mask(bits);
        ulong src = GetReg(c, i.I.Op1Register);
        ulong dst = LoadDst(c, ref i, bits, out ulong ea);
        c.SetFlags(FlagOp.Sub, bits, (acc - dst) & Mask(bits), acc, dst);
        if (acc == dst)
        {
            StoreDst(c, ref i, bits, ea, src);
        }
        else
        {
            // The destination is written back unchanged (a locked cycle always writes), then the accumulator loads it.
            if (i.I.Op0Kind == OpKind.Memory) WriteMem(c, ea, bits, dst);
            var accReg = bits switch { 8 => Iced.Intel.Register.AL, 16 => Iced.Intel.Register.AX, 32 => Iced.Intel.Register.EAX, _ => Iced.Intel.Register.RAX };
            SetReg(c, accReg, dst);
        }
    }

    static void Cmpxchg8b(CpuState c, ref Insn i)
    {
        ulong ea = Ea(c, ref i);
        ulong cur = c.Mem.Read64(ea);
        ulong expect = ((ulong)(uint)c.R[2] << 32) | (uint)c.R[0];
        c.Materialize();
        if (cur == expect)
        {
            c.Mem.Write64(ea, ((ulong)(uint)c.R[1] << 32) | (uint)c.R[3]);
            c.RflagsBits |= Rf.ZF;
        }
        else
        {
            c.Mem.Write64(ea, cur);
            c.R[0] = (uint)cur;
            c.R[2] = cur >> 32;
            c.RflagsBits &= ~Rf.ZF;
        }
    }

    static void Xadd(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong src = GetReg(c, i.I.Op1Register);
        ulong dst = LoadDst(c, ref i, bits, out ulong ea);
        ulong sum = (dst + src) & Mask(bits);
        SetReg(c, i.I.Op1Register, dst);
        StoreDst(c, ref i, bits, ea, sum);
        c.SetFlags(FlagOp.Add, bits, sum, dst, src);
    }
}
