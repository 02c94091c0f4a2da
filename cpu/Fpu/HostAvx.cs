using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LegoEmu.Cpu.Fpu;

/// <summary>
/// Runs one VEX-encoded vector instruction on the host, through a generated stub: its operands become
/// YMM0 (destination, also read: FMA accumulates into it), YMM1, YMM2 and YMM3, loaded from and stored to
/// 32-byte slots, and the stub returns RFLAGS (for VPTEST, VTESTPS, VCOMISS ...). The stub itself loads the
/// guest's MXCSR just around the instruction and stores the flags it raised, so nothing else (the collector,
/// the JIT) ever runs under the guest's rounding mode or leaves flags in it. The host has AVX2, FMA and F16C,
/// so results, NaN propagation and MXCSR flags are the hardware's exactly.
/// </summary>
public static unsafe class HostAvx
{
    const int StubSize = 64, Capacity = 8192;

    static readonly object Gate = new();
    // Keyed by the instruction's 16 key bytes as two halves: a UInt128 key would leave the lookups to the JIT in
    // every process (ReadyToRun cannot precompile methods taking a UInt128 by value).
    static readonly Dictionary<(ulong, ulong), nint> Stubs = new();
    static byte* _code;
    static int _used;


    /// <summary>True when the host can run the stubs (AVX2: VEX encodings and YMM registers).</summary>
    public static bool Available => System.Runtime.Intrinsics.X86.Avx2.IsSupported;

    /// <summary>
    /// Runs the stub made by <see cref="StubFor"/>: operands in, the destination back in <paramref name="d"/>; the
    /// instruction runs under <paramref name="mxcsr"/> (exceptions masked, flags clear), whose flags come back in
    /// <paramref name="raised"/>, and the host's default MXCSR is in place afterwards. Returns RFLAGS.
    /// </summary>
    public static ulong Run(nint stub, ref Vector256<byte> d, in Vector256<byte> a, in Vector256<byte> b, in Vector256<byte> c, uint mxcsr, out uint raised)
    {
        var f = (delegate* unmanaged[SuppressGCTransition]<Vector256<byte>*, Vector256<byte>*, Vector256<byte>*, Vector256<byte>*, uint*, ulong>)stub;
        uint* control = stackalloc uint[2];
        control[0] = (mxcsr & ~0x3fu) | HostMxcsr.AllMasked;
        control[1] = HostMxcsr.Default;
        ulong flags;
        Vector256<byte> ta = a, tb = b, tc = c;
        fixed (Vector256<byte>* pd = &d)
            flags = f(pd, &ta, &tb, &tc, control);
        raised = control[0] & 0x3f;
        return flags;
    }

    /// <summary>The stub for an instruction encoded (at most 15 bytes) on registers 0..3 only.</summary>
    public static nint StubFor(ReadOnlySpan<byte> instruction)
    {
        if (instruction.Length is 0 or > 15) throw new ArgumentException("an x86 instruction is 1 to 15 bytes", nameof(instruction));
        Span<byte> keyBytes = stackalloc byte[16];
        instruction.CopyTo(keyBytes);
        keyBytes[15] = (byte)instruction.Length;
        var key = (MemoryMarshal.Read<ulong>(keyBytes), MemoryMarshal.Read<ulong>(keyBytes[8..]));
        lock (Gate)
        {
            if (Stubs.TryGetValue(key, out var p)) return p;
            // Callers may be inside a guest-MXCSR bracket: what making a stub runs must not leave its flags to the guest.
            uint mxcsr = HostMxcsr.Read();
            try { return MakeStub(key, instruction); }
            finally { HostMxcsr.Write(mxcsr); }
        }
    }

    static nint MakeStub((ulong, ulong) key, ReadOnlySpan<byte> instruction)
    {
        if (_code == null)
        {
            _code = LegoEmu.Mem.HostCode.Allocate(Capacity * StubSize, "AVX host stubs");
        }
        if (_used >= Capacity) throw new InvalidOperationException("AVX host stub area full");
        byte* s = _code + _used * StubSize;
        int n = 0;
        void Emit(params ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes) s[n++] = b;
        }
        Emit(0xc5, 0xfe, 0x6f, 0x07); // vmovdqu ymm0, [rdi]
        Emit(0xc5, 0xfe, 0x6f, 0x0e); // vmovdqu ymm1, [rsi]
        Emit(0xc5, 0xfe, 0x6f, 0x12); // vmovdqu ymm2, [rdx]
        Emit(0xc5, 0xfe, 0x6f, 0x19); // vmovdqu ymm3, [rcx]
        Emit(0x41, 0x0f, 0xae, 0x10); // ldmxcsr [r8]: the guest's
        Emit(instruction);
        Emit(0x9c, 0x58);             // pushfq; pop rax
        Emit(0x41, 0x0f, 0xae, 0x18); // stmxcsr [r8]: the flags raised
        Emit(0x41, 0x0f, 0xae, 0x50, 0x04); // ldmxcsr [r8+4]: the host's default
        Emit(0xc5, 0xfe, 0x7f, 0x07); // vmovdqu [rdi], ymm0
        Emit(0xc5, 0xf8, 0x77);       // vzeroupper
        Emit(0xc3);                   // ret
        _used++;
        Stubs[key] = (nint)s;
        return (nint)s;
    }
}
