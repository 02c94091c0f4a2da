using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>The GPRs (bit i = GPR i) an instruction run by its interpreter handler reads and writes, and whether it touches flags.</summary>
readonly record struct RegisterSet(int Read, int Written, bool Flags)
{
    /// <summary>Everything: for handlers that may see or replace the whole register file (system calls, control transfers).</summary>
    public static readonly RegisterSet All = new(0xffff, 0xffff, true);

    /// <summary>
    /// Iced's factory fills one buffer of its own per call, so it serves one thread at a time: regions are compiled on two
    /// threads during a first burst (and on the guest's with every block translated). Unlocked, one thread's answer could
    /// take registers from another's question (13 000 of 240 000 answers wrong on four threads). A PUSHF whose set lost RSP
    /// leaves the region's RSP 8 bytes above the handler's and every later stack access of the loop 8 bytes off: the likely
    /// cause of wide_multiply's one crash in CI, which took its generator's state plus 8 for the pointer into its table.
    /// </summary>
    static readonly InstructionInfoFactory Info = new();

    /// <summary>What <paramref name="i"/>'s handler can touch, from Iced's operand and implicit-register information.</summary>
    public static RegisterSet Of(in Insn i)
    {
        if (i.I.FlowControl != FlowControl.Next || i.I.Mnemonic == Mnemonic.Syscall || i.I.Code == Code.INVALID) return All;
        int read = 0, written = 0;
        lock (Info)
        {
            var info = Info.GetInfo(i.I);
            foreach (var u in info.GetUsedRegisters())
            {
                int idx = Registers.GprIndex[(int)u.Register.GetFullRegister()];
                if (idx < 0) continue;
                if (u.Access is OpAccess.Read or OpAccess.CondRead or OpAccess.ReadWrite or OpAccess.ReadCondWrite) read |= 1 << idx;
                if (u.Access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite) written |= 1 << idx;
                // A partial write keeps the rest of the register: the handler reads it to merge.
                if (u.Access is OpAccess.Write or OpAccess.CondWrite) read |= 1 << idx;
            }
            foreach (var m in info.GetUsedMemory())
            {
                foreach (var r in new[] { m.Base, m.Index })
                {
                    int idx = r == Register.None ? -1 : Registers.GprIndex[(int)r.GetFullRegister()];
                    if (idx >= 0) read |= 1 << idx;
                }
            }
        }
        // The unsupported-instruction path formats the instruction; nothing else reads registers Iced does not name.
        bool flags = i.I.RflagsRead != 0 || i.I.RflagsModified != 0;
        return new RegisterSet(read, written, flags);
    }
}
