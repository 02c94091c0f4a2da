using LegoEmu.Cpu.Decode;

namespace LegoEmu.Cpu.Translate;

/// <summary>SSE moves and integer operations on XMM registers.</summary>
static class EmitSse
{
    internal static bool TryEmit(RegionEmitter e, in Insn i) => false;
}
