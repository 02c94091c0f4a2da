using Iced.Intel;
using static LegoEmu.Tests.Conformance.StateLayout;

namespace LegoEmu.Tests.Conformance;

/// <summary>What a comparison ignores for one case, each with the architectural reason.</summary>
public sealed class CompareMask
{
    /// <summary>RFLAGS bits the architecture leaves undefined after the case.</summary>
    public ulong Flags;
    /// <summary>x87 status-word bits left undefined (condition codes C0..C3).</summary>
    public ushort Fsw;
    public readonly List<(int Offset, int Length)> Bytes = new();
    public readonly List<string> Reasons = new();

    public void Ignore(int offset, int length, string reason)
    {
        Bytes.Add((offset, length));
        Reasons.Add(reason);
    }

    /// <summary>Copies the ignored parts of <paramref name="reference"/> over <paramref name="actual"/>, so a byte compare sees only defined state.</summary>
    public void Apply(ReadOnlySpan<byte> reference, Span<byte> actual)
    {
        ulong flags = GetFlags(actual);
        SetFlags(actual, (flags & ~Flags) | (GetFlags(reference) & Flags));
        ushort fsw = GetFsw(actual);
        ushort fswRef = GetFsw(reference);
        BitConverter.TryWriteBytes(actual[StateLayout.Fsw..], (ushort)((fsw & ~Fsw) | (fswRef & Fsw)));
        foreach (var (offset, length) in Bytes)
            reference.Slice(offset, length).CopyTo(actual[offset..]);
    }
}

/// <summary>
/// Masks only what the Intel SDM calls undefined. Flags come from Iced's per-instruction tables
/// (<see cref="Instruction.RflagsUndefined"/>), except for shifts and rotates, whose undefined flags
/// depend on the run-time count, which Iced cannot know for the CL forms. Results the SDM leaves
/// undefined (BSWAP r16, SHLD/SHRD r16 with a count above 16) and x87 condition codes documented as
/// undefined are masked too. BSF/BSR with a zero source are NOT masked: both vendors leave the
/// destination unchanged, and software relies on it.
/// </summary>
public static class UndefinedMask
{
    public const ulong CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800, DF = 0x400;
    const ulong AllArith = CF | PF | AF | ZF | SF | OF;
    const ushort C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;

    public static CompareMask For(TestCase c)
    {
        var mask = new CompareMask();
        ulong undefined = 0;
        // The reference semantics are the host's instructions (BSF for TZCNT on LegoEmu's CPU model).
        foreach (var ins in c.NativeInstructions)
        {
            ulong u = UndefinedFlags(ins, c.Input);
            undefined = (undefined & ~DefinedWrites(ins, c.Input)) | u;
            ResultMasks(ins, c.Input, mask);
            mask.Fsw |= X87ConditionCodes(ins.Mnemonic);
        }
        mask.Flags = undefined;
        if (undefined != 0) mask.Reasons.Add($"flags {FlagNames(undefined)} undefined");
        if (mask.Fsw != 0) mask.Reasons.Add("x87 condition codes the SDM leaves undefined");
        return mask;
    }

    /// <summary>True when an instruction of the sequence reads a flag an earlier one left undefined.</summary>
    public static bool ReadsUndefinedFlag(IList<Instruction> sequence, byte[] input)
    {
        ulong undefined = 0;
        foreach (var ins in sequence)
        {
            if ((ToX86(ins.RflagsRead) & undefined) != 0) return true;
            undefined = (undefined & ~DefinedWrites(ins, input)) | UndefinedFlags(ins, input);
        }
        return false;
    }

    public static ulong ToX86(RflagsBits f)
    {
        ulong r = 0;
        if ((f & RflagsBits.OF) != 0) r |= OF;
        if ((f & RflagsBits.SF) != 0) r |= SF;
        if ((f & RflagsBits.ZF) != 0) r |= ZF;
        if ((f & RflagsBits.AF) != 0) r |= AF;
        if ((f & RflagsBits.CF) != 0) r |= CF;
        if ((f & RflagsBits.PF) != 0) r |= PF;
        if ((f & RflagsBits.DF) != 0) r |= DF;
        return r;
    }

    public static string FlagNames(ulong f)
    {
        var names = new List<string>();
        if ((f & CF) != 0) names.Add("CF");
        if ((f & PF) != 0) names.Add("PF");
        if ((f & AF) != 0) names.Add("AF");
        if ((f & ZF) != 0) names.Add("ZF");
        if ((f & SF) != 0) names.Add("SF");
        if ((f & DF) != 0) names.Add("DF");
        if ((f & OF) != 0) names.Add("OF");
        return names.Count == 0 ? "-" : string.Join(' ', names);
    }

    static bool IsShift(Mnemonic m) => m is Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar or Mnemonic.Rol
        or Mnemonic.Ror or Mnemonic.Rcl or Mnemonic.Rcr or Mnemonic.Shld or Mnemonic.Shrd;

    static int Width(in Instruction ins) =>
        ins.Op0Kind == OpKind.Register ? ins.Op0Register.GetSize() * 8 : ins.MemorySize.GetSize() * 8;

    /// <summary>The count a shift or rotate actually uses: CL or the immediate, masked to 5 or 6 bits.</summary>
    public static int MaskedCount(in Instruction ins, ReadOnlySpan<byte> input)
    {
        int last = ins.OpCount - 1;
        ulong raw = ins.GetOpKind(last) switch
        {
            OpKind.Register => GetGpr(input, 1) & 0xff, // CL
            OpKind.Immediate8 => ins.Immediate8,
            _ => 1,
        };
        return (int)(raw & (Width(ins) == 64 ? 63UL : 31UL));
    }

