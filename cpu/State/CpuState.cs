using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Cpu.State;

/// <summary>
/// The architectural state of one guest thread plus its window onto guest memory. Arithmetic
/// flags are lazy: the last flag-setting operation and its operands are kept and the flags are
/// computed only when something reads them.
/// </summary>
public sealed class CpuState
{
    public Gprs R;
    public ulong Rip;
    /// <summary>
    /// The instruction the interpreter is running and the first of its block, or null between blocks: they name a
    /// faulting instruction (see Interpreter.Run).
    /// </summary>
    public unsafe LegoEmu.Cpu.Decode.Insn* CurrentInsn, BlockFirst;
    public ulong FsBase;
    public ulong GsBase;
    public readonly Vector128<byte>[] Xmm = new Vector128<byte>[16];
    /// <summary>Bits 255:128 of YMM0-15: VEX.128 instructions zero them, legacy SSE ones leave them alone.</summary>
    public readonly Vector128<byte>[] YmmHigh = new Vector128<byte>[16];
    /// <summary>The guest's MXCSR, all of it: masks, rounding, FTZ/DAZ and the sticky exception flags.</summary>
    public uint Mxcsr = 0x1f80;

    public uint GetMxcsr() => Mxcsr;
    public void SetMxcsr(uint v) => Mxcsr = v;

    /// <summary>
    /// Brackets one SSE floating-point instruction run on the host: the host MXCSR takes the guest's
    /// rounding and FTZ/DAZ with clear flags and every exception masked; afterwards the flags the
    /// instruction raised join the guest's sticky flags and the host gets its default back. Nothing
    /// else (the JIT, the runtime) ever runs under the guest's MXCSR, so nothing else pollutes it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FpEnter() => LegoEmu.Cpu.Fpu.HostMxcsr.Write((Mxcsr & ~0x3fu) | LegoEmu.Cpu.Fpu.HostMxcsr.AllMasked);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FpLeave()
    {
        Mxcsr |= LegoEmu.Cpu.Fpu.HostMxcsr.Read() & 0x3f;
        LegoEmu.Cpu.Fpu.HostMxcsr.Write(LegoEmu.Cpu.Fpu.HostMxcsr.Default);
    }

    public readonly X87 Fpu = new();

    /// <summary>Non-arithmetic RFLAGS bits, and the arithmetic ones whenever <see cref="Op"/> is None.</summary>
    public ulong RflagsBits = Rf.Fixed;
    public FlagOp Op;
    public byte OpBits = 64;
    /// <summary>The last operation's result and operands; the result is not kept for <see cref="FlagOp.Sub"/> (<see cref="LazyFlags.SubResult"/>).</summary>
    public ulong FlagRes, FlagSrc1, FlagSrc2;
    /// <summary>Carry-in of ADC/SBB, or the explicit CF/OF/AF bits of <see cref="FlagOp.ResultAux"/>.</summary>
    public ulong FlagAux;

    public CacheView Mem;
    public ICpuHost Host;

    /// <summary>Set by the host (exit, execve) to leave the run loop after the current instruction.</summary>
    public bool StopRequested;
    /// <summary>Set by the host (a blocking wait, sched_yield) to hand the processor to another guest thread.</summary>
    public bool YieldRequested;
    /// <summary>Set (from any thread) when the host has something to do at the next block boundary, e.g. deliver a signal.</summary>
    public volatile bool InterruptPending;

    /// <summary>
    /// What a loop's safe point in translated code compares its progress counter with: 0, or long.MinValue
    /// while an interrupt is pending, so one compare tests both the time slice and the interrupt.
    /// </summary>
    public long SafePointLimit;

    /// <summary>Asks for the host's attention at the next block boundary or safe point (from any thread).</summary>
    public void RaiseInterrupt()
    {
        InterruptPending = true;
        Volatile.Write(ref SafePointLimit, long.MinValue);
    }

    /// <summary>
    /// The dispatcher takes the pending interrupt. A raise racing with this may leave the limit set with
    /// nothing pending (the dispatcher clears it, <see cref="SettleSafePointLimit"/>) or pending with the limit
    /// clear (then the region notices at its next exit or when its slice ends, a few thousand blocks at most).
    /// </summary>
    public void TakeInterrupt()
    {
        InterruptPending = false;
        Volatile.Write(ref SafePointLimit, 0);
    }

