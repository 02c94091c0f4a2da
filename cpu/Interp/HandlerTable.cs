using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// Maps each Iced mnemonic to its handler. Families register themselves here, one file per
/// family; anything unregistered runs <see cref="Unimplemented"/>, which stops the guest loudly.
/// </summary>
public static unsafe class HandlerTable
{
    internal static readonly int MnemonicCount = LegoEmu.Cpu.State.EnumCount.Mnemonics;
    static readonly delegate*<CpuState, ref Insn, void>[] ByMnemonic = new delegate*<CpuState, ref Insn, void>[MnemonicCount];
    static readonly bool[] Implemented = new bool[MnemonicCount];
    static readonly int CodeCount = LegoEmu.Cpu.State.EnumCount.Codes;
    /// <summary>
    /// VEX forms are handled per Iced code: by a handler of their mnemonic's, one of their own (<see cref="SetCode"/>),
    /// or as the host's instruction (<see cref="AvxHost"/>). Each code is resolved when first decoded: telling the host's
    /// forms apart reads Iced's opcode tables, which cost about 7 ms to build on the guest's thread, and the VEX string
    /// routines of glibc, which nearly every process runs, need none of them.
    /// </summary>
    static readonly delegate*<CpuState, ref Insn, void>[] ByCode = new delegate*<CpuState, ref Insn, void>[CodeCount];
    /// <summary>Per code: the VEX form runs inside the guest-MXCSR bracket (the scalar conversions of <see cref="AvxConvert"/>).</summary>
    static readonly bool[] Bracketed = new bool[CodeCount];
    static readonly bool[] BracketedMnemonic = new bool[MnemonicCount];
    /// <summary>Per code: <see cref="ByCode"/> and <see cref="Bracketed"/> hold its resolution (written last, under <see cref="VexLock"/>).</summary>
    static readonly bool[] VexResolved = new bool[CodeCount];
    static readonly object VexLock = new();

    /// <summary>Resolves one VEX code of 64-bit mode (see <see cref="ByCode"/>).</summary>
    static void ResolveVex(Code code)
    {
        int c = (int)code;
        if (Volatile.Read(ref VexResolved[c])) return;
        lock (VexLock)
        {
            if (VexResolved[c]) return;
            int m = (int)code.Mnemonic();
            delegate*<CpuState, ref Insn, void> h = null;
            bool bracketed = false;
            if (Implemented[m])
            {
                h = ByMnemonic[m];
                bracketed = BracketedMnemonic[m];
            }
            else if (AvxHost.Eligible(code))
                h = AvxHost.Handler; // its stub switches MXCSR itself, just around the instruction
            ByCode[c] = h;
            Bracketed[c] = bracketed;
            Volatile.Write(ref VexResolved[c], true);
        }
    }

    static HandlerTable()
    {
        for (int i = 0; i < ByMnemonic.Length; i++) ByMnemonic[i] = &Unimplemented;
        InstAlu.Register();
        InstMov.Register();
        InstStack.Register();
        InstBranch.Register();
        InstMulDiv.Register();
        InstShift.Register();
        InstBits.Register();
        InstBmi.Register();
        InstString.Register();
        InstSystem.Register();
        InstAtomic.Register();
        InstSseMove.Register();
        InstSse2Integer.Register();
        InstSseFloat.Register();
        InstSseConvert.Register();
        InstSse3.Register();
        InstSsse3.Register();
        InstSse41.Register();
        InstSse42.Register();
        InstPclmul.Register();
        InstAes.Register();
        AvxMove.Register();
        Avx2Integer.Register();
        AvxConvert.Register();
        AvxMaskMove.Register();
        InstXsave.Register();
        InstX87.Register();
        InstMmx.Register();
        InstX87Host.Register();
    }

    static readonly bool[] FloatingPoint = BuildFloatingPoint();

