using Iced.Intel;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// The x87 mnemonics, and the few others whose names start with F (FEMMS, FXSAVE, FXRSTOR), all of which touch memory
/// or the FPU anyway. Iced's <see cref="Mnemonic"/> is in alphabetical order but for members added later, so they are one
/// range of it and six late ones (287 and Cyrix forms): a table made from the names of all of Iced's mnemonics cost the
/// compiler's first region about 2 ms (tests/Conformance/EnumCountTests checks this against the names).
/// </summary>
public static class X87Mnemonics
{
    public const Mnemonic First = Mnemonic.F2xm1, Last = Mnemonic.Fyl2xp1;

    public static bool Contains(Mnemonic m) => (uint)(m - First) <= (uint)(Last - First)
        || m is Mnemonic.Fnstdw or Mnemonic.Fnstsg or Mnemonic.Ftstp or Mnemonic.Frint2 or Mnemonic.Frichop or Mnemonic.Frinear;
}
