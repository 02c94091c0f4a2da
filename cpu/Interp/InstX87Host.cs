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
        HandlerTable.Set(Mnemonic.Fstenv, &Fstenv);
        HandlerTable.Set(Mnemonic.Fldenv, &Fldenv);
        HandlerTable.Set(Mnemonic.Fnsave, &Fnsave);
        HandlerTable.Set(Mnemonic.Fsave, &Fsave);
        HandlerTable.Set(Mnemonic.Frstor, &Frstor);
    }

    /// <summary>Register-only forms: the guest's own instruction bytes run on the host FPU.</summary>
    static void OnHost(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        Span<byte> bytes = stackalloc byte[i.I.Length];
        for (int k = 0; k < bytes.Length; k++) bytes[k] = c.Mem.Fetch8(i.Ip + (ulong)k);
        HostX87.Execute(c.Fpu, bytes);
    }

    static void Bcd(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        ulong a = Ea(c, ref i);
        byte* buf = stackalloc byte[10];
        bool load = i.I.Mnemonic == Mnemonic.Fbld;
        if (load) for (int k = 0; k < 10; k++) buf[k] = c.Mem.Read8(a + (ulong)k);
        // DF /4 and DF /6 with ModRM addressing [rsi] (mod 00, r/m 110).
        ReadOnlySpan<byte> ins = load ? [0xdf, 0x26] : [0xdf, 0x36];
        HostX87.Execute(c.Fpu, ins, buf);
        if (!load) for (int k = 0; k < 10; k++) c.Mem.Write8(a + (ulong)k, buf[k]);
    }

    /// <summary>
    /// The environment in its 64-bit-mode layouts: 28 bytes (32-bit operand size: FCW, FSW, FTW, FIP, FCS|FOP&lt;&lt;16,
    /// FDP, FDS, each in a 4-byte slot) or, with a 66 prefix, 14 bytes (FCW, FSW, FTW, FIP[15:0], FCS, FDP[15:0],
    /// FDS, one word each). CPUID.7:EBX[13] tells the guest FCS and FDS are deprecated, so they are stored as 0.
    /// Returns the environment's size, where FNSAVE's registers start.
    /// </summary>
    static ulong StoreEnv(CpuState c, ref Insn i, ulong a)
    {
        var f = c.Fpu;
        if (Is16(ref i))
        {
            c.Mem.Write16(a, f.ControlWord);
            c.Mem.Write16(a + 2, f.StoredStatus);
            c.Mem.Write16(a + 4, f.TagWord);
            c.Mem.Write16(a + 6, (ushort)f.LastIp);
            c.Mem.Write16(a + 8, 0);
            c.Mem.Write16(a + 10, (ushort)f.LastDp);
            c.Mem.Write16(a + 12, 0);
            return 14;
        }
        c.Mem.Write32(a, 0xffff0000u | f.ControlWord);
        c.Mem.Write32(a + 4, 0xffff0000u | f.StoredStatus);
        c.Mem.Write32(a + 8, 0xffff0000u | f.TagWord);
        c.Mem.Write32(a + 12, (uint)f.LastIp);
        c.Mem.Write32(a + 16, (uint)f.LastOpcode << 16);
        c.Mem.Write32(a + 20, (uint)f.LastDp);
        c.Mem.Write32(a + 24, 0xffff0000u);
        return 28;
    }

    static ulong LoadEnv(CpuState c, ref Insn i, ulong a)
    {
        var f = c.Fpu;
        bool is16 = Is16(ref i);
        ulong slot = is16 ? 2UL : 4UL;
        f.ControlWord = (ushort)((c.Mem.Read16(a) & 0x1f3f) | 0x40); // reserved bits read as the hardware keeps them
        f.StatusWord = c.Mem.Read16(a + slot);
        f.TagWord = c.Mem.Read16(a + 2 * slot);
        if (is16)
        {
            // The 16-bit protected-mode layout has no opcode field.
            f.LastIp = c.Mem.Read16(a + 6);
            f.LastOpcode = 0;
            f.LastDp = c.Mem.Read16(a + 10);
            return 14;
        }
        f.LastIp = c.Mem.Read32(a + 12);
        f.LastOpcode = (ushort)((c.Mem.Read32(a + 16) >> 16) & 0x7ff);
        f.LastDp = c.Mem.Read32(a + 20);
        return 28;
    }

    static bool Is16(ref Insn i) => i.I.MemorySize is MemorySize.FpuEnv14 or MemorySize.FpuState94;

    static void Fnstenv(CpuState c, ref Insn i)
    {
        StoreEnv(c, ref i, Ea(c, ref i));
        c.Fpu.ControlWord |= 0x3f; // FNSTENV masks every exception after storing
    }

    // The waiting forms: the check for a pending exception, then what FNSTENV and FNSAVE do.
    static void Fstenv(CpuState c, ref Insn i) { if (!X87Unmasked.Diverted(c, ref i)) Fnstenv(c, ref i); }
    static void Fsave(CpuState c, ref Insn i) { if (!X87Unmasked.Diverted(c, ref i)) Fnsave(c, ref i); }

    static void Fldenv(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        LoadEnv(c, ref i, Ea(c, ref i));
        RetagFromContents(c.Fpu);
    }

    /// <summary>
    /// Of a loaded tag word the hardware keeps only empty or not; a live register's tag (valid, zero, special)
    /// follows from its value, as FNSTENV and FNSAVE then store it.
    /// </summary>
    static void RetagFromContents(X87 f)
    {
        ushort tags = 0;
        for (int p = 0; p < 8; p++)
            tags |= (ushort)((((f.TagWord >> (2 * p)) & 3) == 3 ? 3 : F80.Tag(f.Regs[p])) << (2 * p));
        f.TagWord = tags;
    }

    static void Fnsave(CpuState c, ref Insn i)
    {
        ulong a = Ea(c, ref i);
        ulong regs = a + StoreEnv(c, ref i, a);
        var f = c.Fpu;
        for (int k = 0; k < 8; k++)
        {
            var r = f.Regs[(f.Top + k) & 7];
            c.Mem.Write64(regs + 10 * (ulong)k, r.Mantissa);
            c.Mem.Write16(regs + 8 + 10 * (ulong)k, r.SignExp);
        }
        f.Initialize(); // the data registers keep their bits, as after FNINIT
    }

    static void Frstor(CpuState c, ref Insn i)
    {
        if (X87Unmasked.Diverted(c, ref i)) return;
        ulong a = Ea(c, ref i);
        ulong regs = a + LoadEnv(c, ref i, a);
        var f = c.Fpu;
        for (int k = 0; k < 8; k++)
        {
            ref var r = ref f.Regs[(f.Top + k) & 7];
            r.Mantissa = c.Mem.Read64(regs + 10 * (ulong)k);
            r.SignExp = c.Mem.Read16(regs + 8 + 10 * (ulong)k);
        }
        RetagFromContents(f);
    }
}
