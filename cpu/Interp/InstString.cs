using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// String instructions MOVS STOS LODS SCAS CMPS with REP/REPE/REPNE and the direction flag. Under an address-size
/// prefix (0x67) they address through ESI/EDI and count in ECX, and each write of those zeroes the upper half.
/// </summary>
static unsafe class InstString
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Movsb, &Movs);
        HandlerTable.Set(Mnemonic.Movsw, &Movs);
        HandlerTable.Set(Mnemonic.Movsq, &Movs);
        HandlerTable.Set(Mnemonic.Stosb, &Stos);
        HandlerTable.Set(Mnemonic.Stosw, &Stos);
        HandlerTable.Set(Mnemonic.Stosd, &Stos);
        HandlerTable.Set(Mnemonic.Stosq, &Stos);
        HandlerTable.Set(Mnemonic.Lodsb, &Lods);
        HandlerTable.Set(Mnemonic.Lodsw, &Lods);
        HandlerTable.Set(Mnemonic.Lodsd, &Lods);
        HandlerTable.Set(Mnemonic.Lodsq, &Lods);
        HandlerTable.Set(Mnemonic.Scasb, &Scas);
        HandlerTable.Set(Mnemonic.Scasw, &Scas);
        HandlerTable.Set(Mnemonic.Scasd, &Scas);
        HandlerTable.Set(Mnemonic.Scasq, &Scas);
        HandlerTable.Set(Mnemonic.Cmpsb, &Cmps);
        HandlerTable.Set(Mnemonic.Cmpsw, &Cmps);
        HandlerTable.Set(Mnemonic.Cmpsq, &Cmps);
        // MOVSD and CMPSD are shared with SSE2 scalar-double mnemonics: InstSseMove/InstSseFloat route the string forms here.
    }

    /// <summary>Element width from the instruction's memory operand (string forms have no register operand).</summary>
    static int Width(ref Insn i) => i.MemBits == 0 ? 8 : i.MemBits;

    static ulong SrcBase(CpuState c, ref Insn i) => i.Seg switch { 1 => c.FsBase, 2 => c.GsBase, _ => 0 };

    /// <summary>True under an address-size prefix: the implicit operands are ES:EDI and seg:ESI.</summary>
    static bool Addr32(ref Insn i) =>
        i.I.Op0Kind is OpKind.MemoryESEDI or OpKind.MemorySegESI || i.I.Op1Kind is OpKind.MemoryESEDI or OpKind.MemorySegESI;

    static ulong Ptr(CpuState c, int reg, bool a32) => a32 ? (uint)c.R[reg] : c.R[reg];

    static void Advance(CpuState c, int reg, ulong step, bool a32)
    {
        ulong v = c.R[reg] + step;
        c.R[reg] = a32 ? (uint)v : v;
    }

    static ulong Count(CpuState c, bool rep, bool a32) => !rep ? 1 : a32 ? (uint)c.R[Registers.RCX] : c.R[Registers.RCX];

    internal static void Movs(CpuState c, ref Insn i)
    {
        int bits = Width(ref i);
        ulong step = (ulong)(bits / 8);
        if (c.DF) step = (ulong)-(long)step;
        ulong sb = SrcBase(c, ref i);
        bool rep = i.I.HasRepPrefix || i.I.HasRepnePrefix, a32 = Addr32(ref i);
        ulong count = Count(c, rep, a32);
        while (count != 0)
        {
            WriteMem(c, Ptr(c, Registers.RDI, a32), bits, ReadMem(c, sb + Ptr(c, Registers.RSI, a32), bits));
            Advance(c, Registers.RSI, step, a32);
            Advance(c, Registers.RDI, step, a32);
            count--;
            if (rep) c.R[Registers.RCX] = count;
        }
    }

    static void Stos(CpuState c, ref Insn i)
    {
        int bits = Width(ref i);
        ulong step = (ulong)(bits / 8);
        if (c.DF) step = (ulong)-(long)step;
        ulong v = c.R[Registers.RAX] & Mask(bits);
        bool rep = i.I.HasRepPrefix || i.I.HasRepnePrefix, a32 = Addr32(ref i);
        ulong count = Count(c, rep, a32);
        while (count != 0)
        {
            WriteMem(c, Ptr(c, Registers.RDI, a32), bits, v);
            Advance(c, Registers.RDI, step, a32);
            count--;
            if (rep) c.R[Registers.RCX] = count;
        }
    }

    static void Lods(CpuState c, ref Insn i)
    {
        int bits = Width(ref i);
        ulong step = (ulong)(bits / 8);
        if (c.DF) step = (ulong)-(long)step;
        ulong sb = SrcBase(c, ref i);
        bool rep = i.I.HasRepPrefix || i.I.HasRepnePrefix, a32 = Addr32(ref i);
        ulong count = Count(c, rep, a32);
        var acc = bits switch { 8 => Iced.Intel.Register.AL, 16 => Iced.Intel.Register.AX, 32 => Iced.Intel.Register.EAX, _ => Iced.Intel.Register.RAX };
        while (count != 0)
        {
            SetReg(c, acc, ReadMem(c, sb + Ptr(c, Registers.RSI, a32), bits));
            Advance(c, Registers.RSI, step, a32);
            count--;
            if (rep) c.R[Registers.RCX] = count;
        }
    }

    static void Scas(CpuState c, ref Insn i)
    {
        int bits = Width(ref i);
        ulong step = (ulong)(bits / 8);
        if (c.DF) step = (ulong)-(long)step;
        ulong a = c.R[Registers.RAX] & Mask(bits);
        bool repe = i.I.HasRepePrefix, repne = i.I.HasRepnePrefix;
        bool rep = repe || repne, a32 = Addr32(ref i);
        ulong count = Count(c, rep, a32);
        while (count != 0)
        {
            ulong b = ReadMem(c, Ptr(c, Registers.RDI, a32), bits);
            Advance(c, Registers.RDI, step, a32);
            count--;
            if (rep) c.R[Registers.RCX] = count;
            c.SetFlags(FlagOp.Sub, bits, (a - b) & Mask(bits), a, b);
            if (repe && a != b) break;
            if (repne && a == b) break;
        }
    }

    internal static void Cmps(CpuState c, ref Insn i)
    {
        int bits = Width(ref i);
        ulong step = (ulong)(bits / 8);
        if (c.DF) step = (ulong)-(long)step;
        ulong sb = SrcBase(c, ref i);
        bool repe = i.I.HasRepePrefix, repne = i.I.HasRepnePrefix;
        bool rep = repe || repne, a32 = Addr32(ref i);
        ulong count = Count(c, rep, a32);
        while (count != 0)
        {
            ulong a = ReadMem(c, sb + Ptr(c, Registers.RSI, a32), bits);
            ulong b = ReadMem(c, Ptr(c, Registers.RDI, a32), bits);
            Advance(c, Registers.RSI, step, a32);
            Advance(c, Registers.RDI, step, a32);
            count--;
            if (rep) c.R[Registers.RCX] = count;
            c.SetFlags(FlagOp.Sub, bits, (a - b) & Mask(bits), a, b);
            if (repe && a != b) break;
            if (repne && a == b) break;
        }
    }
}
