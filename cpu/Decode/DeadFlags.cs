using Iced.Intel;
using LegoEmu.Cpu.State;
using LegoEmu.Cpu.Interp.Shaped;
using LegoEmu.Cpu.Translate;

namespace LegoEmu.Cpu.Decode;

/// <summary>
/// Gives the interpreter's instructions whose arithmetic flags nothing can observe a handler without the flag work.
/// A flag is dead after an instruction when a later instruction of the same block overwrites it before anything
/// reads it, and nothing in between can fault (a signal handler sees the flags in its frame), leave the block or
/// otherwise observe it. Flags are followed one by one, as the translator's analysis does: a rotate writes only CF
/// and OF and keeps SF, ZF, AF and PF of the producer before it, so a live rotate must materialise them, but when a
/// logic operation follows before any reader (a hash's rounds), its own CF and OF are dead and it only rotates.
/// The block's end counts as reading every flag, so the choice never depends on what runs next. Deliberately
/// stricter than the translator's analysis about what may fault: only plain integer instructions on registers
/// (and LEA, which touches no memory) are passed over; anything else, SSE arithmetic with unmasked exceptions and
/// x87 included, counts as reading every flag.
/// </summary>
static unsafe class DeadFlags
{
    // Which flags an instruction writes, and when it may keep them all, come from the translator's analysis (FlagLiveness);
    // only what counts as unable to fault differs (Quiet).
    const RflagsBits Status = FlagLiveness.Status;

    /// <summary>Swaps in the flagless handlers over a block's prepared instructions.</summary>
    internal static void Apply(Insn* insns, int count)
    {
        // Most of the cost is Iced's flag tables, so the liveness is followed only from the block's end down to the
        // first instruction that has a handler without flags, and not at all in a block without one.
        nint* alt = stackalloc nint[count];
        int first = -1;
        for (int k = count - 1; k >= 0; k--)
        {
            ref Insn i = ref insns[k];
            alt[k] = i.Inner == null ? (nint)FormTable.WithoutFlags(i.Exec) : 0;
            if (alt[k] != 0) first = k;
        }
        if (first < 0) return;
        var live = Status; // after the last instruction
        for (int k = count - 1; k >= first; k--)
        {
            ref readonly var ins = ref insns[k].I;
            var written = FlagLiveness.Written(in ins);
            if (alt[k] != 0 && written != 0 && (written & live) == 0)
                insns[k].Exec = (delegate*<LegoEmu.Cpu.State.CpuState, ref Insn, void>)alt[k];
            live = (live & ~(FlagLiveness.KeepsFlagsSometimes(in ins) ? 0 : written)) | Reads(in ins);
        }
    }

    /// <summary>The status flags the instruction reads (all of them where it may fault, leave the block or observe them otherwise).</summary>
    static RflagsBits Reads(in Instruction i) => Quiet(i) ? i.RflagsRead & Status : Status;

    /// <summary>
    /// Whether the instruction can neither fault, nor leave the block, nor see the flags other than through the ones it
    /// reads: a general-purpose integer operation on registers and immediates, or LEA. Everything else is assumed to.
    /// </summary>
    static bool Quiet(in Instruction i)
    {
        // Every mnemonic below, without a LOCK prefix and on these operands, continues to the next instruction and
        // leaves RSP alone, so neither needs asking Iced.
        if (i.Encoding != EncodingKind.Legacy || i.HasLockPrefix) return false;
        switch (i.Mnemonic)
        {
            case Mnemonic.Lea:
                return true;
            case Mnemonic.Mov or Mnemonic.Movzx or Mnemonic.Movsx or Mnemonic.Movsxd or Mnemonic.Xchg or Mnemonic.Bswap
                or Mnemonic.Add or Mnemonic.Adc or Mnemonic.Sub or Mnemonic.Sbb or Mnemonic.And or Mnemonic.Or or Mnemonic.Xor
                or Mnemonic.Cmp or Mnemonic.Test or Mnemonic.Inc or Mnemonic.Dec or Mnemonic.Neg or Mnemonic.Not
                or Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar or Mnemonic.Rol or Mnemonic.Ror
                or Mnemonic.Rcl or Mnemonic.Rcr or Mnemonic.Shld or Mnemonic.Shrd or Mnemonic.Imul or Mnemonic.Mul
                or Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc or Mnemonic.Bsf or Mnemonic.Bsr
                or Mnemonic.Cbw or Mnemonic.Cwde or Mnemonic.Cdqe or Mnemonic.Cwd or Mnemonic.Cdq or Mnemonic.Cqo
                or Mnemonic.Cmove or Mnemonic.Cmovne or Mnemonic.Cmovb or Mnemonic.Cmovae or Mnemonic.Cmovbe or Mnemonic.Cmova
                or Mnemonic.Cmovs or Mnemonic.Cmovns or Mnemonic.Cmovl or Mnemonic.Cmovge or Mnemonic.Cmovle or Mnemonic.Cmovg
                or Mnemonic.Cmovo or Mnemonic.Cmovno or Mnemonic.Cmovp or Mnemonic.Cmovnp
                or Mnemonic.Sete or Mnemonic.Setne or Mnemonic.Setb or Mnemonic.Setae or Mnemonic.Setbe or Mnemonic.Seta
                or Mnemonic.Sets or Mnemonic.Setns or Mnemonic.Setl or Mnemonic.Setge or Mnemonic.Setle or Mnemonic.Setg
                or Mnemonic.Seto or Mnemonic.Setno or Mnemonic.Setp or Mnemonic.Setnp
                or Mnemonic.Clc or Mnemonic.Stc or Mnemonic.Cmc or Mnemonic.Nop:
                break;
            default:
                return false;
        }
        for (int n = 0; n < i.OpCount; n++)
        {
            var kind = i.GetOpKind(n);
            if (kind == OpKind.Register)
            {
                // Only general-purpose registers (MOV to or from a segment or control register is not plain).
                if (Registers.GprIndex[(int)i.GetOpRegister(n)] < 0) return false;
            }
            else if (kind is not (OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or OpKind.Immediate64
                or OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8to64 or OpKind.Immediate32to64))
                return false;
        }
        return true;
    }
}
