using System.Runtime.Intrinsics;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>SSE/SSE2 data movement: MOVD/MOVQ, full-register moves, scalar and half-register moves, MXCSR access.</summary>
static unsafe class InstSseMove
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Movd, &MovdMovq);
        HandlerTable.Set(Mnemonic.Movq, &MovdMovq);
        foreach (var m in new[] { Mnemonic.Movdqu, Mnemonic.Movups, Mnemonic.Movupd })
            HandlerTable.Set(m, &MovUnaligned);
        foreach (var m in new[] { Mnemonic.Movdqa, Mnemonic.Movaps, Mnemonic.Movapd, Mnemonic.Movntdq, Mnemonic.Movntps, Mnemonic.Movntpd })
            HandlerTable.Set(m, &MovAligned);
        HandlerTable.Set(Mnemonic.Movss, &Movss);
        HandlerTable.Set(Mnemonic.Movsd, &Movsd);
        HandlerTable.Set(Mnemonic.Movhps, &MovHigh);
        HandlerTable.Set(Mnemonic.Movhpd, &MovHigh);
        HandlerTable.Set(Mnemonic.Movlps, &MovLow);
        HandlerTable.Set(Mnemonic.Movlpd, &MovLow);
        HandlerTable.Set(Mnemonic.Movhlps, &Movhlps);
        HandlerTable.Set(Mnemonic.Movlhps, &Movlhps);
        HandlerTable.Set(Mnemonic.Movnti, &Movnti);
        HandlerTable.Set(Mnemonic.Stmxcsr, &Stmxcsr);
        HandlerTable.Set(Mnemonic.Ldmxcsr, &Ldmxcsr);
        HandlerTable.Set(Mnemonic.Vstmxcsr, &Stmxcsr); // the VEX forms do the same
        HandlerTable.Set(Mnemonic.Vldmxcsr, &Ldmxcsr);
        HandlerTable.Set(Mnemonic.Maskmovdqu, &Maskmovdqu);
        HandlerTable.Set(Mnemonic.Vmaskmovdqu, &Maskmovdqu); // VEX.128: a store only, no register to zero above
    }

    /// <summary>Stores the bytes of the source whose mask byte has its top bit set, to [RDI] (no alignment rule).</summary>
    static void Maskmovdqu(CpuState c, ref Insn i)
    {
        int n = i.I.OpCount;
        var data = Xmm(c, i.I.GetOpRegister(n - 2));
        var mask = Xmm(c, i.I.GetOpRegister(n - 1));
        ulong a = MaskMoveAddress(c, ref i);
        for (int k = 0; k < 16; k++)
            if ((mask.GetElement(k) & 0x80) != 0) c.Mem.Write8(a + (ulong)k, data.GetElement(k));
    }

    /// <summary>[RDI] of MASKMOVQ/MASKMOVDQU: EDI under an address-size prefix, plus an FS/GS override's base.</summary>
    internal static ulong MaskMoveAddress(CpuState c, ref Insn i)
    {
        ulong a = c.R[Registers.RDI];
        if (i.I.CodeSize == CodeSize.Code64 && i.I.GetOpKind(0) == OpKind.MemorySegEDI) a = (uint)a;
        if (i.Seg != 0) a += i.Seg == 1 ? c.FsBase : c.GsBase;
        return a;
    }

    static bool IsXmm(Iced.Intel.Register r) => r >= Iced.Intel.Register.XMM0 && r <= Iced.Intel.Register.XMM15;

    static void MovdMovq(CpuState c, ref Insn i)
    {
        bool q = i.I.Mnemonic == Mnemonic.Movq;
        if (i.I.Op0Kind == OpKind.Register && IsXmm(i.I.Op0Register))
        {
            ulong v = q ? ReadX64(c, ref i, 1) : ReadX32(c, ref i, 1);
            Xmm(c, i.I.Op0Register) = Vector128.Create(v, 0UL).AsByte();
            return;
        }
        var src = Xmm(c, i.I.Op1Register).AsUInt64().GetElement(0);
        if (!q) src = (uint)src;
        if (i.I.Op0Kind == OpKind.Register) SetReg(c, i.I.Op0Register, src);
        else WriteMem(c, Ea(c, ref i), q ? 64 : 32, src);
    }

    static void MovUnaligned(CpuState c, ref Insn i)
    {
        if (i.I.Op0Kind == OpKind.Register) Xmm(c, i.I.Op0Register) = ReadX(c, ref i, 1);
        else WriteXMem(c, Ea(c, ref i), Xmm(c, i.I.Op1Register));
    }

    static void MovAligned(CpuState c, ref Insn i)
    {
        if (i.I.Op0Kind == OpKind.Register)
        {
            Xmm(c, i.I.Op0Register) = ReadXAligned(c, ref i, 1);
            return;
        }
        WriteXMemAligned(c, ref i, Xmm(c, i.I.Op1Register));
    }

    static void Movss(CpuState c, ref Insn i)
    {
        if (i.I.Op0Kind == OpKind.Memory)
        {
            c.Mem.Write32(Ea(c, ref i), Xmm(c, i.I.Op1Register).AsUInt32().GetElement(0));
            return;
        }
        ref var d = ref Xmm(c, i.I.Op0Register);
        if (i.I.Op1Kind == OpKind.Memory) d = Vector128.Create(c.Mem.Read32(Ea(c, ref i)), 0u, 0u, 0u).AsByte();
        else d = d.AsUInt32().WithElement(0, Xmm(c, i.I.Op1Register).AsUInt32().GetElement(0)).AsByte();
    }

    static void Movsd(CpuState c, ref Insn i)
    {
        if (i.I.Code == Code.Movsd_m32_m32)
        {
            InstString.Movs(c, ref i);
            return;
        }
        if (i.I.Op0Kind == OpKind.Memory)
        {
            c.Mem.Write64(Ea(c, ref i), Xmm(c, i.I.Op1Register).AsUInt64().GetElement(0));
            return;
        }
        ref var d = ref Xmm(c, i.I.Op0Register);
        if (i.I.Op1Kind == OpKind.Memory) d = Vector128.Create(c.Mem.Read64(Ea(c, ref i)), 0UL).AsByte();
        else d = d.AsUInt64().WithElement(0, Xmm(c, i.I.Op1Register).AsUInt64().GetElement(0)).AsByte();
    }

    static void MovHigh(CpuState c, ref Insn i)
    {
        if (i.I.Op0Kind == OpKind.Memory)
        {
            c.Mem.Write64(Ea(c, ref i), Xmm(c, i.I.Op1Register).AsUInt64().GetElement(1));
            return;
        }
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = d.AsUInt64().WithElement(1, c.Mem.Read64(Ea(c, ref i))).AsByte();
    }

    static void MovLow(CpuState c, ref Insn i)
    {
        if (i.I.Op0Kind == OpKind.Memory)
        {
            c.Mem.Write64(Ea(c, ref i), Xmm(c, i.I.Op1Register).AsUInt64().GetElement(0));
            return;
        }
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = d.AsUInt64().WithElement(0, c.Mem.Read64(Ea(c, ref i))).AsByte();
    }

    static void Movhlps(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = d.AsUInt64().WithElement(0, Xmm(c, i.I.Op1Register).AsUInt64().GetElement(1)).AsByte();
    }

    static void Movlhps(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = d.AsUInt64().WithElement(1, Xmm(c, i.I.Op1Register).AsUInt64().GetElement(0)).AsByte();
    }

    static void Movnti(CpuState c, ref Insn i) => WriteMem(c, Ea(c, ref i), i.OpBits, GetReg(c, i.I.Op1Register));

    static void Stmxcsr(CpuState c, ref Insn i) => c.Mem.Write32(Ea(c, ref i), c.GetMxcsr());

    static void Ldmxcsr(CpuState c, ref Insn i)
    {
        uint v = c.Mem.Read32(Ea(c, ref i));
        if ((v & 0xffff_0000) != 0) throw new CpuFault(FaultKind.GeneralProtection, i.Ip, "LDMXCSR with reserved bits set");
        c.SetMxcsr(v);
    }
}
