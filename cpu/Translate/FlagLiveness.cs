using Iced.Intel;
using LegoEmu.Cpu.Decode;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// Which instructions of a block leave arithmetic flags that nothing can observe: the next instructions
/// overwrite all six before reading any, and none of them can fault (a fault hands the flags to a signal
/// handler) in between. Such an instruction need not compute its flags at all. The analysis stays inside
/// the block and assumes the flags live at its end, so it never depends on what runs next.
/// </summary>
static class FlagLiveness
{
    const RflagsBits Status = RflagsBits.OF | RflagsBits.SF | RflagsBits.ZF | RflagsBits.AF | RflagsBits.CF | RflagsBits.PF;

    enum Effect { Uses, Kills, Passes }

    /// <summary>What one instruction does to the flags that reach it.</summary>
    static Effect Of(in Instruction i)
    {
        if (MayFault(i) || (i.RflagsRead & Status) != 0) return Effect.Uses;
        if ((i.RflagsModified & Status) == Status) return KeepsFlagsSometimes(i) ? Effect.Uses : Effect.Kills;
        return (i.RflagsModified & Status) != 0 ? Effect.Uses : Effect.Passes;
    }

    internal static bool[] DeadAfter(ReadOnlySpan<Insn> insns)
    {
        var dead = new bool[insns.Length];
        bool deadBefore = false; // before the instruction after the last one: live
        for (int k = insns.Length - 1; k >= 0; k--)
        {
            dead[k] = deadBefore;
            var effect = Of(insns[k].I);
            if (effect != Effect.Passes) deadBefore = effect == Effect.Kills;
        }
        return dead;
    }

    /// <summary>Whether the flags that enter the block are overwritten before anything reads or can observe them.</summary>
    internal static bool DeadAtEntry(ReadOnlySpan<Insn> insns)
    {
        foreach (ref readonly var insn in insns)
        {
            var effect = Of(insn.I);
            if (effect != Effect.Passes) return effect == Effect.Kills;
        }
        return false;
    }

    /// <summary>Shifts and rotates by CL, or by an immediate that masks to zero, may leave every flag as it was.</summary>
    static bool KeepsFlagsSometimes(in Instruction i)
    {
        switch (i.Mnemonic)
        {
            case Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar or Mnemonic.Rol or Mnemonic.Ror
                or Mnemonic.Rcl or Mnemonic.Rcr or Mnemonic.Shld or Mnemonic.Shrd:
                int last = i.OpCount - 1;
                if (i.GetOpKind(last) == OpKind.Register) return true;
                return (i.GetImmediate(last) & 31) == 0;
            default:
                return false;
        }
    }

    /// <summary>Whether the instruction can raise a fault or leave the block (memory, stack, division, control transfer).</summary>
    static bool MayFault(in Instruction i)
    {
        if (i.FlowControl != FlowControl.Next || i.StackPointerIncrement != 0) return true;
        if (i.Mnemonic is Mnemonic.Div or Mnemonic.Idiv) return true;
        for (int n = 0; n < i.OpCount; n++)
        {
            var kind = i.GetOpKind(n);
            if (kind is OpKind.Memory or OpKind.MemorySegSI or OpKind.MemorySegESI or OpKind.MemorySegRSI
                or OpKind.MemorySegDI or OpKind.MemorySegEDI or OpKind.MemorySegRDI or OpKind.MemoryESDI
                or OpKind.MemoryESEDI or OpKind.MemoryESRDI)
                return true;
        }
        return false;
    }
}
