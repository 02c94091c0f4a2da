using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// Maps each Iced mnemonic to its handler. Families register themselves here, one file per
/// family; anything unregistered runs <see cref="Unimplemented"/>, which stops the guest loudly.
/// </summary>
public static unsafe class HandlerTable
{
    internal static readonly int MnemonicCount = (int)Enum.GetValues<Mnemonic>().Max() + 1;
    static readonly delegate*<CpuState, ref Insn, void>[] ByMnemonic = new delegate*<CpuState, ref Insn, void>[MnemonicCount];
    static readonly bool[] Implemented = new bool[MnemonicCount];

    static HandlerTable()
    {
        for (int i = 0; i < ByMnemonic.Length; i++) ByMnemonic[i] = &Unimplemented;
        InstAlu.Register();
        InstMov.Register();
        InstStack.Register();
        InstBranch.Register();
        InstMulDiv.Register();
        InstShift.Register();
        InstBits.Register();
        InstString.Register();
        InstSystem.Register();
        InstAtomic.Register();
        InstSseMove.Register();
        InstSse2Integer.Register();
        InstSseFloat.Register();
        InstSseConvert.Register();
        InstSse3.Register();
        InstSsse3.Register();
        InstSse41.Register();
        InstSse42.Register();
        InstX87.Register();
        InstMmx.Register();
        InstX87Host.Register();
    }

    internal static void Set(Mnemonic m, delegate*<CpuState, ref Insn, void> h)
    {
        ByMnemonic[(int)m] = h;
        Implemented[(int)m] = true;
    }

    public static delegate*<CpuState, ref Insn, void> For(in Instruction ins)
    {
        if (ins.Code == Code.INVALID) return &Invalid;
        // Only legacy and VEX-less encodings are implemented; VEX/EVEX forms share mnemonics with SSE ones.
        if (ins.Encoding != EncodingKind.Legacy) return &Unimplemented;
        // MMX forms share mnemonics with the SSE ones but work on the x87-aliased MM registers.
        if (InstMmx.UsesMmx(ins))
        {
            var mmx = InstMmx.For(ins);
            return mmx != null ? mmx : &Unimplemented;
        }
        return ByMnemonic[(int)ins.Mnemonic];
    }

    /// <summary>True when the mnemonic has a handler (used by tests and disasm to flag gaps).</summary>
    public static bool IsImplemented(in Instruction ins) =>
        ins.Code != Code.INVALID && ins.Encoding == EncodingKind.Legacy &&
        (InstMmx.UsesMmx(ins) ? InstMmx.For(ins) != null : Implemented[(int)ins.Mnemonic]);

    static void Unimplemented(CpuState c, ref Insn i) =>
        throw new CpuFault(FaultKind.Unimplemented, i.Ip, $"unsupported instruction {Describe(c, ref i)}");

    static void Invalid(CpuState c, ref Insn i) =>
        throw new CpuFault(FaultKind.InvalidOpcode, i.Ip, $"invalid opcode at 0x{i.Ip:x}");

    /// <summary>"NAME (bytes: text) at 0xADDR", for the one line a stopped guest gets.</summary>
    public static string Describe(CpuState c, ref Insn i)
    {
        var f = new IntelFormatter();
        var o = new StringOutput();
        f.Format(i.I, o);
        var bytes = new System.Text.StringBuilder();
        for (int k = 0; k < i.I.Length; k++) bytes.Append(k == 0 ? "" : " ").Append(c.Mem.Fetch8(i.Ip + (ulong)k).ToString("x2"));
        return $"{i.I.Mnemonic.ToString().ToUpperInvariant()} ({bytes}: {o}) at 0x{i.Ip:x}";
    }
}
