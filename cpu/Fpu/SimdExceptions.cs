using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Fpu;

/// <summary>
/// SSE/AVX floating-point exceptions the guest has unmasked in MXCSR. The host always runs the instruction with
/// every exception masked; when it raised one the guest unmasked, the instruction instead faults (#XM) before
/// writing its result, with the flags the hardware would leave: an unmasked exception found before the computation
/// (invalid, denormal, divide by zero) keeps the ones after it (overflow, underflow, precision) from being looked at.
/// </summary>
public static class SimdExceptions
{
    const uint IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32, PreComputation = IE | DE | ZE;

    /// <summary>True when some exception in <paramref name="raised"/> is unmasked in <paramref name="mxcsr"/>.</summary>
    public static bool Faults(uint mxcsr, uint raised) => (raised & ~(mxcsr >> 7) & 0x3f) != 0;

    /// <summary>
    /// The flags the faulting instruction leaves in MXCSR. An unmasked overflow of a plain operation does not report
    /// precision too (as the hardware does); a fused multiply-add (<paramref name="fused"/>) reports both.
    /// </summary>
    public static uint Reported(uint mxcsr, uint raised, bool fused = false)
    {
        uint unmasked = raised & ~(mxcsr >> 7);
        if ((unmasked & PreComputation) != 0) return raised & PreComputation;
        if ((unmasked & OE) != 0 && !fused) return raised & 0x1f;
        return raised & 0x3f;
    }

    /// <summary>The #XM fault, with the si_code Linux derives from the unmasked flags (FPE_FLTINV, FPE_FLTDIV ...).</summary>
    public static CpuFault Fault(ulong rip, uint mxcsr)
    {
        uint err = mxcsr & ~(mxcsr >> 7) & 0x3f;
        int code = (err & IE) != 0 ? 7 : (err & ZE) != 0 ? 3 : (err & OE) != 0 ? 4 : (err & (UE | DE)) != 0 ? 5 : (err & PE) != 0 ? 6 : 0;
        return new CpuFault(FaultKind.SimdFloatingPoint, rip, $"unmasked SIMD floating-point exception at 0x{rip:x} (MXCSR 0x{mxcsr:x})") { SignalCode = code };
    }
}
