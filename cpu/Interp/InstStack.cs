using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>Stack instructions: PUSH, POP, PUSHF, POPF, LEAVE, ENTER.</summary>
static unsafe class InstStack
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Push, &Push);
        HandlerTable.Set(Mnemonic.Pop, &Pop);
        HandlerTable.Set(Mnemonic.Pushfq, &Pushf);
        HandlerTable.Set(Mnemonic.Pushf, &Pushf);
        HandlerTable.Set(Mnemonic.Popfq, &Popf);
        HandlerTable.Set(Mnemonic.Popf, &Popf);
        HandlerTable.Set(Mnemonic.Leave, &Leave);
        HandlerTable.Set(Mnemonic.Enter, &Enter);
    }

    public static void Push64(CpuState c, ulong v)
    {
        ulong sp = c.R[Registers.RSP] - 8;
        c.Mem.Write64(sp, v);
        c.R[Registers.RSP] = sp;
    }

    public static ulong Pop64(CpuState c)
    {
        ulong sp = c.R[Registers.RSP];
        ulong v = c.Mem.Read64(sp);
        c.R[Registers.RSP] = sp + 8;
        return v;
    }

    static int StackBits(ref Insn i) => i.I.StackPointerIncrement is 2 or -2 ? 16 : 64;

    static void Push(CpuState c, ref Insn i)
    {
        int bits = StackBits(ref i);
        ulong v = Read(c, ref i, 0, bits);
        ulong sp = c.R[Registers.RSP] - (ulong)(bits / 8);
        WriteMem(c, sp, bits, v);
        c.R[Registers.RSP] = sp;
    }

    static void Pop(CpuState c, ref Insn i)
    {
        int bits = StackBits(ref i);
        ulong sp = c.R[Registers.RSP];
        ulong v = ReadMem(c, sp, bits);
        c.R[Registers.RSP] = sp + (ulong)(bits / 8);
        Write0(c, ref i, bits, v);
    }

    static void Pushf(CpuState c, ref Insn i)
    {
        int bits = StackBits(ref i);
        ulong sp = c.R[Registers.RSP] - (ulong)(bits / 8);
        WriteMem(c, sp, bits, c.Rflags);
        c.R[Registers.RSP] = sp;
    }

    static void Popf(CpuState c, ref Insn i)
    {
        int bits = StackBits(ref i);
        ulong sp = c.R[Registers.RSP];
        ulong v = ReadMem(c, sp, bits);
        c.R[Registers.RSP] = sp + (ulong)(bits / 8);
        if (bits == 16) v |= c.Rflags & ~0xffffUL;
        c.Rflags = v;
    }

    /// <summary>With a 66 prefix the frame pointer moves as BP (16 bits) while the stack stays 64-bit.</summary>
    static bool Operand16(ref Insn i) => i.I.Code is Code.Enterw_imm16_imm8 or Code.Leavew;

    static void Leave(CpuState c, ref Insn i)
    {
        c.R[Registers.RSP] = c.R[Registers.RBP];
        if (!Operand16(ref i))
        {
            c.R[Registers.RBP] = Pop64(c);
            return;
        }
        ulong sp = c.R[Registers.RSP];
        c.R[Registers.RBP] = (c.R[Registers.RBP] & ~0xffffUL) | c.Mem.Read16(sp);
        c.R[Registers.RSP] = sp + 2;
    }

    static void Push16(CpuState c, ulong v)
    {
        ulong sp = c.R[Registers.RSP] - 2;
        c.Mem.Write16(sp, (ushort)v);
        c.R[Registers.RSP] = sp;
    }

    static void Enter(CpuState c, ref Insn i)
    {
        ulong size = i.I.Immediate16;
        int level = i.I.Immediate8_2nd & 31;
        bool w16 = Operand16(ref i);
        int width = w16 ? 2 : 8;
        if (w16) Push16(c, c.R[Registers.RBP]);
        else Push64(c, c.R[Registers.RBP]);
        ulong frame = c.R[Registers.RSP];
        for (int l = 1; l < level; l++)
        {
            ulong from = c.R[Registers.RBP] - (ulong)(l * width);
            if (w16) Push16(c, c.Mem.Read16(from));
            else Push64(c, c.Mem.Read64(from));
        }
        if (level > 0)
        {
            if (w16) Push16(c, frame);
            else Push64(c, frame);
        }
        c.R[Registers.RBP] = w16 ? (c.R[Registers.RBP] & ~0xffffUL) | (frame & 0xffff) : frame;
        c.R[Registers.RSP] -= size;
    }
}
