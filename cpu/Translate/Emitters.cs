using Iced.Intel;
using LegoEmu.Cpu.Decode;

namespace LegoEmu.Cpu.Translate;

/// <summary>Chooses the family emitter of an instruction; false sends it to its interpreter handler.</summary>
static unsafe class Emitters
{
    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        // Guest-MXCSR brackets and anything not plain legacy encoding run in the interpreter. A locked
        // read-modify-write is emitted only where a miss leaves the region (see EmitAtomic).
        if (i.I.Code == Code.INVALID) return false;
        if (i.I.Encoding == EncodingKind.VEX) return i.Inner == null && (EmitAvx.TryEmit(e, i) || EmitBmi.TryEmit(e, i));
        if (i.I.Encoding != EncodingKind.Legacy) return false;
        if (i.Inner != null && (e.MissCalls || !LegoEmu.Cpu.Interp.HandlerTable.IsLockedReadModifyWrite(i.I))) return false;
        if (i.I.HasRepPrefix || i.I.HasRepnePrefix) return false;
        return EmitMov.TryEmit(e, i) || EmitAlu.TryEmit(e, i) || EmitStack.TryEmit(e, i) || EmitShift.TryEmit(e, i)
            || EmitMul.TryEmit(e, i) || EmitDiv.TryEmit(e, i) || EmitAtomic.TryEmit(e, i) || EmitBits.TryEmit(e, i)
            || EmitSse.TryEmit(e, i);
    }
}
