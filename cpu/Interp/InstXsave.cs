using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.Fpu;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// The XSAVE feature set at v3: XGETBV (XCR0 = x87 | SSE | AVX), XSAVE, XSAVEC and XRSTOR of the
/// <see cref="XsaveImage"/> (64-byte aligned; EDX:EAX the requested-feature bitmap). glibc's dynamic loader
/// saves the registers with XSAVEC around lazy binding. Below v3 they are #UD (<see cref="CpuModel"/>).
/// </summary>
static unsafe class InstXsave
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Xgetbv, &Xgetbv);
        HandlerTable.Set(Mnemonic.Xsave, &Xsave);
        HandlerTable.Set(Mnemonic.Xsave64, &Xsave);
        HandlerTable.Set(Mnemonic.Xsavec, &Xsave);
        HandlerTable.Set(Mnemonic.Xsavec64, &Xsave);
        HandlerTable.Set(Mnemonic.Xrstor, &Xrstor);
        HandlerTable.Set(Mnemonic.Xrstor64, &Xrstor);
    }

    /// <summary>XGETBV: XCR0 for ECX = 0; any other register is #GP.</summary>
    static void Xgetbv(CpuState c, ref Insn i)
    {
        if ((uint)c.R[Registers.RCX] != 0) throw new CpuFault(FaultKind.GeneralProtection, i.Ip, $"XGETBV of XCR{(uint)c.R[Registers.RCX]}");
        c.R[Registers.RAX] = (uint)XsaveImage.Xcr0;
        c.R[Registers.RDX] = 0;
    }

    static ulong Rfbm(CpuState c) => ((c.R[Registers.RDX] << 32) | (uint)c.R[Registers.RAX]) & XsaveImage.Xcr0;

    static void Xsave(CpuState c, ref Insn i)
    {
        ulong a = AlignedArea(c, ref i, 64, "XSAVE");
        Span<byte> img = stackalloc byte[XsaveImage.Size];
        c.Mem.ReadBytes(a, img); // what the instruction does not write stays as it was
        XsaveImage.Save(c, img, Rfbm(c), compacted: i.I.Mnemonic is Mnemonic.Xsavec or Mnemonic.Xsavec64);
        c.Mem.Write8(a + XsaveImage.Size - 1, img[^1]); // both ends writable before a byte changes
        c.Mem.WriteBytes(a, img);
    }

    static void Xrstor(CpuState c, ref Insn i)
    {
        ulong a = AlignedArea(c, ref i, 64, "XSAVE");
        Span<byte> img = stackalloc byte[XsaveImage.Size];
        c.Mem.ReadBytes(a, img);
        if (XsaveImage.HeaderError(img) is { } why) throw new CpuFault(FaultKind.GeneralProtection, i.Ip, $"XRSTOR: {why}");
        ulong rfbm = Rfbm(c);
        if ((rfbm & (XsaveImage.Sse | XsaveImage.Avx)) != 0 && (FxImage.Mxcsr(img) & ~0xffffu) != 0)
            throw new CpuFault(FaultKind.GeneralProtection, i.Ip, "XRSTOR: reserved MXCSR bits set");
        XsaveImage.Restore(c, img, rfbm);
    }
}