    /// <summary>Clears a limit left set by a raise the dispatcher already took.</summary>
    public void SettleSafePointLimit()
    {
        if (!InterruptPending && SafePointLimit != 0) Volatile.Write(ref SafePointLimit, 0);
    }
    public long InstructionsRetired;
    /// <summary>Translated code's lines per address form (see <see cref="LineSlots"/>).</summary>
    public LineSlots Lines;
    /// <summary>Set by a region that left at a front-table miss (it may have been entered from another region's exit).</summary>
    public LegoEmu.Cpu.Translate.Region? MissedRegion;
    /// <summary>Set by a region whose exit found no link to the next region: the dispatcher links the two if it can.</summary>
    public LegoEmu.Cpu.Translate.Region? UnlinkedExit;
    /// <summary>Regions entered straight from another region's exit, without the dispatcher.</summary>
    public long RegionsChained;
    /// <summary>
    /// Set by a region with inline floating point as it leaves: the host MXCSR may hold flags the guest raised that are
    /// not in <see cref="Mxcsr"/> yet. Regions entered straight from that exit leave them there (one with floating point
    /// adds to them); the runtime's slow paths and the way back to the dispatcher fold them first (see
    /// TranslatedRuntime.Settle).
    /// </summary>
    public bool FpPending;
    /// <summary>
    /// Set by translated code whose indirect JMP or CALL left the region: the block it ended and where it went. When
    /// the dispatcher then links an exit to that address, the block learns the target (see Translator.NoteIndirect).
    /// </summary>
    public ulong IndirectFrom, IndirectTo;
    /// <summary>The shadow call stack of <c>run --profile</c> (a <see cref="LegoEmu.Cpu.Profile.CallTracker"/>); null when not profiled.</summary>
    public LegoEmu.Cpu.Profile.CallTracker? Calls;
    /// <summary>A fault caught inside translated code, rethrown once the region has left exact state behind.</summary>
    public System.Runtime.ExceptionServices.ExceptionDispatchInfo? PendingFault;

    public CpuState(CacheView mem, ICpuHost host)
    {
        Mem = mem;
        Host = host;
    }

    public ulong Rsp { get => R[Registers.RSP]; set => R[Registers.RSP] = value; }

    // ---- lazy flags ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetFlags(FlagOp op, int bits, ulong res, ulong s1, ulong s2)
    {
        Op = op;
        OpBits = (byte)bits;
        FlagRes = res;
        FlagSrc1 = s1;
        FlagSrc2 = s2;
    }

    /// <summary>Sets the flags of an operation that defines ZF/SF/PF from a result and CF/OF/AF directly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetFlagsAux(int bits, ulong res, ulong cfOfAf)
    {
        Op = FlagOp.ResultAux;
        OpBits = (byte)bits;
        FlagRes = res;
        FlagAux = cfOfAf;
    }

    /// <summary>Full RFLAGS as the guest would read it with PUSHF.</summary>
    public ulong Rflags
    {
        get { Materialize(); return RflagsBits; }
        set { RflagsBits = (value & Rf.UserWritable) | Rf.Fixed; Op = FlagOp.None; }
    }

    public void Materialize()
    {
        if (Op == FlagOp.None) return;
        RflagsBits = (RflagsBits & ~Rf.Arith) | ComputeArith();
        Op = FlagOp.None;
    }

    ulong ComputeArith() => LazyFlags.Compute(Op, OpBits, FlagRes, FlagSrc1, FlagSrc2, FlagAux, RflagsBits);

    public bool CF
    {
        get
        {
            switch (Op)
            {
                case FlagOp.None: return (RflagsBits & Rf.CF) != 0;
                case FlagOp.Add: return FlagRes < FlagSrc1;
                case FlagOp.Sub: return FlagSrc1 < FlagSrc2;
                case FlagOp.Logic: return false;
                default: return (ComputeArith() & Rf.CF) != 0;
            }
        }
    }

    /// <summary>Keeps CF materialised before an INC/DEC, which leave it unchanged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PreserveCarry()
    {
        if (Op == FlagOp.Inc || Op == FlagOp.Dec) return; // CF already lives in RflagsBits
        bool cf = CF;
        RflagsBits = (RflagsBits & ~Rf.CF) | (cf ? Rf.CF : 0);
    }

    /// <summary>Evaluates condition code 0..15 (O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G).</summary>
    public bool Cond(int cc) => LazyFlags.Cond(Op, OpBits, FlagRes, FlagSrc1, FlagSrc2, FlagAux, RflagsBits, cc);

    public bool DF => (RflagsBits & Rf.DF) != 0;
}

/// <summary>What the CPU needs from the operating-system layer.</summary>
public interface ICpuHost
{
    /// <summary>Handles SYSCALL: number in RAX, arguments in RDI, RSI, RDX, R10, R8, R9; result into RAX.</summary>
    void Syscall(CpuState cpu);

    /// <summary>Called at a block boundary after <see cref="CpuState.InterruptPending"/> was set.</summary>
    void Interrupt(CpuState cpu);
}
