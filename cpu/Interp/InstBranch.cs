using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>Control transfer: JMP, Jcc, CALL, RET, LOOP family, JRCXZ.</summary>
static unsafe class InstBranch
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Jmp, &Jmp);
        foreach (var m in new[] { Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne,
                     Mnemonic.Jbe, Mnemonic.Ja, Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jp, Mnemonic.Jnp,
                     Mnemonic.Jl, Mnemonic.Jge, Mnemonic.Jle, Mnemonic.Jg })
            HandlerTable.Set(m, &Jcc);
        HandlerTable.Set(Mnemonic.Call, &Call);
        HandlerTable.Set(Mnemonic.Ret, &Ret);
        HandlerTable.Set(Mnemonic.Loop, &Loop);
        HandlerTable.Set(Mnemonic.Loope, &Loope);
        HandlerTable.Set(Mnemonic.Loopne, &Loopne);
        HandlerTable.Set(Mnemonic.Jrcxz, &Jrcxz);
        HandlerTable.Set(Mnemonic.Jecxz, &Jecxz);
    }

    static ulong Target(CpuState c, ref Insn i)
    {
        var k = i.I.Op0Kind;
        if (k == OpKind.NearBranch64 || k == OpKind.NearBranch32 || k == OpKind.NearBranch16) return i.I.NearBranchTarget;
        return Read(c, ref i, 0, 64);
    }

    static void Jmp(CpuState c, ref Insn i) => c.Rip = Target(c, ref i);

    static void Jcc(CpuState c, ref Insn i)
    {
        if (c.Cond(i.Cc)) c.Rip = i.I.NearBranchTarget;
    }

    static void Call(CpuState c, ref Insn i)
    {
        ulong t = Target(c, ref i);
        InstStack.Push64(c, i.NextIp);
        c.Rip = t;
    }

    static void Ret(CpuState c, ref Insn i)
    {
        ulong t = InstStack.Pop64(c);
        if (i.I.OpCount > 0) c.R[Registers.RSP] += i.I.Immediate16;
        c.Rip = t;
    }

    static bool DecCounter(CpuState c, ref Insn i)
    {
        // LOOP counts in RCX, or ECX with an address-size prefix.
        if (!IsAddr32(ref i)) return --c.R[Registers.RCX] != 0;
        uint ecx = (uint)c.R[Registers.RCX] - 1;
        c.R[Registers.RCX] = ecx;
        return ecx != 0;
    }

    static bool IsAddr32(ref Insn i) => i.I.Code is Code.Loop_rel8_32_ECX or Code.Loop_rel8_64_ECX or Code.Loope_rel8_32_ECX
        or Code.Loope_rel8_64_ECX or Code.Loopne_rel8_32_ECX or Code.Loopne_rel8_64_ECX;

    static void Loop(CpuState c, ref Insn i)
    {
        if (DecCounter(c, ref i)) c.Rip = i.I.NearBranchTarget;
    }

    static void Loope(CpuState c, ref Insn i)
    {
        if (DecCounter(c, ref i) && c.Cond(4)) c.Rip = i.I.NearBranchTarget;
    }

    static void Loopne(CpuState c, ref Insn i)
    {
        if (DecCounter(c, ref i) && c.Cond(5)) c.Rip = i.I.NearBranchTarget;
    }

    static void Jrcxz(CpuState c, ref Insn i)
    {
        if (c.R[Registers.RCX] == 0) c.Rip = i.I.NearBranchTarget;
    }

    static void Jecxz(CpuState c, ref Insn i)
    {
        if ((uint)c.R[Registers.RCX] == 0) c.Rip = i.I.NearBranchTarget;
    }
}
