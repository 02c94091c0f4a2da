using System.Runtime.CompilerServices;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.Fpu;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// x87 exceptions the guest unmasks in the control word. They are delayed as on the hardware: the instruction that
/// raises one only flags it (and gives the unmasked response: no result for invalid or divide by zero, a
/// bias-adjusted one for overflow and underflow), and the next waiting x87 instruction raises #MF before it runs,
/// which the kernel delivers as SIGFPE with an si_code from the status and control words. Every waiting x87
/// handler asks <see cref="Diverted"/> first, which costs one test while all exceptions are masked; while one is
/// unmasked, the instructions that can raise one run on the host FPU under the guest's masks
/// (<see cref="HostX87"/>), which gives the unmasked responses exactly.
/// </summary>
static unsafe class X87Unmasked
{
    /// <summary>
    /// The waiting instructions whose result an unmasked exception changes. FCOMI and FCMOVcc stay in software
    /// (their RFLAGS do not come back from the host) and give the unmasked response themselves, as do those that raise
    /// nothing but a stack fault.
    /// </summary>
    static readonly Mnemonic[] OnHostWhenUnmasked =
    [
        Mnemonic.Fld, Mnemonic.Fst, Mnemonic.Fstp, Mnemonic.Fild, Mnemonic.Fist, Mnemonic.Fistp, Mnemonic.Fisttp, Mnemonic.Fxch,
        Mnemonic.Fucom, Mnemonic.Fucomp, Mnemonic.Fucompp, Mnemonic.Fcom, Mnemonic.Fcomp, Mnemonic.Fcompp, Mnemonic.Ftst,
        Mnemonic.Ficom, Mnemonic.Ficomp, Mnemonic.Fld1, Mnemonic.Fldz, Mnemonic.Fldpi, Mnemonic.Fldl2e, Mnemonic.Fldl2t,
        Mnemonic.Fldlg2, Mnemonic.Fldln2, Mnemonic.Fchs, Mnemonic.Fabs,
        Mnemonic.Fadd, Mnemonic.Faddp, Mnemonic.Fiadd, Mnemonic.Fsub, Mnemonic.Fsubp, Mnemonic.Fisub, Mnemonic.Fsubr,
        Mnemonic.Fsubrp, Mnemonic.Fisubr, Mnemonic.Fmul, Mnemonic.Fmulp, Mnemonic.Fimul, Mnemonic.Fdiv, Mnemonic.Fdivp,
        Mnemonic.Fidiv, Mnemonic.Fdivr, Mnemonic.Fdivrp, Mnemonic.Fidivr, Mnemonic.Fsqrt, Mnemonic.Frndint,
        Mnemonic.Fsin, Mnemonic.Fcos, Mnemonic.Fsincos, Mnemonic.Fptan, Mnemonic.Fpatan, Mnemonic.F2xm1, Mnemonic.Fyl2x,
        Mnemonic.Fyl2xp1, Mnemonic.Fscale, Mnemonic.Fxtract, Mnemonic.Fprem, Mnemonic.Fprem1, Mnemonic.Fbld, Mnemonic.Fbstp,
    ];

    static readonly bool[] RaisesExceptions = Table(OnHostWhenUnmasked);
    static readonly bool[] Stores = Table([Mnemonic.Fst, Mnemonic.Fstp, Mnemonic.Fist, Mnemonic.Fistp, Mnemonic.Fisttp, Mnemonic.Fbstp]);

    static bool[] Table(Mnemonic[] members)
    {
        var t = new bool[HandlerTable.MnemonicCount];
        foreach (var m in members) t[(int)m] = true;
        return t;
    }

    /// <summary>
    /// The check a waiting x87 instruction makes before it runs: #MF when an unmasked exception is pending; true when
    /// it has run here, on the host, because an exception is unmasked and it could raise one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Diverted(CpuState c, ref Insn i) => (~c.Fpu.ControlWord & 0x3f) != 0 && Unmasked(c, ref i);

    [MethodImpl(MethodImplOptions.NoInlining)]
    static bool Unmasked(CpuState c, ref Insn i)
    {
        var f = c.Fpu;
        if (f.Pending) throw Fault(i.Ip, f);
        if (!RaisesExceptions[(int)i.I.Mnemonic]) return false;
        OnHost(c, ref i);
        return true;
    }

    /// <summary>#MF, with the si_code Linux derives from the status word's flags that the control word unmasks.</summary>
    internal static CpuFault Fault(ulong rip, X87 f)
    {
        int err = f.StatusWord & ~f.ControlWord & 0x3f;
        int code = (err & 0x01) != 0 ? 7 : (err & 0x04) != 0 ? 3 : (err & 0x08) != 0 ? 4 : (err & 0x12) != 0 ? 5 : 6; // FPE_FLTINV, FLTDIV, FLTOVF, FLTUND, FLTRES
        return new CpuFault(FaultKind.FloatingPoint, rip, $"unmasked x87 floating-point exception at 0x{rip:x} (status 0x{f.StoredStatus:x4}, control 0x{f.ControlWord:x4})")
        {
            SignalCode = code,
        };
    }

    /// <summary>
    /// The guest's instruction on the host FPU under the guest's masks: register forms as they are, memory forms with
    /// the operand in a buffer the ModRM byte is rewritten to address ([rsi]). A store an unmasked exception
    /// suppresses (anything but precision) leaves memory alone.
    /// </summary>
    static void OnHost(CpuState c, ref Insn i)
    {
        int length = i.I.Length;
        Span<byte> bytes = stackalloc byte[length];
        for (int k = 0; k < length; k++) bytes[k] = c.Mem.Fetch8(i.Ip + (ulong)k);
        if (!HasMemory(ref i))
        {
            HostX87.Execute(c.Fpu, bytes, null, guestMasks: true);
            return;
        }
        int op = 0;
        while (bytes[op] is < 0xd8 or > 0xdf) op++; // past the prefixes: x87 opcodes are D8-DF
        ReadOnlySpan<byte> rewritten = [bytes[op], (byte)((bytes[op + 1] & 0x38) | 0x06)];
        ulong a = Ea(c, ref i);
        int size = i.MemBits >> 3;
        byte* buffer = stackalloc byte[16];
        bool store = Stores[(int)i.I.Mnemonic];
        if (!store) for (int k = 0; k < size; k++) buffer[k] = c.Mem.Read8(a + (ulong)k);
        HostX87.Execute(c.Fpu, rewritten, buffer, guestMasks: true);
        if (store && (c.Fpu.StatusWord & ~c.Fpu.ControlWord & 0x1f) == 0)
            c.Mem.WriteBytes(a, new ReadOnlySpan<byte>(buffer, size));
    }

    static bool HasMemory(ref Insn i)
    {
        for (int n = 0; n < i.I.OpCount; n++)
            if (i.I.GetOpKind(n) == OpKind.Memory) return true;
        return false;
    }
}
