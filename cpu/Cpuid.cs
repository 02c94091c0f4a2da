namespace LegoEmu.Cpu;

/// <summary>
/// CPUID as LegoEmu's guest sees it. It advertises exactly the features the interpreter
/// implements at the chosen <see cref="CpuModel"/> level and never the host's AVX/AVX-512: glibc picks its string routines from these bits.
/// </summary>
public static class Cpuid
{
    // Leaf 1 EDX: FPU TSC CX8 CMOV CLFSH MMX FXSR SSE SSE2 (MMX completes the x86-64 baseline ISA level glibc checks).
    public const uint Leaf1Edx = (1u << 0) | (1u << 4) | (1u << 8) | (1u << 15) | (1u << 19) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26);
    // Leaf 1 ECX at v2: SSE3, SSSE3, CMPXCHG16B, SSE4.1, SSE4.2, POPCNT; v3 adds PCLMULQDQ, FMA, MOVBE, AES, XSAVE,
    // OSXSAVE (the kernel has enabled XSAVE: XGETBV works), AVX and F16C (every x86-64-v3 processor has AES-NI and PCLMULQDQ).
    const uint Leaf1EcxV2 = (1u << 0) | (1u << 9) | (1u << 13) | (1u << 19) | (1u << 20) | (1u << 23);
    const uint Leaf1EcxV3 = Leaf1EcxV2 | (1u << 1) | (1u << 12) | (1u << 22) | (1u << 25) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 29);
    // Leaf 7 EBX: FCS/FDS deprecated (stored as 0 by FNSTENV, FNSAVE, FXSAVE); v3 adds BMI1, AVX2, BMI2.
    const uint Leaf7EbxBase = 1u << 13;
    const uint Leaf7EbxV3 = Leaf7EbxBase | (1u << 3) | (1u << 5) | (1u << 8);
    // 0x80000001 EDX: SYSCALL, NX, LM. ECX: LAHF/SAHF in 64-bit mode (v2), LZCNT (ABM, v3).
    public const uint Ext1Edx = (1u << 11) | (1u << 20) | (1u << 29);

    public static uint Leaf1Ecx => CpuModel.Level switch { CpuLevel.V1 => 0, CpuLevel.V2 => Leaf1EcxV2, _ => Leaf1EcxV3 };
    public static uint Leaf7Ebx => CpuModel.Level >= CpuLevel.V3 ? Leaf7EbxV3 : Leaf7EbxBase;
    public static uint Ext1Ecx => CpuModel.Level switch { CpuLevel.V1 => 0, CpuLevel.V2 => 1u, _ => 1u | (1u << 5) };

    /// <summary>The value the kernel puts in AT_HWCAP on x86: CPUID.1:EDX.</summary>
    public static ulong HwCap => Leaf1Edx;

    const string Vendor = "GenuineIntel";
    const string Brand = "LegoEmu virtual x86-64 processor";

    public static (uint eax, uint ebx, uint ecx, uint edx) Query(uint leaf, uint sub)
    {
        switch (leaf)
        {
            case 0:
                return (0xd, Word(Vendor, 0), Word(Vendor, 8), Word(Vendor, 4));
            case 1:
                // Family 6, model 0x3a-like signature; 1 logical processor; CLFLUSH line size 64 (8 x 8).
                return (0x000306a9, (8u << 8) | (1u << 16), Leaf1Ecx, Leaf1Edx);
            case 2:
                // Descriptor 0xff: "use leaf 4 for cache parameters".
                return (0x00ff_0001, 0, 0, 0);
            case 4:
                return CacheLeaf(sub);
            case 7:
                return sub == 0 ? (0u, Leaf7Ebx, 0u, 0u) : (0u, 0u, 0u, 0u);
            case 0xb:
                return sub switch
                {
                    0 => (0, 1, 0x100, 0),
                    1 => (0, 1, 0x201, 0),
                    _ => (0, 0, sub, 0),
                };
            case 0xd:
                return CpuModel.Level >= CpuLevel.V3 ? XsaveLeaf(sub) : (0u, 0u, 0u, 0u);
            case 0x8000_0000:
                return (0x8000_0008, 0, 0, 0);
            case 0x8000_0001:
                return (0, 0, Ext1Ecx, Ext1Edx);
            case 0x8000_0002:
            case 0x8000_0003:
            case 0x8000_0004:
            {
                int o = (int)(leaf - 0x8000_0002) * 16;
                return (Word(Brand, o), Word(Brand, o + 4), Word(Brand, o + 8), Word(Brand, o + 12));
            }
            case 0x8000_0006:
                return (0, 0, (256u << 16) | (8u << 12) | 64, 0);
            case 0x8000_0008:
                return (0x3030, 0, 0, 0); // 48-bit virtual, 48-bit physical addresses
            default:
                return (0, 0, 0, 0);
        }
    }

    /// <summary>
    /// Leaf 0xD at v3: XCR0 may hold x87, SSE and AVX, whose XSAVE area is 832 bytes (AVX's 256 at offset 576,
    /// also in the compacted form); XSAVEC is there (sub-leaf 1, bit 1), XSAVEOPT and XSAVES are not.
    /// </summary>
    static (uint, uint, uint, uint) XsaveLeaf(uint sub) => sub switch
    {
        0 => ((uint)LegoEmu.Cpu.Fpu.XsaveImage.Xcr0, LegoEmu.Cpu.Fpu.XsaveImage.Size, LegoEmu.Cpu.Fpu.XsaveImage.Size, 0u),
        1 => (1u << 1, LegoEmu.Cpu.Fpu.XsaveImage.Size, 0u, 0u),
        2 => (256u, (uint)LegoEmu.Cpu.Fpu.XsaveImage.AvxOffset, 0u, 0u),
        _ => (0u, 0u, 0u, 0u),
    };

    /// <summary>Deterministic cache description: 32 KiB L1d/L1i (8-way), 256 KiB L2, 8 MiB L3, 64 B lines.</summary>
    static (uint, uint, uint, uint) CacheLeaf(uint sub)
    {
        (uint type, uint level, uint ways, uint sets) = sub switch
        {
            0 => (1u, 1u, 8u, 64u),
            1 => (2u, 1u, 8u, 64u),
            2 => (3u, 2u, 4u, 1024u),
            3 => (3u, 3u, 16u, 8192u),
            _ => (0u, 0u, 0u, 0u),
        };
        if (type == 0) return (0, 0, 0, 0);
        uint eax = type | (level << 5) | (1u << 8); // self-initialising
        uint ebx = (63u) | (0u << 12) | ((ways - 1) << 22);
        return (eax, ebx, sets - 1, 0);
    }

    static uint Word(string s, int offset)
    {
        uint v = 0;
        for (int k = 0; k < 4; k++)
        {
            int idx = offset + k;
            uint ch = idx < s.Length ? s[idx] : 0u;
            v |= ch << (8 * k);
        }
        return v;
    }
}
