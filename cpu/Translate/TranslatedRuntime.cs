using System.Runtime.ExceptionServices;
using System.Runtime.Intrinsics;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// What translated code calls off its fast paths: ExCache misses, interpreter handlers for instructions
/// without an emitter, and the rethrow of a fault once the region has stored exact state. A slow path
/// never throws into the region: it parks the exception in <see cref="CpuState.PendingFault"/> and the
/// region branches to its fault exit, which spills registers and flags, sets RIP and rethrows.
/// </summary>
public static class TranslatedRuntime
{
    /// <summary>
    /// How often translated code ran each mnemonic through its interpreter handler, process-wide: the
    /// profile that says which emitter to write next (printed by --stats).
    /// </summary>
    public static readonly long[] FallbackCounts = new long[EnumCount.Mnemonics];

    static void Park(CpuState c, Exception e) => c.PendingFault = ExceptionDispatchInfo.Capture(e);

    // Translated code counts its accesses per block; a slow path takes back the one its call counts. Every traced
    // access and every miss comes through here, so the instruction's address is set for the trace here too.
    public static ulong Load8(CpuState c, ulong ip, ulong a) { long n = Enter(c, ip); try { return c.Mem.Read8(a); } catch (Exception e) { Park(c, e); return 0; } finally { Leave(c, ip, n); } }
    public static ulong Load16(CpuState c, ulong ip, ulong a) { long n = Enter(c, ip); try { return c.Mem.Read16(a); } catch (Exception e) { Park(c, e); return 0; } finally { Leave(c, ip, n); } }
    public static ulong Load32(CpuState c, ulong ip, ulong a) { long n = Enter(c, ip); try { return c.Mem.Read32(a); } catch (Exception e) { Park(c, e); return 0; } finally { Leave(c, ip, n); } }
    public static ulong Load64(CpuState c, ulong ip, ulong a) { long n = Enter(c, ip); try { return c.Mem.Read64(a); } catch (Exception e) { Park(c, e); return 0; } finally { Leave(c, ip, n); } }

    public static void Store8(CpuState c, ulong ip, ulong a, ulong v) { long n = Enter(c, ip); try { c.Mem.Write8(a, (byte)v); } catch (Exception e) { Park(c, e); } finally { Leave(c, ip, n); } }
    public static void Store16(CpuState c, ulong ip, ulong a, ulong v) { long n = Enter(c, ip); try { c.Mem.Write16(a, (ushort)v); } catch (Exception e) { Park(c, e); } finally { Leave(c, ip, n); } }
    public static void Store32(CpuState c, ulong ip, ulong a, ulong v) { long n = Enter(c, ip); try { c.Mem.Write32(a, (uint)v); } catch (Exception e) { Park(c, e); } finally { Leave(c, ip, n); } }
    public static void Store64(CpuState c, ulong ip, ulong a, ulong v) { long n = Enter(c, ip); try { c.Mem.Write64(a, v); } catch (Exception e) { Park(c, e); } finally { Leave(c, ip, n); } }

    // The stored vector comes by reference: ReadyToRun cannot precompile a method taking a Vector128 by value.
    public static Vector128<byte> Load128(CpuState c, ulong ip, ulong a) { long n = Enter(c, ip); try { return c.Mem.Read128(a); } catch (Exception e) { Park(c, e); return default; } finally { Leave(c, ip, n); } }
    public static void Store128(CpuState c, ulong ip, ulong a, in Vector128<byte> v) { long n = Enter(c, ip); try { c.Mem.Write128(a, v); } catch (Exception e) { Park(c, e); } finally { Leave(c, ip, n); } }

    static long Enter(CpuState c, ulong ip)
    {
        Settle(c);
        c.Mem.Ip = ip;
        return c.Mem.Accesses;
    }

    /// <summary>
    /// Takes back the access the inline count already holds. One that crossed into the next line counted a
    /// second access here, which a profile charges to the instruction (its inline count has only one).
    /// </summary>
    static void Leave(CpuState c, ulong ip, long before)
    {
        var m = c.Mem;
        m.Accesses--;
        long extra = m.Accesses - before;
        if (extra > 0 && m.Cache.Profile is { } p) p.At(ip).Accesses += extra;
    }

