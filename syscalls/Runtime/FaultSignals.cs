using LegoEmu.Cpu.State;
using LegoEmu.Mem;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>What the kernel makes of a CPU exception or a page fault: the signal, its code and trap number, and a one-line account.</summary>
public static class FaultSignals
{
    public static SignalInfo For(CpuFault f) => f.Kind switch
    {
        FaultKind.DivideError => new SignalInfo(8, 1, f.Rip, TrapNo: 0),             // FPE_INTDIV
        FaultKind.FloatingPoint => new SignalInfo(8, f.SignalCode, f.Rip, TrapNo: 16),
        FaultKind.SimdFloatingPoint => new SignalInfo(8, f.SignalCode, f.Rip, TrapNo: 19),
        FaultKind.Breakpoint => new SignalInfo(5, 0x80, TrapNo: 3),                   // SI_KERNEL, as for INT3
        FaultKind.GeneralProtection => new SignalInfo(11, 0x80, TrapNo: 13),          // SI_KERNEL
        _ => new SignalInfo(4, 2, f.Rip, TrapNo: 6),                                  // ILL_ILLOPN
    };

    /// <summary>SIGSEGV with the page-fault error code: bit 0 protection (present), bit 1 write, bit 2 user, bit 4 instruction fetch.</summary>
    public static SignalInfo For(MemoryFault m)
    {
        ulong err = 4 | (m.Reason == FaultReason.Protection ? 1UL : 0) | (m.Access == AccessKind.Write ? 2UL : 0) | (m.Access == AccessKind.Fetch ? 16UL : 0);
        return new SignalInfo(11, m.Reason == FaultReason.Protection ? 2 : 1, m.Address, TrapNo: 14, Error: err);
    }

    /// <summary>"write to 0x10 at 0x401000: unmapped", for the line that reports a fault nobody handles.</summary>
    public static string Describe(MemoryFault m, ulong rip)
    {
        string verb = m.Access switch { AccessKind.Write => "write to", AccessKind.Fetch => "fetch from", _ => "read from" };
        string why = m.Reason switch { FaultReason.Unmapped => "unmapped", FaultReason.Protection => "not permitted", _ => "no memory to back it" };
        return $"{verb} 0x{m.Address:x} at 0x{rip:x}: {why}";
    }
}
