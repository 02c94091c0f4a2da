using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LegoEmu.Cpu.Fpu;

/// <summary>
/// Runs an SSE instruction of the form <c>op xmm0, xmm1[, imm8]</c> on the host, through a generated
/// stub: for the few instructions whose immediate .NET intrinsics do not let through unchanged (the
/// precision-exception bit of ROUNDxx), so the result and the MXCSR flags are the host's exactly.
/// </summary>
public static unsafe class HostSse
{
    const int StubSize = 32, Capacity = 4096;

    static readonly object Gate = new();
    static readonly Dictionary<ulong, nint> Stubs = new();
    static byte* _code;
    static int _used;


    /// <summary>dst = op(dst, src) where the instruction is given by its opcode bytes (before ModRM) and immediate.</summary>
    public static Vector128<byte> Execute(ReadOnlySpan<byte> opcode, byte imm, in Vector128<byte> dst, in Vector128<byte> src) =>
        Run(StubFor(opcode, imm, withImmediate: true), dst, src);

    /// <summary>dst = op(dst, src) for an instruction without an immediate (ADDPS, MULSD ...).</summary>
    public static Vector128<byte> Execute(ReadOnlySpan<byte> opcode, in Vector128<byte> dst, in Vector128<byte> src) =>
        Run(StubFor(opcode, 0, withImmediate: false), dst, src);

    static Vector128<byte> Run(nint code, in Vector128<byte> dst, in Vector128<byte> src)
    {
        var stub = (delegate* unmanaged[SuppressGCTransition]<Vector128<byte>*, Vector128<byte>*, void>)code;
        Vector128<byte> d = dst, s = src;
        stub(&d, &s);
        return d;
    }

    static nint StubFor(ReadOnlySpan<byte> opcode, byte imm, bool withImmediate)
    {
        ulong key = withImmediate ? (ulong)imm : 0x100;
        for (int i = 0; i < opcode.Length; i++) key = key * 257 + opcode[i] + 1;
        lock (Gate)
        {
            if (Stubs.TryGetValue(key, out var p)) return p;
            // Callers may be inside a guest-MXCSR bracket: what making a stub runs (the mmap P/Invoke
            // stub's JIT, a GC for the dictionary) must not leave its floating-point flags to the guest.
            uint mxcsr = HostMxcsr.Read();
            try { return MakeStub(key, opcode, imm, withImmediate); }
            finally { HostMxcsr.Write(mxcsr); }
        }
    }

    static nint MakeStub(ulong key, ReadOnlySpan<byte> opcode, byte imm, bool withImmediate)
    {
        if (_code == null)
        {
            _code = LegoEmu.Mem.HostCode.Allocate(Capacity * StubSize, "SSE host stubs");
        }
        if (_used >= Capacity) throw new InvalidOperationException("SSE host stub area full");
        byte* s = _code + _used * StubSize;
        int n = 0;
        s[n++] = 0x0f; s[n++] = 0x10; s[n++] = 0x07;          // movups xmm0, [rdi]
        s[n++] = 0x0f; s[n++] = 0x10; s[n++] = 0x0e;          // movups xmm1, [rsi]
        foreach (byte b in opcode) s[n++] = b;
        s[n++] = 0xc1;                                        // ModRM: xmm0, xmm1
        if (withImmediate) s[n++] = imm;
        s[n++] = 0x0f; s[n++] = 0x11; s[n++] = 0x07;          // movups [rdi], xmm0
        s[n++] = 0xc3;                                        // ret
        _used++;
        Stubs[key] = (nint)s;
        return (nint)s;
    }
}
