using System.Runtime.CompilerServices;

namespace LegoEmu.Cpu.State;

/// <summary>
/// Translated code's scratch inside <see cref="CpuState"/>: for a few address forms of the running region's loops, the
/// line each last hit, as three words per form (its guest base, its host address, and the limit an offset into it must
/// stay below). Fields of the state, so the code reads them at a constant offset from the state's host register and
/// the JIT spends no register of a loop on them. Only the running region gives them meaning: it resets them at its
/// entry (see the translator's RegionEmitter.Lines).
/// </summary>
[InlineArray(3 * Count)]
public struct LineSlots
{
    public const int Count = 8;
    ulong _first;
}
