namespace LegoEmu.Cpu.State;

/// <summary>Architectural exceptions an instruction can raise; the OS layer turns them into signals.</summary>
public enum FaultKind
{
    /// <summary>#UD from an encoding that is invalid on x86-64 (UD2 included): SIGILL.</summary>
    InvalidOpcode,
    /// <summary>A valid instruction LegoEmu does not implement yet: SIGILL, with a clear message.</summary>
    Unimplemented,
    /// <summary>#DE: SIGFPE.</summary>
    DivideError,
    /// <summary>#BP from INT3: SIGTRAP.</summary>
    Breakpoint,
    /// <summary>#GP, e.g. a misaligned MOVAPS or a privileged instruction: SIGSEGV.</summary>
    GeneralProtection,
    /// <summary>#MF, an x87 exception the guest unmasked, raised by the next waiting x87 instruction: SIGFPE with the si_code of <see cref="CpuFault.SignalCode"/>.</summary>
    FloatingPoint,
    /// <summary>#XM, an SSE/AVX exception the guest unmasked in MXCSR: SIGFPE with the si_code of <see cref="CpuFault.SignalCode"/>.</summary>
    SimdFloatingPoint,
}

/// <summary>An architectural exception raised by the instruction at <see cref="Rip"/>.</summary>
public sealed class CpuFault(FaultKind kind, ulong rip, string detail) : Exception(detail)
{
    public FaultKind Kind { get; } = kind;
    public ulong Rip { get; } = rip;
    /// <summary>The si_code the kernel gives this fault's signal, where it depends on more than the kind (FPE_FLTDIV ...).</summary>
    public int SignalCode { get; init; }
}
