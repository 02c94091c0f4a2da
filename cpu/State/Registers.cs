using Iced.Intel;

namespace LegoEmu.Cpu.State;

/// <summary>Maps Iced's register enum onto GPR slots, widths and AH..BH high-byte aliases.</summary>
public static class Registers
{
    static readonly int Count = LegoEmu.Cpu.State.EnumCount.Registers;

    /// <summary>GPR index 0..15, or -1 when the register is not a GPR.</summary>
    public static readonly sbyte[] GprIndex = new sbyte[Count];
    /// <summary>Width in bytes of a GPR operand.</summary>
    public static readonly byte[] GprSize = new byte[Count];
    /// <summary>True for AH, CH, DH, BH (bits 8..15 of RAX..RBX).</summary>
    public static readonly bool[] HighByte = new bool[Count];

    public const int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

    static Registers()
    {
        // Not Array.Fill, whose first call for an element type costs milliseconds of runtime binding at start-up.
        for (int i = 0; i < GprIndex.Length; i++) GprIndex[i] = -1;
        for (int i = 0; i < 16; i++)
        {
            Set(Register.RAX + i, i, 8);
            Set(Register.EAX + i, i, 4);
            Set(Register.AX + i, i, 2);
        }
        // Iced orders the 8-bit registers AL,CL,DL,BL,AH,CH,DH,BH,SPL,BPL,SIL,DIL,R8L..R15L.
        for (int i = 0; i < 4; i++)
        {
            Set(Register.AL + i, i, 1);
            Set(Register.AH + i, i, 1);
            HighByte[(int)(Register.AH + i)] = true;
        }
        for (int i = 4; i < 16; i++) Set(Register.SPL + (i - 4), i, 1);
    }

    static void Set(Register r, int index, int size)
    {
        GprIndex[(int)r] = (sbyte)index;
        GprSize[(int)r] = (byte)size;
    }

    public static int Xmm(Register r) => r - Register.XMM0;
}
