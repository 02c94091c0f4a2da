using System.Runtime.Intrinsics;
using LegoEmu.Cpu.State;
using LegoEmu.Mem;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>What the kernel would put in a siginfo for one signal.</summary>
public readonly record struct SignalInfo(int Signo, int Code, ulong Address = 0, int Pid = 0, int Uid = 0, int TrapNo = 0, ulong Error = 0, int Status = 0, ulong Value = 0);

/// <summary>
/// Builds and unwinds x86-64 <c>rt_sigframe</c>s exactly as Linux lays them out: return address
/// (sa_restorer), ucontext with the register sigcontext and signal mask, siginfo, and a 64-byte
/// aligned FXSAVE image of the x87/SSE state that <c>uc_mcontext.fpstate</c> points to. A CPU with XSAVE
/// (--cpu v3) gets the kernel's extended frame: the XSAVE area (the AVX upper halves after the FXSAVE part
/// and its header), FP_XSTATE_MAGIC1 and the sizes in the FXSAVE image's software-reserved bytes,
/// FP_XSTATE_MAGIC2 after the area, UC_FP_XSTATE in uc_flags; sigreturn restores the AVX state from it.
/// </summary>
public static class SignalDelivery
{
    public const ulong SA_SIGINFO = 4, SA_ONSTACK = 0x08000000, SA_RESTORER = 0x04000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;
    const int FrameSize = 440;          // pretcode + ucontext (40 + 256 + 8) + siginfo (128)
    const int UcOffset = 8, McOffset = UcOffset + 40, MaskOffset = McOffset + 256, InfoOffset = MaskOffset + 8;
    const int FpSize = 512;
    const uint FpXstateMagic1 = 0x46505853, FpXstateMagic2 = 0x46505845;
    const int SwBytes = 464, XstateFrameSize = LegoEmu.Cpu.Fpu.XsaveImage.Size + 4;
    const ulong UcFpXstate = 1;

    static bool Extended => LegoEmu.Cpu.CpuModel.Level >= LegoEmu.Cpu.CpuLevel.V3;

    // sigcontext slot order: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags, segments, err, trapno, oldmask, cr2, fpstate.
    static readonly int[] GprSlot = { 13, 14, 12, 11, 15, 10, 9, 8, 0, 1, 2, 3, 4, 5, 6, 7 }; // by GPR index RAX..R15

    /// <summary>Pushes a frame for <paramref name="info"/> and points the CPU at the handler.</summary>
    public static void Deliver(CpuState c, SignalState s, in SignalAction act, in SignalInfo info)
    {
        // The frame is the kernel's work: a trace marks its stores so a report can leave them out.
        var m = c.Mem;
        if (m.InKernel)
        {
            PushFrame(c, s, act, info);
            return;
        }
        long before = m.Accesses;
        ulong interrupted = c.Rip;
        m.InKernel = true;
        m.Ip = interrupted;
        m.Cache.Tracer?.Attribute(interrupted, LegoEmu.Mem.Trace.TraceRecordFlags.Kernel);
        try { PushFrame(c, s, act, info); }
        finally
        {
            m.InKernel = false;
            m.KernelAccesses += m.Accesses - before;
            // No block counts these stores: a profile charges them, as the frame's misses, to the interrupted instruction.
            if (m.Cache.Profile is { } profile) profile.At(interrupted).Accesses += m.Accesses - before;
        }
    }

