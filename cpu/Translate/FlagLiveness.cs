using Iced.Intel;
using LegoEmu.Cpu.Decode;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// Which instructions of a block leave arithmetic flags that nothing can observe: each flag they write is
/// overwritten before anything reads it, and none of the instructions in between can fault (a fault hands the
/// flags to a signal handler). Such an instruction need not compute its flags at all. Flags are followed one by
/// one: a rotate writes only CF and OF, so the SF, ZF, AF and PF of the producer before it stay live through it,
/// but the rotate's own flags are dead when the next full producer comes before any reader (a hash's rounds are
/// rotates between logic operations). The analysis stays inside the block and assumes the flags live at its end,
/// so it never depends on what runs next.
/// </summary>
static class FlagLiveness
{
    internal const RflagsBits Status = RflagsBits.OF | RflagsBits.SF | RflagsBits.ZF | RflagsBits.AF | RflagsBits.CF | RflagsBits.PF;

    /// <summary>The status flags the instruction reads (all of them where it may fault or leave the block).</summary>
    static RflagsBits Reads(in Instruction i) => MayFault(i) ? Status : i.RflagsRead & Status;

    /// <summary>The status flags the instruction always overwrites (none where it may leave them all as they were).</summary>
    static RflagsBits Kills(in Instruction i) => KeepsFlagsSometimes(i) ? 0 : Written(i);

    /// <summary>The status flags the instruction may write, undefined ones included (the interpreter sets those too).</summary>
    internal static RflagsBits Written(in Instruction i) => (i.RflagsModified | i.RflagsUndefined) & Status;

    internal static bool[] DeadAfter(ReadOnlySpan<Insn> insns)
    {
        var dead = new bool[insns.Length];
        var live = Status; // after the last instruction: all live
        for (int k = insns.Length - 1; k >= 0; k--)
        {
            ref readonly var i = ref insns[k].I;
            dead[k] = (Written(i) & live) == 0;
            live = (live & ~Kills(i)) | Reads(i);
        }
        return dead;
    }

    /// <summary>Whether the flags that enter the block are overwritten before anything reads or can observe them.</summary>
    internal static bool DeadAtEntry(ReadOnlySpan<Insn> insns)
    {
        var live = Status;
        for (int k = insns.Length - 1; k >= 0; k--)
        {
            ref readonly var i = ref insns[k].I;
            live = (live & ~Kills(i)) | Reads(i);
        }
        return live == 0;
    }

    /// <summary>Shifts and rotates by CL, or by an immediate that masks to zero, may leave every flag as it was.</summary>
    internal static bool KeepsFlagsSometimes(in Instruction i)
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

    /// <summary>
    /// Whether the instruction can raise a fault or leave the block (memory, stack, division, control transfer, and
    /// floating point, SSE or x87, which traps when the guest unmasks its exceptions: a SIGFPE handler reads the flags
    /// of the instructions before it in its frame).
    /// </summary>
    static bool MayFault(in Instruction i)
    {
        if (i.FlowControl != FlowControl.Next || i.StackPointerIncrement != 0) return true;
        if (i.Mnemonic is Mnemonic.Div or Mnemonic.Idiv) return true;
        if (X87Mnemonics.Contains(i.Mnemonic) || LegoEmu.Cpu.Interp.HandlerTable.UsesGuestMxcsr(i)) return true;
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