    /// <summary>The SSE instructions whose results or flags depend on MXCSR (arithmetic, compares, conversions, rounding).</summary>
    static bool[] BuildFloatingPoint()
    {
        var t = new bool[MnemonicCount];
        foreach (var m in new[]
                 {
                     Mnemonic.Addss, Mnemonic.Addsd, Mnemonic.Addps, Mnemonic.Addpd, Mnemonic.Subss, Mnemonic.Subsd, Mnemonic.Subps, Mnemonic.Subpd,
                     Mnemonic.Mulss, Mnemonic.Mulsd, Mnemonic.Mulps, Mnemonic.Mulpd, Mnemonic.Divss, Mnemonic.Divsd, Mnemonic.Divps, Mnemonic.Divpd,
                     Mnemonic.Minss, Mnemonic.Minsd, Mnemonic.Minps, Mnemonic.Minpd, Mnemonic.Maxss, Mnemonic.Maxsd, Mnemonic.Maxps, Mnemonic.Maxpd,
                     Mnemonic.Sqrtss, Mnemonic.Sqrtsd, Mnemonic.Sqrtps, Mnemonic.Sqrtpd, Mnemonic.Rcpss, Mnemonic.Rcpps, Mnemonic.Rsqrtss, Mnemonic.Rsqrtps,
                     Mnemonic.Ucomiss, Mnemonic.Ucomisd, Mnemonic.Comiss, Mnemonic.Comisd, Mnemonic.Cmpss, Mnemonic.Cmpsd, Mnemonic.Cmpps, Mnemonic.Cmppd,
                     Mnemonic.Cvtsi2sd, Mnemonic.Cvtsi2ss, Mnemonic.Cvttsd2si, Mnemonic.Cvtsd2si, Mnemonic.Cvttss2si, Mnemonic.Cvtss2si,
                     Mnemonic.Cvtss2sd, Mnemonic.Cvtsd2ss, Mnemonic.Cvtdq2ps, Mnemonic.Cvtps2dq, Mnemonic.Cvttps2dq, Mnemonic.Cvtdq2pd,
                     Mnemonic.Cvtpd2dq, Mnemonic.Cvttpd2dq, Mnemonic.Cvtps2pd, Mnemonic.Cvtpd2ps,
                     Mnemonic.Addsubps, Mnemonic.Addsubpd, Mnemonic.Haddps, Mnemonic.Haddpd, Mnemonic.Hsubps, Mnemonic.Hsubpd,
                     Mnemonic.Roundss, Mnemonic.Roundsd, Mnemonic.Roundps, Mnemonic.Roundpd, Mnemonic.Dpps, Mnemonic.Dppd,
                     Mnemonic.Cvtpi2ps, Mnemonic.Cvtps2pi, Mnemonic.Cvttps2pi, Mnemonic.Cvtpd2pi, Mnemonic.Cvttpd2pi, Mnemonic.Cvtpi2pd,
                 })
            t[(int)m] = true;
        return t;
    }

    /// <summary>True when the instruction must run with the guest's MXCSR live on the host (see <see cref="CpuState.FpEnter"/>).</summary>
    public static bool UsesGuestMxcsr(in Instruction ins) =>
        ins.Encoding == EncodingKind.Legacy
            ? FloatingPoint[(int)ins.Mnemonic] && !(ins.Mnemonic == Mnemonic.Cmpsd && ins.Code == Code.Cmpsd_m32_m32)
            : ins.Encoding == EncodingKind.VEX && VexBracketed(ins.Code);

    static bool VexBracketed(Code code)
    {
        ResolveVex(code);
        return Bracketed[(int)code];
    }

    public static readonly delegate*<CpuState, ref Insn, void> MxcsrBracket = &Bracket;