    /// <summary>Runs one instruction through its interpreter handler, as the interpreter would; true when it faulted.</summary>
    public static unsafe bool Interpret(CpuState c, Insn[] insns, int index)
    {
        Settle(c);
        ref Insn i = ref insns[index];
        Interlocked.Increment(ref FallbackCounts[(int)i.I.Mnemonic]);
        c.Rip = i.NextIp;
        c.Mem.Ip = i.Ip;
        long before = c.Mem.Accesses;
        try
        {
            i.Exec(c, ref i);
            return false;
        }
        catch (Exception e)
        {
            c.Rip = i.Ip;
            Park(c, e);
            return true;
        }
        finally
        {
            // The handler counts its own accesses; the block's run counter counts the instruction.
            if (c.Mem.Cache.Profile is { } p) p.At(i.Ip).Accesses += c.Mem.Accesses - before;
        }
    }

    /// <summary>Folds the MXCSR flags raised by inline floating point into the guest's, and leaves the host at its default.</summary>
    public static void FpSync(CpuState c)
    {
        c.FpPending = false;
        c.Mxcsr |= LegoEmu.Cpu.Fpu.HostMxcsr.Read() & 0x3f;
        LegoEmu.Cpu.Fpu.HostMxcsr.Write(LegoEmu.Cpu.Fpu.HostMxcsr.Default);
    }

    /// <summary>
    /// At the entry of a region with inline floating point: the host's flags are cleared unless they are the guest's,
    /// left by such a region that chained here (<see cref="CpuState.FpPending"/>); true when the guest MXCSR lets
    /// floating point run inline (the default one). Loading and storing the MXCSR at every region boundary was a tenth
    /// of jq's time, whose regions of double arithmetic enter one another over a hundred million times.
    /// </summary>
    public static bool FpEnter(CpuState c)
    {
        if (!c.FpPending) LegoEmu.Cpu.Fpu.HostMxcsr.Write(LegoEmu.Cpu.Fpu.HostMxcsr.Default);
        return (c.Mxcsr & 0xffc0) == LegoEmu.Cpu.Fpu.HostMxcsr.Default;
    }

    /// <summary>An exit that returns to the dispatcher folds the flags.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static void FpSettle(CpuState c) => FpSync(c);

    /// <summary>
    /// At the start of every slow path translated code calls: flags a region with floating point left in the host
    /// (<see cref="CpuState.FpPending"/>) go to the guest's MXCSR before .NET code runs, which may raise flags of its
    /// own (a region with floating point has folded them already; one without may have been chained to from one).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static void Settle(CpuState c)
    {
        if (c.FpPending) FpSettle(c);
    }

    /// <summary>Clears the host's flags for inline floating point; true when the guest MXCSR lets it run inline (the default one).</summary>
    public static bool FpResume(CpuState c)
    {
        LegoEmu.Cpu.Fpu.HostMxcsr.Write(LegoEmu.Cpu.Fpu.HostMxcsr.Default);
        return (c.Mxcsr & 0xffc0) == LegoEmu.Cpu.Fpu.HostMxcsr.Default;
    }

