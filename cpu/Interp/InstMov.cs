using System.Buffers.Binary;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>Data movement: MOV, MOVZX/MOVSX/MOVSXD, LEA, XCHG, CMOVcc, SETcc, BSWAP, sign extensions, LAHF/SAHF.</summary>
static unsafe class InstMov
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Mov, &Mov);
        HandlerTable.Set(Mnemonic.Movzx, &Movzx);
        HandlerTable.Set(Mnemonic.Movsx, &Movsx);
        HandlerTable.Set(Mnemonic.Movsxd, &Movsx);
        HandlerTable.Set(Mnemonic.Lea, &Lea);
        HandlerTable.Set(Mnemonic.Xchg, &Xchg);
        foreach (var m in new[] { Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb, Mnemonic.Cmovae, Mnemonic.Cmove, Mnemonic.Cmovne,
                     Mnemonic.Cmovbe, Mnemonic.Cmova, Mnemonic.Cmovs, Mnemonic.Cmovns, Mnemonic.Cmovp, Mnemonic.Cmovnp,
                     Mnemonic.Cmovl, Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg })
            HandlerTable.Set(m, &Cmov);
        foreach (var m in new[] { Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete, Mnemonic.Setne,
                     Mnemonic.Setbe, Mnemonic.Seta, Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp,
                     Mnemonic.Setl, Mnemonic.Setge, Mnemonic.Setle, Mnemonic.Setg })
            HandlerTable.Set(m, &Setcc);
        HandlerTable.Set(Mnemonic.Bswap, &Bswap);
        HandlerTable.Set(Mnemonic.Cbw, &Cbw);
        HandlerTable.Set(Mnemonic.Cwde, &Cwde);
        HandlerTable.Set(Mnemonic.Cdqe, &Cdqe);
        HandlerTable.Set(Mnemonic.Cwd, &Cwd);
        HandlerTable.Set(Mnemonic.Cdq, &Cdq);
        HandlerTable.Set(Mnemonic.Cqo, &Cqo);
        HandlerTable.Set(Mnemonic.Lahf, &Lahf);
        HandlerTable.Set(Mnemonic.Sahf, &Sahf);
        HandlerTable.Set(Mnemonic.Movbe, &Movbe);
        HandlerTable.Set(Mnemonic.Xlatb, &Xlatb);
    }

    /// <summary>XLATB: AL = [RBX + zero-extended AL] (segment override honoured).</summary>
    static void Xlatb(CpuState c, ref Insn i)
    {
        ulong a = c.R[Registers.RBX] + (byte)c.R[Registers.RAX];
        if (i.I.CodeSize == CodeSize.Code64 && i.I.MemoryBase == Iced.Intel.Register.EBX) a = (uint)a;
        if (i.Seg != 0) a += i.Seg == 1 ? c.FsBase : c.GsBase;
        c.R[Registers.RAX] = (c.R[Registers.RAX] & ~0xffUL) | c.Mem.Read8(a);
    }

    static void Mov(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        if (i.I.Op0Kind == OpKind.Register && Registers.GprIndex[(int)i.I.Op0Register] < 0)
            throw new CpuFault(FaultKind.GeneralProtection, i.Ip, $"MOV to {i.I.Op0Register} is not allowed in user mode");
        if (i.I.Op1Kind == OpKind.Register && Registers.GprIndex[(int)i.I.Op1Register] < 0)
        {
            // MOV from a segment register: user-mode selectors of a 64-bit Linux process.
            ulong sel = i.I.Op1Register switch { Iced.Intel.Register.CS => 0x33, Iced.Intel.Register.SS => 0x2b, _ => 0 };
            Write0(c, ref i, bits, sel);
            return;
        }
        Write0(c, ref i, bits, Read(c, ref i, 1, bits));
    }

    static int SrcBits(ref Insn i) => i.I.Op1Kind == OpKind.Memory ? i.MemBits : Registers.GprSize[(int)i.I.Op1Register] * 8;

    static void Movzx(CpuState c, ref Insn i)
    {
        ulong v = Read(c, ref i, 1, SrcBits(ref i));
        SetReg(c, i.I.Op0Register, v);
    }

    static void Movsx(CpuState c, ref Insn i)
    {
        int sb = SrcBits(ref i);
        ulong v = (ulong)SignExtend(Read(c, ref i, 1, sb), sb);
        SetReg(c, i.I.Op0Register, v & Mask(i.OpBits));
    }

    static void Lea(CpuState c, ref Insn i)
    {
        // LEA computes the offset only: segment bases do not apply.
        ulong a = i.Disp;
        if (i.Base >= 0) a += c.R[i.Base];
        if (i.Index >= 0) a += c.R[i.Index] << i.ScaleShift;
        if (i.Addr32) a = (uint)a;
        SetReg(c, i.I.Op0Register, a & Mask(i.OpBits));
    }

    static void Xchg(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong b = Read(c, ref i, 1, bits);
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        StoreDst(c, ref i, bits, ea, b);
        if (i.I.Op1Kind == OpKind.Register) SetReg(c, i.I.Op1Register, a);
        else WriteMem(c, Ea(c, ref i), bits, a);
    }

    static void Cmov(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits); // the source is read (and may fault) whatever the condition
        if (c.Cond(i.Cc)) SetReg(c, i.I.Op0Register, v);
        else if (bits == 32) SetReg(c, i.I.Op0Register, GetReg(c, i.I.Op0Register)); // 32-bit CMOV always zero-extends
    }

    static void Setcc(CpuState c, ref Insn i) => Write0(c, ref i, 8, c.Cond(i.Cc) ? 1UL : 0);

    static void Bswap(CpuState c, ref Insn i)
    {
        var r = i.I.Op0Register;
        ulong v = GetReg(c, r);
        ulong res = i.OpBits switch
        {
            64 => BinaryPrimitives.ReverseEndianness(v),
            32 => BinaryPrimitives.ReverseEndianness((uint)v),
            _ => 0, // BSWAP of a 16-bit register is undefined; hardware gives zero
        };
        SetReg(c, r, res);
    }

    static void Cbw(CpuState c, ref Insn i) => SetReg(c, Iced.Intel.Register.AX, (ulong)(short)(sbyte)c.R[0]);
    static void Cwde(CpuState c, ref Insn i) => SetReg(c, Iced.Intel.Register.EAX, (uint)(int)(short)c.R[0]);
    static void Cdqe(CpuState c, ref Insn i) => c.R[0] = (ulong)(long)(int)c.R[0];
    static void Cwd(CpuState c, ref Insn i) => SetReg(c, Iced.Intel.Register.DX, (short)c.R[0] < 0 ? 0xffffUL : 0);
    static void Cdq(CpuState c, ref Insn i) => c.R[2] = (int)c.R[0] < 0 ? 0xffff_ffffUL : 0;
    static void Cqo(CpuState c, ref Insn i) => c.R[2] = (long)c.R[0] < 0 ? ulong.MaxValue : 0;

    static void Lahf(CpuState c, ref Insn i)
    {
        ulong f = c.Rflags & (Rf.SF | Rf.ZF | Rf.AF | Rf.PF | Rf.CF) | 2;
        c.R[0] = (c.R[0] & ~0xff00UL) | (f << 8);
    }

    static void Sahf(CpuState c, ref Insn i)
    {
        const ulong bits = Rf.SF | Rf.ZF | Rf.AF | Rf.PF | Rf.CF;
        ulong f = c.Rflags;
        c.Rflags = (f & ~bits) | ((c.R[0] >> 8) & bits);
    }

    static void Movbe(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong v = Read(c, ref i, 1, bits);
        v = bits switch
        {
            64 => BinaryPrimitives.ReverseEndianness(v),
            32 => BinaryPrimitives.ReverseEndianness((uint)v),
            _ => BinaryPrimitives.ReverseEndianness((ushort)v),
        };
        Write0(c, ref i, bits, v);
    }
}
