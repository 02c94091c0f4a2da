namespace LegoEmu.Cpu.State;

/// <summary>RFLAGS bit positions.</summary>
public static class Rf
{
    public const ulong CF = 1 << 0, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8,
        IF = 1 << 9, DF = 1 << 10, OF = 1 << 11, AC = 1 << 18, ID = 1 << 21;
    /// <summary>The six arithmetic flags.</summary>
    public const ulong Arith = CF | PF | AF | ZF | SF | OF;
    /// <summary>Bits a user-mode POPF may change.</summary>
    public const ulong UserWritable = Arith | TF | DF | OF | AC | ID;
    /// <summary>Bit 1 always reads as one; IF is always set in user mode.</summary>
    public const ulong Fixed = 1 << 1 | IF;
}

/// <summary>Which operation last set the arithmetic flags; flags are derived from it only when read.</summary>
public enum FlagOp : byte
{
    /// <summary>Flags are materialised in <see cref="CpuState.RflagsBits"/>.</summary>
    None,
    Add,
    Adc,
    Sub,
    Sbb,
    /// <summary>AND/OR/XOR/TEST: CF=OF=AF=0.</summary>
    Logic,
    /// <summary>INC: CF kept from the materialised bits.</summary>
    Inc,
    /// <summary>DEC: CF kept from the materialised bits.</summary>
    Dec,
    /// <summary>ZF/SF/PF from the result; CF, OF, AF given explicitly in <see cref="CpuState.FlagAux"/>.</summary>
    ResultAux,
}