    /// <summary>LOCK-prefixed instructions and XCHG with memory: atomic with respect to other processor components.</summary>
    public static bool IsLockedReadModifyWrite(in Instruction ins)
    {
        if (ins.Code == Code.INVALID) return false;
        bool memory = false;
        for (int n = 0; n < ins.OpCount; n++) memory |= ins.GetOpKind(n) == OpKind.Memory;
        return memory && (ins.HasLockPrefix || ins.Mnemonic == Mnemonic.Xchg);
    }

    public static readonly delegate*<CpuState, ref Insn, void> LockedBracket = &Locked;

    /// <summary>
    /// The line is claimed exclusive before the handler reads it, so its read and write both hit and no
    /// invalidation (applied only at misses and block boundaries) can fall between them.
    /// </summary>
    static void Locked(CpuState c, ref Insn i)
    {
        c.Mem.ClaimForWrite(Operands.Ea(c, ref i), Math.Max(1, i.MemBits >> 3));
        i.Inner(c, ref i);
    }

    static void Bracket(CpuState c, ref Insn i)
    {
        if (!i.Warm)
        {
            if (!Volatile.Read(ref _floatingPointPrepared)) PrepareFloatingPointHandlers();
            WarmUp(c, ref i);
        }
        if ((c.Mxcsr & 0x1f80) != 0x1f80)
        {
            Unmasked(c, ref i);
            return;
        }
        c.FpEnter();
        try
        {
            i.Inner(c, ref i);
        }
        finally
        {
            c.FpLeave();
        }
    }

    /// <summary>
    /// The bracket when the guest has unmasked an exception: the registers are kept aside, and if the instruction
    /// raised an unmasked exception they come back (SSE results are registers, never memory) and it faults (#XM).
    /// </summary>
    static void Unmasked(CpuState c, ref Insn i)
    {
        Span<ulong> r = stackalloc ulong[16];
        Span<System.Runtime.Intrinsics.Vector128<byte>> x = stackalloc System.Runtime.Intrinsics.Vector128<byte>[16];
        Span<System.Runtime.Intrinsics.Vector128<byte>> y = stackalloc System.Runtime.Intrinsics.Vector128<byte>[16];
        ((ReadOnlySpan<ulong>)c.R).CopyTo(r);
        c.Xmm.CopyTo(x);
        c.YmmHigh.CopyTo(y);
        c.Materialize();
        ulong flags = c.RflagsBits;
        uint mxcsr = c.Mxcsr;
        uint raised;
        c.FpEnter();
        try
        {
            i.Inner(c, ref i);
        }
        finally
        {
            raised = LegoEmu.Cpu.Fpu.HostMxcsr.Read() & 0x3f;
            LegoEmu.Cpu.Fpu.HostMxcsr.Write(LegoEmu.Cpu.Fpu.HostMxcsr.Default);
        }
        if (!LegoEmu.Cpu.Fpu.SimdExceptions.Faults(mxcsr, raised))
        {
            c.Mxcsr |= raised;
            return;
        }
        r.CopyTo((Span<ulong>)c.R);
        x.CopyTo(c.Xmm);
        y.CopyTo(c.YmmHigh);
        c.Materialize();
        c.RflagsBits = flags;
        c.Mxcsr = mxcsr | LegoEmu.Cpu.Fpu.SimdExceptions.Reported(mxcsr, raised);
        throw LegoEmu.Cpu.Fpu.SimdExceptions.Fault(i.Ip, c.Mxcsr);
    }

