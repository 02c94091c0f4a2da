using Iced.Intel;

namespace LegoEmu.Cpu.State;

/// <summary>The size of a table indexed by an enum's values.</summary>
public static class EnumCount
{
    // The sizes of the tables indexed by Iced's enums, from their last members in the pinned Iced version (the test
    // EnumCountTests compares them with the enums' real counts, so an upgrade that adds members fails there). Counting
    // by reflection cost every start 2-3 ms: the runtime reads all 4 936 names and values of Code to answer.

    /// <summary>Iced's <see cref="Code"/> values.</summary>
    public const int Codes = (int)Code.VEX_Vsm3rnds2_xmm_xmm_xmmm128_imm8 + 1;

    /// <summary>Iced's <see cref="Mnemonic"/> values.</summary>
    public const int Mnemonics = (int)Mnemonic.Vsm4rnds4 + 1;

    /// <summary>Iced's <see cref="Register"/> values: they fill a byte (its last members are placeholders up to 0xFF).</summary>
    public const int Registers = 256;

    /// <summary>
    /// One more than the largest value of an int-based enum, by reflection (cold paths and tests). Not
    /// Enum.GetValues&lt;T&gt;().Max(): its generic and LINQ code is not precompiled.
    /// </summary>
    public static int Of(Type enumType)
    {
        int max = -1;
        foreach (int v in (int[])Enum.GetValuesAsUnderlyingType(enumType)) max = Math.Max(max, v);
        return max + 1;
    }
}