    static void PushFrame(CpuState c, SignalState s, in SignalAction act, in SignalInfo info)
    {
        var m = c.Mem;
        ulong sp = c.Rsp - 128; // the red zone below the interrupted code's stack pointer stays intact
        if ((act.Flags & SA_ONSTACK) != 0 && s.AltStackSize != 0 && !s.OnAltStack(c.Rsp)) sp = s.AltStackBase + s.AltStackSize;
        bool extended = Extended;
        int fpSize = extended ? XstateFrameSize : FpSize;
        sp = (sp - (ulong)fpSize) & ~63UL;
        ulong fp = sp;
        ulong frame = ((sp - FrameSize) & ~15UL) - 8;

        // Probe the whole frame first: a frame that cannot be written is a forced SIGSEGV, not a half-built frame.
        m.WriteBytes(frame, new byte[(int)(fp + (ulong)fpSize - frame)]);

        var fx = new byte[fpSize];
        if (extended)
        {
            // What the kernel's XSAVE of every enabled component leaves, in the standard form, plus its markers.
            LegoEmu.Cpu.Fpu.XsaveImage.Save(c, fx, LegoEmu.Cpu.Fpu.XsaveImage.Xcr0, compacted: false);
            BitConverter.TryWriteBytes(fx.AsSpan(SwBytes), FpXstateMagic1);
            BitConverter.TryWriteBytes(fx.AsSpan(SwBytes + 4), (uint)XstateFrameSize);
            BitConverter.TryWriteBytes(fx.AsSpan(SwBytes + 8), LegoEmu.Cpu.Fpu.XsaveImage.Xcr0);
            BitConverter.TryWriteBytes(fx.AsSpan(SwBytes + 16), (uint)LegoEmu.Cpu.Fpu.XsaveImage.Size);
            BitConverter.TryWriteBytes(fx.AsSpan(LegoEmu.Cpu.Fpu.XsaveImage.Size), FpXstateMagic2);
        }
        else LegoEmu.Cpu.Fpu.FxImage.Save(c, fx);
        m.WriteBytes(fp, fx);
        m.Write64(frame, act.Restorer);
        ulong uc = frame + UcOffset;
        m.Write64(uc, 6 | (extended ? UcFpXstate : 0)); // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
        m.Write64(uc + 8, 0);
        m.Write64(uc + 16, s.AltStackBase);
        m.Write32(uc + 24, s.AltStackFlags); // as set, not as sigaltstack reports them: the kernel's __save_altstack
        m.Write64(uc + 32, s.AltStackSize);
        if ((s.AltStackFlags & SignalState.SS_AUTODISARM) != 0)
        {
            // SS_AUTODISARM: the handler may take the stack over; sigreturn sets it up again from the frame.
            s.AltStackBase = s.AltStackSize = 0;
            s.AltStackFlags = SignalState.SS_DISABLE;
        }
        ulong mc = frame + McOffset;
        for (int r = 0; r < 16; r++) m.Write64(mc + 8 * (ulong)GprSlot[r], c.R[r]);
        m.Write64(mc + 8 * 16, c.Rip);
        m.Write64(mc + 8 * 17, c.Rflags);
        m.Write64(mc + 8 * 18, 0x2b_0000_0000_0033UL); // cs 0x33, ss 0x2b
        m.Write64(mc + 8 * 19, info.Error);
        m.Write64(mc + 8 * 20, (ulong)info.TrapNo);
        ulong savedMask = s.MaskToRestore ?? s.Mask; // after sigsuspend, the caller's mask comes back on return
        s.MaskToRestore = null;
        m.Write64(mc + 8 * 21, savedMask);
        m.Write64(mc + 8 * 22, info.Address);
        m.Write64(mc + 8 * 23, fp);
        m.Write64(frame + MaskOffset, savedMask);
        ulong si = frame + InfoOffset;
        m.Write32(si, (uint)info.Signo);
        m.Write32(si + 4, 0);
        m.Write32(si + 8, (uint)info.Code);
        if (info.Signo is 4 or 7 or 8 or 11) m.Write64(si + 16, info.Address);
        else
        {
            m.Write32(si + 16, (uint)info.Pid);
            m.Write32(si + 20, (uint)info.Uid);
            if (info.Signo == 17) m.Write32(si + 24, (uint)info.Status); // SIGCHLD's si_status
            else if (info.Value != 0) m.Write64(si + 24, info.Value); // si_value of sigqueue and timers
        }

        int sig = info.Signo;
        s.Mask |= act.Mask | ((act.Flags & SA_NODEFER) != 0 ? 0 : 1UL << (sig - 1));
        s.Mask &= ~((1UL << 8) | (1UL << 18));
        if ((act.Flags & SA_RESETHAND) != 0) s.Actions[sig] = default;

        c.Rsp = frame;
        c.Rip = act.Handler;
        c.R[Registers.RDI] = (ulong)sig;
        c.R[Registers.RSI] = si;
        c.R[Registers.RDX] = uc;
        c.R[Registers.RAX] = 0;
        c.Rflags = c.Rflags & ~(Rf.DF | Rf.TF);
        // The handler starts with a clean FPU, as the kernel gives it.
        c.Fpu.Reset();
        c.SetMxcsr(0x1f80);
        Array.Clear(c.YmmHigh);
    }

