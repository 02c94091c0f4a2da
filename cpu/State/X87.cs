namespace LegoEmu.Cpu.State;

/// <summary>An 80-bit extended-precision value kept bit-exact: 64-bit significand with explicit integer bit, sign and 15-bit exponent.</summary>
public struct Float80
{
    public ulong Mantissa;
    public ushort SignExp;
}

/// <summary>x87 FPU state: eight 80-bit registers as a stack, control, status and tag words.</summary>
public sealed class X87
{
    public readonly Float80[] Regs = new Float80[8];
    public ushort ControlWord = 0x037f;
    public ushort StatusWord;
    /// <summary>Full 16-bit tag word, 2 bits per physical register (11 = empty).</summary>
    public ushort TagWord = 0xffff;
    public ushort LastOpcode;
    public ulong LastIp, LastDp;

    /// <summary>Status word bits 7 (ES, error summary) and 15 (B, busy), set while an unmasked exception is pending.</summary>
    public const ushort PendingBits = 0x8080;

    /// <summary>True when an exception flag is set that the control word unmasks: the next waiting x87 instruction raises #MF.</summary>
    public bool Pending => (StatusWord & ~ControlWord & 0x3f) != 0;

    /// <summary>The status word as FNSTSW, FNSTENV, FXSAVE and signal frames store it: ES and B set while an exception is pending.</summary>
    public ushort StoredStatus => Pending ? (ushort)(StatusWord | PendingBits) : StatusWord;

    public int Top
    {
        get => (StatusWord >> 11) & 7;
        set => StatusWord = (ushort)((StatusWord & ~(7 << 11)) | ((value & 7) << 11));
    }

    /// <summary>What FNINIT (and FNSAVE after storing) does: control, status, tags and pointers; the data registers keep their bits.</summary>
    public void Initialize()
    {
        ControlWord = 0x037f;
        StatusWord = 0;
        TagWord = 0xffff;
        LastOpcode = 0;
        LastIp = LastDp = 0;
    }

    /// <summary>The state the kernel gives a new program or a signal handler: initialised, with zero data registers.</summary>
    public void Reset()
    {
        Initialize();
        Array.Clear(Regs);
    }
}
