using System.Runtime.InteropServices;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Fpu;

/// <summary>
/// Runs an x87 instruction on the host's own FPU: the guest's x87 state is loaded with FRSTOR, the
/// instruction executes, and FNSAVE reads the state back. The host is x86-64, so the transcendental
/// instructions (FSIN, FPATAN, F2XM1 …) give the very bits the native CPU gives, which no software
/// approximation can promise. Exceptions are masked on the host unless the caller asks for the guest's own
/// masks (<see cref="Execute"/>): an exception unmasked on the host only becomes pending, since the stub ends
/// with FNSAVE, which does not wait, and the host never runs a waiting instruction while one is pending.
/// </summary>
public static unsafe class HostX87
{
    const int ImageSize = 108; // FNSAVE/FRSTOR with 32-bit operand size (the default in 64-bit mode)
    const int CodeSize = 1 << 16;

    static readonly object Gate = new();
    static readonly Dictionary<ulong, nint> Stubs = new();
    static byte* _code;
    static int _used;


    /// <summary>
    /// Executes the instruction whose bytes are <paramref name="instruction"/> (register forms, or a memory
    /// form whose ModRM has been rewritten to address [rsi]) against <paramref name="fpu"/>. With
    /// <paramref name="guestMasks"/> the instruction runs under the guest's exception masks, so an unmasked exception
    /// gets the hardware's response (no result for invalid or divide by zero, a bias-adjusted one for overflow and
    /// underflow) and leaves the exception pending; the caller has made sure none was pending before.
    /// </summary>
    public static void Execute(X87 fpu, ReadOnlySpan<byte> instruction, byte* memory = null, bool guestMasks = false)
    {
        var stub = StubFor(instruction);
        byte* image = stackalloc byte[ImageSize];
        new Span<byte>(image, ImageSize).Clear();
        // Masked by default: an #MF on the host would kill the emulator.
        *(ushort*)image = (ushort)(guestMasks ? fpu.ControlWord : fpu.ControlWord | 0x3f);
        *(ushort*)(image + 4) = (ushort)(fpu.StatusWord & ~X87.PendingBits);
        *(ushort*)(image + 8) = fpu.TagWord;
        int top = fpu.Top;
        for (int i = 0; i < 8; i++)
        {
            var r = fpu.Regs[(top + i) & 7];
            *(ulong*)(image + 28 + 10 * i) = r.Mantissa;
            *(ushort*)(image + 36 + 10 * i) = r.SignExp;
        }
        ((delegate* unmanaged<byte*, byte*, void>)stub)(image, memory);
        ushort cw = fpu.ControlWord;
        fpu.StatusWord = (ushort)(*(ushort*)(image + 4) & ~X87.PendingBits); // ES and B follow from the flags (X87.StoredStatus)
        fpu.TagWord = *(ushort*)(image + 8);
        fpu.ControlWord = cw;
        top = fpu.Top;
        for (int i = 0; i < 8; i++)
        {
            ref var r = ref fpu.Regs[(top + i) & 7];
            r.Mantissa = *(ulong*)(image + 28 + 10 * i);
            r.SignExp = *(ushort*)(image + 36 + 10 * i);
        }
    }

    static nint StubFor(ReadOnlySpan<byte> instruction)
    {
        if (instruction.Length > 7) throw new ArgumentException("x87 instruction too long for a host stub");
        ulong key = (ulong)instruction.Length;
        for (int i = 0; i < instruction.Length; i++) key |= (ulong)instruction[i] << (8 * (i + 1));
        lock (Gate)
        {
            if (Stubs.TryGetValue(key, out var p)) return p;
            if (_code == null)
            {
                _code = LegoEmu.Mem.HostCode.Allocate(CodeSize, "x87 host stubs");
            }
            if (_used + 16 > CodeSize) throw new InvalidOperationException("x87 host stub area full");
            byte* s = _code + _used;
            int n = 0;
            s[n++] = 0xdd; s[n++] = 0x27;                    // frstor [rdi]
            foreach (byte b in instruction) s[n++] = b;       // the instruction itself
            s[n++] = 0xdd; s[n++] = 0x37;                    // fnsave [rdi] (also re-initialises the host FPU)
            s[n++] = 0xc3;                                   // ret
            _used += 16;
            Stubs[key] = (nint)s;
            return (nint)s;
        }
    }
}