    /// <summary>rt_sigreturn: restores what <see cref="Deliver"/> saved; returns the interrupted RAX.</summary>
    public static ulong Return(CpuState c, SignalState s)
    {
        var m = c.Mem;
        ulong frame = c.Rsp - 8; // the handler's RET popped the return address
        ulong mc = frame + McOffset;
        var regs = new ulong[16];
        for (int r = 0; r < 16; r++) regs[r] = m.Read64(mc + 8 * (ulong)GprSlot[r]);
        ulong rip = m.Read64(mc + 8 * 16), flags = m.Read64(mc + 8 * 17), fp = m.Read64(mc + 8 * 23);
        ulong mask = m.Read64(frame + MaskOffset);
        ulong ucStack = frame + UcOffset + 16;
        ulong altBase = m.Read64(ucStack), altSize = m.Read64(ucStack + 16);
        uint altFlags = m.Read32(ucStack + 8);
        if (fp != 0)
        {
            var img = new byte[FpSize];
            m.ReadBytes(fp, img);
            // The kernel ignores reserved MXCSR bits from a signal frame rather than faulting.
            BitConverter.TryWriteBytes(img.AsSpan(24), LegoEmu.Cpu.Fpu.FxImage.Mxcsr(img) & 0xffff);
            LegoEmu.Cpu.Fpu.FxImage.Restore(c, img);
            RestoreExtended(c, fp, img);
        }
        for (int r = 0; r < 16; r++) c.R[r] = regs[r];
        c.Rip = rip;
        c.Rflags = flags;
        s.Mask = mask & ~((1UL << 8) | (1UL << 18));
        RestoreAltStack(c, s, altBase, altFlags, altSize);
        return regs[Registers.RAX];
    }

    /// <summary>
    /// The AVX upper halves from an extended frame (both magic numbers in place, the sizes the kernel wrote),
    /// or their initial zeros from a frame without one, as the kernel's restore does.
    /// </summary>
    static void RestoreExtended(CpuState c, ulong fp, byte[] fx)
    {
        Array.Clear(c.YmmHigh);
        if (!Extended || BitConverter.ToUInt32(fx, SwBytes) != FpXstateMagic1) return;
        uint xstateSize = BitConverter.ToUInt32(fx, SwBytes + 16);
        if (xstateSize != LegoEmu.Cpu.Fpu.XsaveImage.Size || BitConverter.ToUInt32(fx, SwBytes + 4) != XstateFrameSize) return;
        if (c.Mem.Read32(fp + xstateSize) != FpXstateMagic2) return;
        var area = new byte[LegoEmu.Cpu.Fpu.XsaveImage.Size];
        c.Mem.ReadBytes(fp, area);
        ulong bv = BitConverter.ToUInt64(area, LegoEmu.Cpu.Fpu.XsaveImage.HeaderOffset);
        if ((bv & LegoEmu.Cpu.Fpu.XsaveImage.Avx) == 0) return;
        for (int k = 0; k < 16; k++)
            c.YmmHigh[k] = System.Runtime.Intrinsics.Vector128.Create(area.AsSpan(LegoEmu.Cpu.Fpu.XsaveImage.AvxOffset + 16 * k, 16));
    }

    /// <summary>
    /// The alternate stack the frame recorded comes back, as the kernel's restore_altstack does (its errors
    /// ignored): not while running on the current one, and only with valid flags and size.
    /// </summary>
    static void RestoreAltStack(CpuState c, SignalState s, ulong sp, uint flags, ulong size) => s.SetAltStack(c.Rsp, sp, flags, size);
}