    static ulong UndefinedFlags(in Instruction ins, ReadOnlySpan<byte> input)
    {
        var m = ins.Mnemonic;
        if (!IsShift(m)) return ToX86(ins.RflagsUndefined);
        int n = MaskedCount(ins, input);
        int w = Width(ins);
        if (n == 0) return 0; // flags unaffected
        ulong u = n > 1 ? OF : 0;  // OF is defined for 1-bit shifts and rotates only
        switch (m)
        {
            case Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr:
                u |= AF;
                if (n >= w) u |= CF; // "undefined for SHL and SHR where the count is >= the operand size"
                break;
            case Mnemonic.Sar:
                u |= AF;
                break;
            case Mnemonic.Shld or Mnemonic.Shrd:
                u |= AF;
                if (n > w) u |= AllArith; // count above the operand size: result and flags undefined
                break;
        }
        return u;
    }

    /// <summary>Flags the instruction sets to defined values (so earlier undefined values are gone).</summary>
    static ulong DefinedWrites(in Instruction ins, ReadOnlySpan<byte> input)
    {
        if (IsShift(ins.Mnemonic) && MaskedCount(ins, input) == 0) return 0;
        return ToX86(ins.RflagsModified) & ~UndefinedFlags(ins, input);
    }

    static void ResultMasks(in Instruction ins, ReadOnlySpan<byte> input, CompareMask mask)
    {
        if (ins.Mnemonic == Mnemonic.Bswap && ins.Op0Register.GetSize() == 2)
        {
            mask.Ignore(Gpr + 8 * (ins.Op0Register.GetFullRegister() - Register.RAX), 2, "BSWAP of a 16-bit register is undefined");
        }
        if (ins.Mnemonic is Mnemonic.Shld or Mnemonic.Shrd && Width(ins) == 16 && MaskedCount(ins, input) > 16)
        {
            const string why = "SHLD/SHRD r/m16 with a count above 16: result undefined";
            if (ins.Op0Kind == OpKind.Register) mask.Ignore(Gpr + 8 * (ins.Op0Register.GetFullRegister() - Register.RAX), 2, why);
            else
            {
                int o = MemOffset(EffectiveAddress(ins, input));
                if (o >= 0) mask.Ignore(MemField + o, 2, why);
            }
        }
    }

    /// <summary>
    /// Condition codes per the SDM's "FPU Flags Affected": compares define C0, C2, C3; most other
    /// instructions leave them undefined, and FLDCW, FSTSW, FSTCW, FFREE, FCLEX leave C1 undefined too.
    /// </summary>
    static ushort X87ConditionCodes(Mnemonic m)
    {
        switch (m)
        {
            case Mnemonic.Fcom or Mnemonic.Fcomp or Mnemonic.Fcompp or Mnemonic.Fucom or Mnemonic.Fucomp or Mnemonic.Fucompp
                or Mnemonic.Ficom or Mnemonic.Ficomp or Mnemonic.Ftst or Mnemonic.Fxam or Mnemonic.Fninit or Mnemonic.Finit
                or Mnemonic.Fcomi or Mnemonic.Fcomip or Mnemonic.Fucomi or Mnemonic.Fucomip or Mnemonic.Fprem or Mnemonic.Fprem1
                or Mnemonic.Fxrstor or Mnemonic.Fxrstor64 or Mnemonic.Fxsave or Mnemonic.Fxsave64:
                return 0;
            case Mnemonic.Fldcw or Mnemonic.Fnstsw or Mnemonic.Fstsw or Mnemonic.Fnstcw or Mnemonic.Fstcw or Mnemonic.Ffree
                or Mnemonic.Ffreep or Mnemonic.Fnclex or Mnemonic.Fclex or Mnemonic.Fnop:
                return C0 | C1 | C2 | C3;
        }
        return IsX87(m) ? (ushort)(C0 | C2 | C3) : (ushort)0;
    }

    static bool IsX87(Mnemonic m)
    {
        string s = m.ToString();
        return s.Length > 1 && s[0] == 'F' && m is not (Mnemonic.Femms);
    }

    /// <summary>The effective address of the instruction's explicit memory operand, from the input registers.</summary>
    public static ulong EffectiveAddress(in Instruction ins, ReadOnlySpan<byte> input)
    {
        if (ins.IsIPRelativeMemoryOperand) return ins.IPRelativeMemoryAddress;
        ulong a = ins.MemoryDisplacement64;
        bool addr32 = false;
        if (ins.MemoryBase != Register.None)
        {
            a += Value(ins.MemoryBase, input);
            addr32 = ins.MemoryBase.GetSize() == 4;
        }
        if (ins.MemoryIndex != Register.None)
        {
            a += Value(ins.MemoryIndex, input) * (ulong)ins.MemoryIndexScale;
            addr32 |= ins.MemoryIndex.GetSize() == 4;
        }
        return addr32 ? (uint)a : a;
    }

    static ulong Value(Register r, ReadOnlySpan<byte> input)
    {
        ulong v = GetGpr(input, r.GetFullRegister() - Register.RAX);
        return r.GetSize() switch { 4 => (uint)v, 2 => (ushort)v, 1 => (byte)v, _ => v };
    }
}