    /// <summary>
    /// The first execution of an instruction runs its handler once outside the bracket and undoes it:
    /// whatever the runtime compiles or initialises on that path then happens under the host's own
    /// MXCSR, so the bracketed run that counts sees only the instruction's own exceptions.
    /// </summary>
    static void WarmUp(CpuState c, ref Insn i)
    {
        var r = ((ReadOnlySpan<ulong>)c.R).ToArray();
        var x = (System.Runtime.Intrinsics.Vector128<byte>[])c.Xmm.Clone();
        var y = (System.Runtime.Intrinsics.Vector128<byte>[])c.YmmHigh.Clone();
        ulong bits = c.RflagsBits, res = c.FlagRes, s1 = c.FlagSrc1, s2 = c.FlagSrc2, aux = c.FlagAux;
        var op = c.Op;
        byte opBits = c.OpBits;
        uint mxcsr = c.Mxcsr;
        // Its memory operand is read again by the run that counts: this read is not one of the guest's accesses
        // (translated code, which has no warm-up, counts one, and so must the interpreter).
        long accesses = c.Mem.Accesses;
        try
        {
            i.Inner(c, ref i);
        }
        catch (Exception)
        {
            // The real run below raises the same fault properly.
        }
        c.Mem.Accesses = accesses;
        r.CopyTo((Span<ulong>)c.R);
        Array.Copy(x, c.Xmm, x.Length);
        Array.Copy(y, c.YmmHigh, y.Length);
        c.RflagsBits = bits;
        c.FlagRes = res;
        c.FlagSrc1 = s1;
        c.FlagSrc2 = s2;
        c.FlagAux = aux;
        c.Op = op;
        c.OpBits = opBits;
        c.Mxcsr = mxcsr;
        i.Warm = true;
    }

    static bool _floatingPointPrepared;
    static readonly object PrepareLock = new();

    /// <summary>
    /// Compiles the floating-point handlers before the first bracketed instruction runs: a method compiled
    /// for the first time inside the MXCSR bracket would run the JIT under the guest's rounding mode and
    /// leak its flags to the guest. A component's warm-up thread does it (<see cref="HandlerWarmUp"/>); when those
    /// handlers were JIT-compiled, it cost a python3 start about 0.1 s on the guest's thread (reflection, class
    /// constructors, the JIT), now a few milliseconds of reflection and binding. A guest that gets there first, or
    /// runs in a plain <c>run</c> (no warm-up thread), does it itself, or waits for it.
    /// </summary>
    public static void PrepareFloatingPointHandlers()
    {
        // Components on other host threads may reach their first bracketed instruction at the same time.
        lock (PrepareLock)
        {
            if (!_floatingPointPrepared) PrepareFloatingPointMethods();
            Volatile.Write(ref _floatingPointPrepared, true);
        }
    }

