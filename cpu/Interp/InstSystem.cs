using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp;

/// <summary>SYSCALL, CPUID, RDTSC, hints and fences, flag bit instructions, and the instructions that trap.</summary>
static unsafe class InstSystem
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Syscall, &Syscall);
        HandlerTable.Set(Mnemonic.Cpuid, &CpuidInsn);
        HandlerTable.Set(Mnemonic.Rdtsc, &Rdtsc);
        HandlerTable.Set(Mnemonic.Rdtscp, &Rdtscp);
        foreach (var m in new[] { Mnemonic.Nop, Mnemonic.Endbr64, Mnemonic.Endbr32, Mnemonic.Pause, Mnemonic.Lfence, Mnemonic.Mfence,
                     Mnemonic.Sfence, Mnemonic.Prefetchnta, Mnemonic.Prefetcht0, Mnemonic.Prefetcht1, Mnemonic.Prefetcht2,
                     Mnemonic.Prefetchw, Mnemonic.Prefetch, Mnemonic.Clflush, Mnemonic.Clflushopt })
            HandlerTable.Set(m, &Nop);
        HandlerTable.Set(Mnemonic.Reservednop, &ReservedNop);
        HandlerTable.Set(Mnemonic.Ud2, &Ud);
        HandlerTable.Set(Mnemonic.Ud0, &Ud);
        HandlerTable.Set(Mnemonic.Ud1, &Ud);
        HandlerTable.Set(Mnemonic.Int3, &Int3);
        HandlerTable.Set(Mnemonic.Hlt, &Privileged);
        HandlerTable.Set(Mnemonic.Cli, &Privileged);
        HandlerTable.Set(Mnemonic.Sti, &Privileged);
        HandlerTable.Set(Mnemonic.Int, &IntN);
        HandlerTable.Set(Mnemonic.Cld, &Cld);
        HandlerTable.Set(Mnemonic.Std, &Std);
        HandlerTable.Set(Mnemonic.Clc, &Clc);
        HandlerTable.Set(Mnemonic.Stc, &Stc);
        HandlerTable.Set(Mnemonic.Cmc, &Cmc);
    }

    static void Syscall(CpuState c, ref Insn i)
    {
        // SYSCALL clobbers RCX (return address) and R11 (RFLAGS), as the kernel's entry path does.
        c.R[Registers.RCX] = i.NextIp;
        c.R[11] = c.Rflags;
        c.Host.Syscall(c);
    }

    static void CpuidInsn(CpuState c, ref Insn i)
    {
        var (a, b, cx, d) = Cpuid.Query((uint)c.R[0], (uint)c.R[1]);
        c.R[0] = a; c.R[3] = b; c.R[1] = cx; c.R[2] = d;
    }

    static ulong Tsc() => (ulong)System.Diagnostics.Stopwatch.GetTimestamp();

    static void Rdtsc(CpuState c, ref Insn i)
    {
        ulong t = Tsc();
        c.R[0] = (uint)t; c.R[2] = t >> 32;
    }

    static void Rdtscp(CpuState c, ref Insn i)
    {
        Rdtsc(c, ref i);
        c.R[1] = 0;
    }

    static void Nop(CpuState c, ref Insn i) { }

    /// <summary>
    /// The reserved-NOP opcode space (0F 0D, 0F 18-1F) executes as a hint, except 0F 0D with a register
    /// operand: that is the PREFETCH group, which the host CPU rejects with #UD.
    /// </summary>
    static void ReservedNop(CpuState c, ref Insn i)
    {
        if (i.I.Op0Kind == OpKind.Register && i.I.Code.ToString().EndsWith("0F0D", StringComparison.Ordinal))
            throw new CpuFault(FaultKind.InvalidOpcode, i.Ip, $"invalid opcode (0F 0D with a register operand) at 0x{i.Ip:x}");
    }

    static void Ud(CpuState c, ref Insn i) => throw new CpuFault(FaultKind.InvalidOpcode, i.Ip, $"{i.I.Mnemonic.ToString().ToUpperInvariant()} at 0x{i.Ip:x}");
    static void Int3(CpuState c, ref Insn i) => throw new CpuFault(FaultKind.Breakpoint, i.Ip, $"INT3 at 0x{i.Ip:x}");
    static void Privileged(CpuState c, ref Insn i) => throw new CpuFault(FaultKind.GeneralProtection, i.Ip, $"privileged instruction {i.I.Mnemonic.ToString().ToUpperInvariant()} at 0x{i.Ip:x}");
    static void IntN(CpuState c, ref Insn i) => throw new CpuFault(FaultKind.GeneralProtection, i.Ip, $"INT 0x{i.I.Immediate8:x} at 0x{i.Ip:x}");

    static void Cld(CpuState c, ref Insn i) => c.RflagsBits &= ~Rf.DF;
    static void Std(CpuState c, ref Insn i) => c.RflagsBits |= Rf.DF;

    static void SetCf(CpuState c, bool v)
    {
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~Rf.CF) | (v ? Rf.CF : 0);
    }

    static void Clc(CpuState c, ref Insn i) => SetCf(c, false);
    static void Stc(CpuState c, ref Insn i) => SetCf(c, true);
    static void Cmc(CpuState c, ref Insn i) => SetCf(c, !c.CF);
}
