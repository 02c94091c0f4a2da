using System.Runtime.Intrinsics;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Fpu;

/// <summary>
/// The XSAVE area of LegoEmu's CPU at v3, XCR0 = x87 | SSE | AVX: the FXSAVE legacy region (bytes 0-511),
/// the 64-byte header (XSTATE_BV, XCOMP_BV) and the AVX component (YMM0-15 bits 255:128) at 576. The
/// compacted form (XSAVEC) puts AVX at 576 too, its only extended component. What XSAVE/XSAVEC/XRSTOR
/// move, and what a signal frame's fpstate holds after its FXSAVE part.
/// </summary>
public static class XsaveImage
{
    public const ulong Xcr0 = 7;
    public const int HeaderOffset = 512, AvxOffset = 576, Size = 832;
    public const ulong X87 = 1, Sse = 2, Avx = 4;
    public const ulong Compacted = 1UL << 63;

    /// <summary>The components not in their initial state: x87 and SSE are counted as in use, AVX while a YMM upper half is not zero.</summary>
    public static ulong InUse(CpuState c)
    {
        ulong inUse = X87 | Sse;
        foreach (var h in c.YmmHigh)
            if (h != Vector128<byte>.Zero) return inUse | Avx;
        return inUse;
    }

    /// <summary>
    /// XSAVE (standard form) or XSAVEC (<paramref name="compacted"/>) of the components in <paramref name="rfbm"/>:
    /// the header's XSTATE_BV gets their in-use bits; XSAVEC writes XCOMP_BV and leaves components in their
    /// initial state unwritten, XSAVE keeps the header's other bits.
    /// </summary>
    public static void Save(CpuState c, Span<byte> img, ulong rfbm, bool compacted)
    {
        rfbm &= Xcr0;
        ulong inUse = InUse(c);
        Span<byte> fx = stackalloc byte[FxImage.Size];
        FxImage.Save(c, fx);
        if ((rfbm & X87) != 0) { fx[..24].CopyTo(img); fx[32..160].CopyTo(img[32..]); }
        if ((rfbm & (Sse | Avx)) != 0) fx[24..32].CopyTo(img[24..]); // MXCSR, MXCSR_MASK
        if ((rfbm & Sse) != 0) fx[160..416].CopyTo(img[160..]);
        bool avx = (rfbm & Avx) != 0 && (!compacted || (inUse & Avx) != 0);
        if (avx)
            for (int k = 0; k < 16; k++) c.YmmHigh[k].CopyTo(img[(AvxOffset + 16 * k)..]);
        ulong bv = BitConverter.ToUInt64(img[HeaderOffset..]);
        if (compacted)
        {
            BitConverter.TryWriteBytes(img[HeaderOffset..], rfbm & inUse);
            BitConverter.TryWriteBytes(img[(HeaderOffset + 8)..], Compacted | rfbm);
        }
        else BitConverter.TryWriteBytes(img[HeaderOffset..], (bv & ~rfbm) | (rfbm & inUse));
    }

    /// <summary>Why XRSTOR of this header raises #GP, or null: bits outside XCR0, a bad compacted header, nonzero reserved bytes.</summary>
    public static string? HeaderError(ReadOnlySpan<byte> img)
    {
        ulong bv = BitConverter.ToUInt64(img[HeaderOffset..]), comp = BitConverter.ToUInt64(img[(HeaderOffset + 8)..]);
        if ((bv & ~Xcr0) != 0) return "XSTATE_BV has bits outside XCR0";
        if ((comp & Compacted) != 0 && ((comp & ~Compacted & ~Xcr0) != 0 || (bv & ~comp) != 0)) return "bad XCOMP_BV";
        if ((comp & Compacted) == 0 && comp != 0) return "XCOMP_BV without the compacted bit";
        for (int k = 16; k < 64; k++) if (img[HeaderOffset + k] != 0) return "reserved header bytes not zero";
        return null;
    }

    /// <summary>
    /// XRSTOR of the components in <paramref name="rfbm"/>: those in XSTATE_BV from the image, the others to
    /// their initial state; MXCSR from the image whenever SSE or AVX is requested. The caller checked the header and MXCSR.
    /// </summary>
    public static void Restore(CpuState c, ReadOnlySpan<byte> img, ulong rfbm)
    {
        rfbm &= Xcr0;
        ulong bv = BitConverter.ToUInt64(img[HeaderOffset..]);
        Span<byte> fx = stackalloc byte[FxImage.Size];
        FxImage.Save(c, fx); // what is not restored keeps its current value
        if ((rfbm & X87) != 0)
        {
            if ((bv & X87) != 0) { img[..24].CopyTo(fx); img[32..160].CopyTo(fx[32..]); }
            else
            {
                // Initial x87 state: FCW 037F, everything else zero, all registers empty.
                fx[..24].Clear();
                fx[32..160].Clear();
                BitConverter.TryWriteBytes(fx, (ushort)0x037f);
            }
        }
        if ((rfbm & (Sse | Avx)) != 0) img[24..28].CopyTo(fx[24..]);
        if ((rfbm & Sse) != 0)
        {
            if ((bv & Sse) != 0) img[160..416].CopyTo(fx[160..]);
            else fx[160..416].Clear();
        }
        FxImage.Restore(c, fx);
        if ((rfbm & Avx) != 0)
            for (int k = 0; k < 16; k++)
                c.YmmHigh[k] = (bv & Avx) != 0 ? Vector128.Create(img.Slice(AvxOffset + 16 * k, 16)) : Vector128<byte>.Zero;
    }
}
