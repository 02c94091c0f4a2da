using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.Fpu;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// x87 instructions run on the host FPU for bit-exact results (transcendentals, FSCALE, FXTRACT,
/// FPREM/FPREM1, BCD loads and stores), and the environment instructions FNSTENV/FLDENV/FNSAVE/FRSTOR.
/// </summary>
static unsafe class InstX87Host
{
    internal static void Register()
    {
        foreach (var m in new[] { Mnemonic.Fsin, Mnemonic.Fcos, Mnemonic.Fsincos, Mnemonic.Fptan, Mnemonic.Fpatan, Mnemonic.F2xm1,
                     Mnemonic.Fyl2x, Mnemonic.Fyl2xp1, Mnemonic.Fscale, Mnemonic.Fxtract, Mnemonic.Fprem, Mnemonic.Fprem1 })
            HandlerTable.Set(m, &OnHost);
        HandlerTable.Set(Mnemonic.Fbld, &Bcd);
        HandlerTable.Set(Mnemonic.Fbstp, &Bcd);
        HandlerTable.Set(Mnemonic.Fnstenv, &Fnstenv);
        HandlerTable.Set(Mnemonic.Fstenv, &Fnstenv);
        HandlerTable.Set(Mnemonic.Fldenv, &Fldenv);
        HandlerTable.Set(Mnemonic.Fnsave, &Fnsave);
        HandlerTable.Set(Mnemonic.Fsave, &Fnsave);
        HandlerTable.Set(Mnemonic.Frstor, &Frstor);
    }

    /// <summary>Register-only forms: the guest's own instruction bytes run on the host FPU.</summary>
    static void OnHost(CpuState c, ref Insn i)
    {
        Span<byte> bytes = stackalloc byte[i.I.Length];
        for (int k = 0; k < bytes.Length; k++) bytes[k] = c.Mem.Fetch8(i.Ip + (ulong)k);
        HostX87.Execute(c.Fpu, bytes);
    }

    static void Bcd(CpuState c, ref Insn i)
    {
        ulong a = Ea(c, ref i);
        byte* buf = stackalloc byte[10];
        bool load = i.I.Mnemonic == Mnemonic.Fbld;
        if (load) for (int k = 0; k < 10; k++) buf[k] = c.Mem.Read8(a + (ulong)k);
        // DF /4 and DF /6 with ModRM addressing [rsi] (mod 00, r/m 110).
        ReadOnlySpan<byte> ins = load ? [0xdf, 0x26] : [0xdf, 0x36];
        HostX87.Execute(c.Fpu, ins, buf);
        if (!load) for (int k = 0; k < 10; k++) c.Mem.Write8(a + (ulong)k, buf[k]);
    }

    // The 28-byte environment (32-bit operand size): FCW, FSW, FTW, FIP, FCS|FOP<<16, FDP, FDS, each in a 4-byte slot.
    static void StoreEnv(CpuState c, ulong a)
    {
        var f = c.Fpu;
        c.Mem.Write32(a, 0xffff0000u | f.ControlWord);
        c.Mem.Write32(a + 4, 0xffff0000u | f.StatusWord);
        c.Mem.Write32(a + 8, 0xffff0000u | f.TagWord);
        c.Mem.Write32(a + 12, (uint)f.LastIp);
        c.Mem.Write32(a + 16, (uint)f.LastOpcode << 16);
        c.Mem.Write32(a + 20, (uint)f.LastDp);
        c.Mem.Write32(a + 24, 0xffff0000u);
    }

    static void LoadEnv(CpuState c, ulong a)
    {
        var f = c.Fpu;
        f.ControlWord = (ushort)((c.Mem.Read16(a) & 0x1f3f) | 0x40); // reserved bits read as the hardware keeps them
        f.StatusWord = c.Mem.Read16(a + 4);
        f.TagWord = c.Mem.Read16(a + 8);
        f.LastIp = c.Mem.Read32(a + 12);
        f.LastOpcode = (ushort)((c.Mem.Read32(a + 16) >> 16) & 0x7ff);
        f.LastDp = c.Mem.Read32(a + 20);
    }

    static void CheckOperandSize(ref Insn i)
    {
        if (i.I.MemorySize is MemorySize.FpuEnv14 or MemorySize.FpuState94)
            throw new CpuFault(FaultKind.Unimplemented, i.Ip, $"unsupported instruction {i.I.Mnemonic.ToString().ToUpperInvariant()} with a 16-bit operand size at 0x{i.Ip:x}");
    }

    static void Fnstenv(CpuState c, ref Insn i)
    {
        CheckOperandSize(ref i);
        StoreEnv(c, Ea(c, ref i));
        c.Fpu.ControlWord |= 0x3f; // FNSTENV masks every exception after storing
    }

    static void Fldenv(CpuState c, ref Insn i)
    {
        CheckOperandSize(ref i);
        LoadEnv(c, Ea(c, ref i));
    }

    static void Fnsave(CpuState c, ref Insn i)
    {
        CheckOperandSize(ref i);
        ulong a = Ea(c, ref i);
        StoreEnv(c, a);
        var f = c.Fpu;
        for (int k = 0; k < 8; k++)
        {
            var r = f.Regs[(f.Top + k) & 7];
            c.Mem.Write64(a + 28 + 10 * (ulong)k, r.Mantissa);
            c.Mem.Write16(a + 36 + 10 * (ulong)k, r.SignExp);
        }
        f.Reset();
    }

    static void Frstor(CpuState c, ref Insn i)
    {
        CheckOperandSize(ref i);
        ulong a = Ea(c, ref i);
        LoadEnv(c, a);
        var f = c.Fpu;
        for (int k = 0; k < 8; k++)
        {
            ref var r = ref f.Regs[(f.Top + k) & 7];
            r.Mantissa = c.Mem.Read64(a + 28 + 10 * (ulong)k);
            r.SignExp = c.Mem.Read16(a + 36 + 10 * (ulong)k);
        }
    }
}
