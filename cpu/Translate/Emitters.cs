using Iced.Intel;
using LegoEmu.Cpu.Decode;

namespace LegoEmu.Cpu.Translate;

/// <summary>Chooses the family emitter of an instruction; false sends it to its interpreter handler.</summary>
static unsafe class Emitters
{
    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        // Bracketed handlers (LOCK, guest MXCSR) and anything not plain legacy encoding run in the interpreter.
        if (i.Inner != null || i.I.Code == Code.INVALID || i.I.Encoding != EncodingKind.Legacy) return false;
        if (i.I.HasRepPrefix || i.I.HasRepnePrefix) return false;
        return EmitMov.TryEmit(e, i) || EmitAlu.TryEmit(e, i) || EmitStack.TryEmit(e, i) || EmitShift.TryEmit(e, i)
            || EmitMul.TryEmit(e, i) || EmitBits.TryEmit(e, i) || EmitSse.TryEmit(e, i);
    }
}
