using System.Runtime.Intrinsics;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Fpu;

/// <summary>
/// The 512-byte FXSAVE image of the x87 and SSE state: what FXSAVE/FXRSTOR read and write, and what
/// a signal frame's fpstate holds.
/// </summary>
public static class FxImage
{
    public const int Size = 512;

    public static void Save(CpuState c, Span<byte> img)
    {
        var f = c.Fpu;
        img[..Size].Clear();
        BitConverter.TryWriteBytes(img[0..], f.ControlWord);
        BitConverter.TryWriteBytes(img[2..], f.StoredStatus);
        byte abridged = 0;
        for (int p = 0; p < 8; p++) if (((f.TagWord >> (2 * p)) & 3) != 3) abridged |= (byte)(1 << p);
        img[4] = abridged;
        BitConverter.TryWriteBytes(img[6..], f.LastOpcode);
        BitConverter.TryWriteBytes(img[8..], f.LastIp);
        BitConverter.TryWriteBytes(img[16..], f.LastDp);
        BitConverter.TryWriteBytes(img[24..], c.GetMxcsr());
        BitConverter.TryWriteBytes(img[28..], 0x0000ffffu); // MXCSR_MASK: DAZ supported
        for (int k = 0; k < 8; k++)
        {
            var v = f.Regs[(f.Top + k) & 7];
            BitConverter.TryWriteBytes(img[(32 + 16 * k)..], v.Mantissa);
            BitConverter.TryWriteBytes(img[(40 + 16 * k)..], v.SignExp);
        }
        for (int k = 0; k < 16; k++) c.Xmm[k].CopyTo(img[(160 + 16 * k)..]);
    }

    /// <summary>The MXCSR field, which a caller checks for reserved bits before <see cref="Restore"/>.</summary>
    public static uint Mxcsr(ReadOnlySpan<byte> img) => BitConverter.ToUInt32(img[24..]);

    public static void Restore(CpuState c, ReadOnlySpan<byte> img)
    {
        var f = c.Fpu;
        f.ControlWord = BitConverter.ToUInt16(img[0..]);
        f.StatusWord = BitConverter.ToUInt16(img[2..]);
        f.LastOpcode = BitConverter.ToUInt16(img[6..]);
        f.LastIp = BitConverter.ToUInt64(img[8..]);
        f.LastDp = BitConverter.ToUInt64(img[16..]);
        c.SetMxcsr(Mxcsr(img));
        for (int k = 0; k < 8; k++)
            f.Regs[(f.Top + k) & 7] = new Float80 { Mantissa = BitConverter.ToUInt64(img[(32 + 16 * k)..]), SignExp = BitConverter.ToUInt16(img[(40 + 16 * k)..]) };
        // The abridged tag says only empty or not; the full tag of a live register follows from its value.
        byte abridged = img[4];
        ushort tags = 0;
        for (int p = 0; p < 8; p++) tags |= (ushort)(((abridged & (1 << p)) == 0 ? 3 : F80.Tag(f.Regs[p])) << (2 * p));
        f.TagWord = tags;
        for (int k = 0; k < 16; k++) c.Xmm[k] = Vector128.Create(img.Slice(160 + 16 * k, 16));
    }
}
