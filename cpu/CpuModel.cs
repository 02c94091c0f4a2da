using Iced.Intel;

namespace LegoEmu.Cpu;

/// <summary>An x86-64 micro-architecture level of the psABI (x86-64, -v2, -v3): the machine the guest runs on.</summary>
public enum CpuLevel
{
    V1 = 1,
    V2 = 2,
    V3 = 3,
}

/// <summary>
/// The CPU model of this process's guest: what CPUID advertises and which instructions exist. An
/// instruction of an extension above the level raises #UD (SIGILL) as on such a machine, except
/// TZCNT and LZCNT, which older CPUs execute as REP BSF / REP BSR. v3 is x86-64-v3 with XSAVE
/// (XCR0 = x87 | SSE | AVX), PCLMULQDQ and AES-NI, and the default. Set once at start-up, before any
/// code is decoded; forked children and thread hosts get the same model.
/// </summary>
public static class CpuModel
{
    public const CpuLevel Default = CpuLevel.V3;

    static volatile CpuLevel _level = Default;
    /// <summary>
    /// Per level, then per Iced <see cref="Code"/>: 0 not yet looked at, 1 exists at that level, 2 raises #UD. One table
    /// per level, because a warm-up guest may be decoding on another thread while the level is being chosen.
    /// </summary>
    static readonly byte[][] Verdicts =
    [
        new byte[LegoEmu.Cpu.State.EnumCount.Codes],
        new byte[LegoEmu.Cpu.State.EnumCount.Codes],
        new byte[LegoEmu.Cpu.State.EnumCount.Codes],
    ];

    public static CpuLevel Level => _level;

    public static void Select(CpuLevel level) => _level = level;

    public static string Name(CpuLevel level) => level switch
    {
        CpuLevel.V1 => "v1",
        CpuLevel.V2 => "v2",
        _ => "v3",
    };

    public static bool TryParse(string text, out CpuLevel level)
    {
        switch (text)
        {
            case "v1": level = CpuLevel.V1; return true;
            case "v2": level = CpuLevel.V2; return true;
            case "v3": level = CpuLevel.V3; return true;
            default: level = Default; return false;
        }
    }

    /// <summary>
    /// Makes a decoded instruction what this model executes: one above the level becomes invalid (#UD), and
    /// below v3 TZCNT/LZCNT become the BSF/BSR their encodings meant before BMI1/ABM. Done at decode, so the
    /// interpreter's handlers, its shaped forms and the translator all see the same instruction.
    /// </summary>
    public static void Adapt(ref Instruction ins)
    {
        if (ins.Code == Code.INVALID) return;
        if (_level < CpuLevel.V3 && ins.Mnemonic is Mnemonic.Tzcnt or Mnemonic.Lzcnt)
        {
            ins.Code = ins.Code switch
            {
                Code.Tzcnt_r16_rm16 => Code.Bsf_r16_rm16,
                Code.Tzcnt_r32_rm32 => Code.Bsf_r32_rm32,
                Code.Tzcnt_r64_rm64 => Code.Bsf_r64_rm64,
                Code.Lzcnt_r16_rm16 => Code.Bsr_r16_rm16,
                Code.Lzcnt_r32_rm32 => Code.Bsr_r32_rm32,
                _ => Code.Bsr_r64_rm64,
            };
            return;
        }
        if (!Allows(ins)) ins.Code = Code.INVALID;
    }

    /// <summary>False when the instruction's extension is above the model's level (it raises #UD).</summary>
    public static bool Allows(in Instruction ins)
    {
        var level = _level;
        var verdicts = Verdicts[(int)level - 1];
        int code = (int)ins.Code;
        byte v = verdicts[code];
        if (v == 0)
        {
            v = Decide(ins, level) ? (byte)1 : (byte)2;
            verdicts[code] = v;
        }
        return v == 1;
    }

    static bool Decide(in Instruction ins, CpuLevel level)
    {
        // LAHF/SAHF in 64-bit mode came with the x86-64-v2 CPUs (CPUID 0x80000001:ECX.LAHF-SAHF).
        if (ins.Mnemonic is Mnemonic.Lahf or Mnemonic.Sahf && level < CpuLevel.V2) return false;
        foreach (var f in ins.CpuidFeatures)
        {
            // The 256-bit VAES and VPCLMULQDQ forms: no level advertises them.
            if (f is CpuidFeature.VAES or CpuidFeature.VPCLMULQDQ) return false;
            if (LevelOf(f) > level) return false;
        }
        return true;
    }

    /// <summary>The level that brings a feature; features no level speaks of belong to all of them.</summary>
    static CpuLevel LevelOf(CpuidFeature f) => f switch
    {
        CpuidFeature.SSE3 or CpuidFeature.SSSE3 or CpuidFeature.SSE4_1 or CpuidFeature.SSE4_2 or CpuidFeature.POPCNT
            or CpuidFeature.CMPXCHG16B => CpuLevel.V2,
        CpuidFeature.AVX or CpuidFeature.AVX2 or CpuidFeature.FMA or CpuidFeature.F16C or CpuidFeature.BMI1 or CpuidFeature.BMI2
            or CpuidFeature.LZCNT or CpuidFeature.MOVBE or CpuidFeature.PCLMULQDQ or CpuidFeature.AES or CpuidFeature.XSAVE or CpuidFeature.XSAVEC
            or CpuidFeature.XSAVEOPT => CpuLevel.V3,
        _ => CpuLevel.V1,
    };
}