    static void PrepareFloatingPointMethods()
    {
        // The bracket itself first: a lazily compiled FpLeave would run the JIT between the instruction and the flag read.
        foreach (var t in new[] { typeof(LegoEmu.Cpu.Fpu.HostMxcsr), typeof(LegoEmu.Cpu.Fpu.HostSse), typeof(LegoEmu.Cpu.Fpu.HostAvx), typeof(CpuState), typeof(HandlerTable) })
            foreach (var m in t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.DeclaredOnly))
                if (!m.ContainsGenericParameters && !m.IsAbstract) System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(m.MethodHandle);
        LegoEmu.Cpu.Fpu.HostMxcsr.Write(LegoEmu.Cpu.Fpu.HostMxcsr.Read());
        foreach (var t in new[] { typeof(InstSseFloat), typeof(InstSseConvert), typeof(InstSse3), typeof(InstSse41), typeof(InstMmx), typeof(Operands),
                     typeof(AvxHost), typeof(AvxConvert), typeof(VexOperands) })
        {
            System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(t.TypeHandle);
            foreach (var m in t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.DeclaredOnly))
                if (!m.ContainsGenericParameters) System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(m.MethodHandle);
        }
    }

    /// <summary>
    /// A handler for one VEX form only (the memory form of a mnemonic whose register form runs on the host, say), over
    /// its mnemonic's: the code counts as resolved from here on.
    /// </summary>
    internal static void SetCode(Code code, delegate*<CpuState, ref Insn, void> h, bool bracketed = false)
    {
        ByCode[(int)code] = h;
        Bracketed[(int)code] = bracketed;
        VexResolved[(int)code] = true;
    }

    /// <summary>The handler of a mnemonic, legacy or VEX (then for all its VEX forms).</summary>
    internal static void Set(Mnemonic m, delegate*<CpuState, ref Insn, void> h) => Set(m, h, bracketed: false);

    /// <summary>The handler of a VEX floating-point mnemonic, which runs under the guest's MXCSR.</summary>
    internal static void SetBracketed(Mnemonic m, delegate*<CpuState, ref Insn, void> h) => Set(m, h, bracketed: true);

    static void Set(Mnemonic m, delegate*<CpuState, ref Insn, void> h, bool bracketed)
    {
        ByMnemonic[(int)m] = h;
        Implemented[(int)m] = true;
        BracketedMnemonic[(int)m] = bracketed;
    }

    public static delegate*<CpuState, ref Insn, void> For(in Instruction ins)
    {
        if (ins.Code == Code.INVALID) return &Invalid;
        // Legacy and VEX encodings have mnemonics of their own (ADDPS, VADDPS; ANDN is VEX only); EVEX forms
        // share the VEX ones, and neither they nor XOP or 3DNow! exist on the CPUs LegoEmu models.
        if (ins.Encoding is not (EncodingKind.Legacy or EncodingKind.VEX)) return &Unimplemented;
        if (ins.Encoding == EncodingKind.VEX)
        {
            ResolveVex(ins.Code);
            return ByCode[(int)ins.Code] != null ? ByCode[(int)ins.Code] : &Unimplemented;
        }
        // MMX forms share mnemonics with the SSE ones but work on the x87-aliased MM registers.
        if (InstMmx.UsesMmx(ins))
        {
            var mmx = InstMmx.For(ins);
            return mmx != null ? mmx : &Unimplemented;
        }
        return ByMnemonic[(int)ins.Mnemonic];
    }

    /// <summary>True when the mnemonic has a handler (used by tests and disasm to flag gaps).</summary>
    public static bool IsImplemented(in Instruction ins) =>
        ins.Code != Code.INVALID && (ins.Encoding is EncodingKind.Legacy or EncodingKind.VEX) && !IsInvalidHere(ins) &&
        (ins.Encoding == EncodingKind.VEX ? VexHandled(ins.Code)
            : InstMmx.UsesMmx(ins) ? InstMmx.For(ins) != null : Implemented[(int)ins.Mnemonic]);

    static bool VexHandled(Code code)
    {
        ResolveVex(code);
        return ByCode[(int)code] != null;
    }

    /// <summary>Encodings Iced accepts that this CPU model raises #UD for (0F 0D with a register operand).</summary>
    static bool IsInvalidHere(in Instruction ins) =>
        ins.Mnemonic == Mnemonic.Reservednop && ins.Op0Kind == OpKind.Register && ins.Code.ToString().EndsWith("0F0D", StringComparison.Ordinal);

    static void Unimplemented(CpuState c, ref Insn i) =>
        throw new CpuFault(FaultKind.Unimplemented, i.Ip, $"unsupported instruction {Describe(c, ref i)}");

    static void Invalid(CpuState c, ref Insn i) =>
        throw new CpuFault(FaultKind.InvalidOpcode, i.Ip, $"invalid opcode at 0x{i.Ip:x}");

    /// <summary>"NAME (bytes: text) at 0xADDR", for the one line a stopped guest gets.</summary>
    public static string Describe(CpuState c, ref Insn i)
    {
        var f = new IntelFormatter();
        var o = new StringOutput();
        f.Format(i.I, o);
        var bytes = new System.Text.StringBuilder();
        for (int k = 0; k < i.I.Length; k++) bytes.Append(k == 0 ? "" : " ").Append(c.Mem.Fetch8(i.Ip + (ulong)k).ToString("x2"));
        return $"{i.I.Mnemonic.ToString().ToUpperInvariant()} ({bytes}: {o}) at 0x{i.Ip:x}";
    }
}
