using Iced.Intel;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// Where the CPU LegoEmu models differs from the host by design, and what the host must run instead
/// to produce the reference result. LegoEmu's CPUID advertises neither BMI1 nor ABM, and on such a
/// CPU the TZCNT/LZCNT encodings (F3 0F BC/BD) are REP BSF/BSR: the F3 prefix is ignored.
/// </summary>
public static class EmulatedCpuModel
{
    static readonly Dictionary<Code, Code> HostEquivalent = new()
    {
        [Code.Tzcnt_r16_rm16] = Code.Bsf_r16_rm16,
        [Code.Tzcnt_r32_rm32] = Code.Bsf_r32_rm32,
        [Code.Tzcnt_r64_rm64] = Code.Bsf_r64_rm64,
        [Code.Lzcnt_r16_rm16] = Code.Bsr_r16_rm16,
        [Code.Lzcnt_r32_rm32] = Code.Bsr_r32_rm32,
        [Code.Lzcnt_r64_rm64] = Code.Bsr_r64_rm64,
    };

    public static Code Native(Code code) => HostEquivalent.GetValueOrDefault(code, code);

    public static bool HasSubstitute(Code code) => HostEquivalent.ContainsKey(code);

    public static Instruction[] Native(Instruction[] instructions)
    {
        var result = (Instruction[])instructions.Clone();
        for (int k = 0; k < result.Length; k++)
        {
            if (HostEquivalent.TryGetValue(result[k].Code, out var code))
                result[k].Code = code; // same operands, same ModRM: only the F3 prefix goes
        }
        return result;
    }
}
