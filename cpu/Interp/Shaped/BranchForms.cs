using System.Runtime.CompilerServices;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>Jcc per condition, direct and indirect JMP/CALL, RET, PUSH and POP of 64-bit operands (see <see cref="InstBranch"/>, <see cref="InstStack"/>).</summary>
static class BranchForms
{
    /// <summary>Direct targets were resolved at decode into <see cref="Insn.Imm"/>.</summary>
    public static void Jcc<T>(CpuState c, ref Insn i) where T : struct, ICc
    {
        if (Conditions.Holds<T>(c)) c.Rip = i.Imm;
    }

    public static void Jmp(CpuState c, ref Insn i) => c.Rip = i.Imm;

    public static void JmpR(CpuState c, ref Insn i) => c.Rip = Gpr.At(c, i.R0);

    public static void JmpM(CpuState c, ref Insn i) => c.Rip = c.Mem.Read64(Gpr.Ea(c, ref i));

    public static void Call(CpuState c, ref Insn i)
    {
        Push(c, i.NextIp);
        c.Rip = i.Imm;
    }

    public static void CallR(CpuState c, ref Insn i)
    {
        ulong t = Gpr.At(c, i.R0);
        Push(c, i.NextIp);
        c.Rip = t;
    }

    public static void CallM(CpuState c, ref Insn i)
    {
        ulong t = c.Mem.Read64(Gpr.Ea(c, ref i));
        Push(c, i.NextIp);
        c.Rip = t;
    }

    public static void Ret(CpuState c, ref Insn i)
    {
        ref ulong sp = ref Gpr.At(c, Registers.RSP);
        ulong s = sp;
        ulong t = c.Mem.Read64(s);
        sp = s + 8;
        c.Rip = t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Push(CpuState c, ulong v)
    {
        ref ulong sp = ref Gpr.At(c, Registers.RSP);
        ulong s = sp - 8;
        c.Mem.Write64(s, v);
        sp = s;
    }

    public static void PushR(CpuState c, ref Insn i) => Push(c, Gpr.At(c, i.R0));

    public static void PushI(CpuState c, ref Insn i) => Push(c, i.Imm);

    public static void PushM(CpuState c, ref Insn i) => Push(c, c.Mem.Read64(Gpr.Ea(c, ref i)));

    public static void PopR(CpuState c, ref Insn i)
    {
        ref ulong sp = ref Gpr.At(c, Registers.RSP);
        ulong s = sp;
        ulong v = c.Mem.Read64(s);
        sp = s + 8;
        Gpr.At(c, i.R0) = v; // after the RSP update: POP RSP loads the popped value
    }
}