    /// <summary>
    /// Compiles what translated code calls, before any region runs: a method compiled on first call from a
    /// region with inline floating point would run the JIT there and add its flags to the guest's MXCSR.
    /// </summary>
    internal static void Prepare()
    {
        foreach (var t in new[] { typeof(TranslatedRuntime), typeof(LazyFlags), typeof(LegoEmu.Cpu.Fpu.HostMxcsr) })
            foreach (var m in t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.DeclaredOnly))
                if (!m.ContainsGenericParameters && !m.IsAbstract) System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(m.MethodHandle);
        System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(typeof(LegoEmu.Mem.Cache.CacheView).GetMethod(nameof(LegoEmu.Mem.Cache.CacheView.TouchSlot))!.MethodHandle);
        ExitStub.Prepare();
        PrepareFirstCompile();
    }

    /// <summary>
    /// What the first regions' compiles would otherwise pay for once, while the guest interprets the loop they are for:
    /// what the runtime compiles at the first use of the compiler's generic collections and of a dynamic method's entry
    /// point. Paid here, before either compiler thread takes its first job, instead of inside the first regions'
    /// compiles, where the two threads met the same first uses.
    /// </summary>
    static void PrepareFirstCompile()
    {
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(List<Insn>).TypeHandle);
        // A dictionary keyed by a struct compares its comparer with the default one, which the runtime makes by reflection.
        _ = EqualityComparer<PendingFlags>.Default;
        var descriptor = typeof(System.Reflection.Emit.DynamicMethod).GetMethod("GetMethodDescriptor",
            System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance);
        if (descriptor?.Invoke(ExitStub.Method, null) is RuntimeMethodHandle handle) _ = handle.GetFunctionPointer();
    }

    /// <summary>A misaligned 16-byte access by an instruction that requires alignment (#GP).</summary>
    public static void AlignmentFault(CpuState c, ulong ip, ulong a, bool store)
    {
        Settle(c);
        Park(c, new CpuFault(FaultKind.GeneralProtection, ip, $"misaligned 16-byte {(store ? "store" : "access")} at 0x{a:x}"));
    }

    /// <summary>
    /// A fault stub's bookkeeping: RIP at the faulting instruction, and the instructions and inline accesses
    /// of the region's finished blocks (in <paramref name="progress"/>) plus those of the faulting block.
    /// </summary>
    internal static void SettleFault(Region r, CpuState c, int site, long progress)
    {
        var s = r.FaultSites[site];
        if (r.Profile is { } rp && c.Mem.Cache.Profile is { } p) rp.Fault(p, s.Block, (int)s.Retired, s.Accesses);
        c.Rip = s.Ip;
        Retire(r, c, progress);
        c.InstructionsRetired += s.Retired;
        r.InstructionsRun += s.Retired;
        c.Mem.Accesses += s.Accesses;
    }

    /// <summary>
    /// A miss exit's bookkeeping: RIP at the instruction that missed, which has not run (the interpreter runs it
    /// next), and the counters as a fault at that instruction leaves them.
    /// </summary>
    internal static void SettleMiss(Region r, CpuState c, int site, long progress)
    {
        SettleFault(r, c, site, progress);
        r.MissExits++;
        c.MissedRegion = r;
    }

    /// <summary>
    /// A region leaving at a site (<see cref="Region.FaultSites"/>), its registers and flags already in the CPU state:
    /// a miss exit returns what is left of the time slice (<paramref name="budget"/> less the blocks run, see
    /// <see cref="RegionEmitter.SliceLeft"/>); a fault is raised.
    /// </summary>
    internal static long LeaveAtSite(Region r, CpuState c, int site, long progress, long budget)
    {
        Settle(c);
        if (!r.FaultSites[site].Miss)
        {
            SettleFault(r, c, site, progress);
            Rethrow(c);
            return 0;
        }
        SettleMiss(r, c, site, progress);
        return RegionEmitter.SliceLeft(budget, progress);
    }

    /// <summary>An exit with no region linked to it: the dispatcher links the one it finds there (see <see cref="CpuState.UnlinkedExit"/>).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static long Unlinked(CpuState c, Region r, long left)
    {
        Settle(c);
        c.UnlinkedExit = r;
        return left;
    }

    /// <summary>IMUL's CF|OF at 32 bits: set when the signed product of the low halves does not fit in 32 bits.</summary>
    internal static ulong ImulFlags32(ulong a, ulong b)
    {
        long full = (long)(int)a * (int)b;
        return full != (int)full ? Rf.CF | Rf.OF : 0;
    }

    /// <summary>IMUL's CF|OF at 64 bits: set when the 128-bit signed product is not the sign extension of its low half.</summary>
    internal static ulong ImulFlags64(ulong a, ulong b)
    {
        long hi = Math.BigMul((long)a, (long)b, out long lo);
        return hi != lo >> 63 ? Rf.CF | Rf.OF : 0;
    }

    /// <summary>At a region's exit: the instructions and inline accesses of its finished blocks join the counters.</summary>
    internal static void Retire(Region r, CpuState c, long progress)
    {
        long retired = RegionEmitter.InstructionsOf(progress);
        c.InstructionsRetired += retired;
        r.InstructionsRun += retired;
        c.Mem.Accesses += RegionEmitter.AccessesOf(progress);
    }

    /// <summary>Raises the parked fault; the region has already left RIP, registers, flags and counters exact.</summary>
    public static void Rethrow(CpuState c)
    {
        var f = c.PendingFault!;
        c.PendingFault = null;
        f.Throw();
    }
}
