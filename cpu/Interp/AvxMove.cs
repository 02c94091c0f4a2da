using System.Runtime.Intrinsics;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.VexOperands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// AVX/AVX2 data movement: VMOVDQU/VMOVDQA/VMOVUPS/VMOVAPS/VMOVUPD/VMOVAPD, the non-temporal moves, VMOVD/VMOVQ,
/// VZEROUPPER/VZEROALL, the broadcasts, and VINSERT/VEXTRACT of 128-bit halves. A VEX.128 destination register
/// has its upper half zeroed.
/// </summary>
static unsafe class AvxMove
{
    internal static void Register()
    {
        foreach (var m in new[] { Mnemonic.Vmovdqu, Mnemonic.Vmovups, Mnemonic.Vmovupd, Mnemonic.Vlddqu })
            HandlerTable.Set(m, &MoveUnaligned);
        foreach (var m in new[] { Mnemonic.Vmovdqa, Mnemonic.Vmovaps, Mnemonic.Vmovapd, Mnemonic.Vmovntdq, Mnemonic.Vmovntps,
                     Mnemonic.Vmovntpd, Mnemonic.Vmovntdqa })
            HandlerTable.Set(m, &MoveAligned);
        HandlerTable.Set(Mnemonic.Vmovd, &MoveScalar);
        HandlerTable.Set(Mnemonic.Vmovq, &MoveScalar);
        HandlerTable.Set(Mnemonic.Vzeroupper, &ZeroUpper);
        HandlerTable.Set(Mnemonic.Vzeroall, &ZeroAll);
        foreach (var m in new[] { Mnemonic.Vpbroadcastb, Mnemonic.Vpbroadcastw, Mnemonic.Vpbroadcastd, Mnemonic.Vpbroadcastq,
                     Mnemonic.Vbroadcastss, Mnemonic.Vbroadcastsd })
            HandlerTable.Set(m, &Broadcast);
        HandlerTable.Set(Mnemonic.Vbroadcasti128, &BroadcastHalf);
        HandlerTable.Set(Mnemonic.Vbroadcastf128, &BroadcastHalf);
        HandlerTable.Set(Mnemonic.Vinserti128, &InsertHalf);
        HandlerTable.Set(Mnemonic.Vinsertf128, &InsertHalf);
        HandlerTable.Set(Mnemonic.Vextracti128, &ExtractHalf);
        HandlerTable.Set(Mnemonic.Vextractf128, &ExtractHalf);
        foreach (var m in new[] { Mnemonic.Vpextrb, Mnemonic.Vpextrw, Mnemonic.Vpextrd, Mnemonic.Vpextrq })
            HandlerTable.Set(m, &ExtractElement);
        foreach (var m in new[] { Mnemonic.Vpinsrb, Mnemonic.Vpinsrw, Mnemonic.Vpinsrd, Mnemonic.Vpinsrq })
            HandlerTable.Set(m, &InsertElement);
        // VMOVSS/VMOVSD: the memory forms here, the three-register merge on the host.
        foreach (var code in new[] { Code.VEX_Vmovss_xmm_m32, Code.VEX_Vmovss_m32_xmm, Code.VEX_Vmovsd_xmm_m64, Code.VEX_Vmovsd_m64_xmm })
            HandlerTable.SetCode(code, &MoveScalarMemory);
        foreach (var m in new[] { Mnemonic.Vmovhps, Mnemonic.Vmovhpd, Mnemonic.Vmovlps, Mnemonic.Vmovlpd })
            HandlerTable.Set(m, &MoveHalf);
        HandlerTable.Set(Mnemonic.Vmovmskps, &MoveSignMask);
        HandlerTable.Set(Mnemonic.Vmovmskpd, &MoveSignMask);
        HandlerTable.Set(Mnemonic.Vextractps, &ExtractElement);
    }

    /// <summary>VMOVSS/VMOVSD xmm, m32/m64 (the rest of the register zeroed) and m32/m64, xmm.</summary>
    static void MoveScalarMemory(CpuState c, ref Insn i)
    {
        int bytes = i.MemBits >> 3;
        if (i.I.Op0Kind == OpKind.Register) SetReg(c, i.I.Op0Register, LoadBytes(c, Operands.Ea(c, ref i), bytes));
        else StoreBytes(c, Operands.Ea(c, ref i), Reg(c, i.I.Op1Register), bytes);
    }

    /// <summary>VMOVHPS/HPD/LPS/LPD: xmm1 = xmm2 with its high (H) or low (L) quadword from m64; or m64 = that quadword of xmm.</summary>
    static void MoveHalf(CpuState c, ref Insn i)
    {
        bool high = i.I.Mnemonic is Mnemonic.Vmovhps or Mnemonic.Vmovhpd;
        if (i.I.Op0Kind == OpKind.Memory)
        {
            c.Mem.Write64(Operands.Ea(c, ref i), Lanes.Get<ulong>(c.Xmm[Index(i.I.Op1Register)], high ? 1 : 0));
            return;
        }
        var v = c.Xmm[Index(i.I.Op1Register)];
        Lanes.Set(ref v, high ? 1 : 0, c.Mem.Read64(Operands.Ea(c, ref i)));
        int k = Index(i.I.Op0Register);
        c.Xmm[k] = v;
        c.YmmHigh[k] = Vector128<byte>.Zero;
    }

    /// <summary>VMOVMSKPS/PD r, xmm/ymm: the sign bit of every element, zero-extended.</summary>
    static void MoveSignMask(CpuState c, ref Insn i)
    {
        var v = Reg(c, i.I.Op1Register);
        uint m = i.I.Mnemonic == Mnemonic.Vmovmskps
            ? (uint)System.Runtime.Intrinsics.X86.Avx.MoveMask(v.AsSingle())
            : (uint)System.Runtime.Intrinsics.X86.Avx.MoveMask(v.AsDouble());
        if (!IsYmm(i.I.Op1Register)) m &= i.I.Mnemonic == Mnemonic.Vmovmskps ? 0xfu : 0x3u;
        Operands.SetReg(c, i.I.Op0Register, m);
    }

    /// <summary>Element width in bytes of VPEXTRx/VPINSRx.</summary>
    static int ElementBytes(Mnemonic m) => m switch
    {
        Mnemonic.Vpextrb or Mnemonic.Vpinsrb => 1,
        Mnemonic.Vpextrw or Mnemonic.Vpinsrw => 2,
        Mnemonic.Vpextrd or Mnemonic.Vpinsrd or Mnemonic.Vextractps => 4,
        _ => 8,
    };

    /// <summary>VPEXTRB/W/D/Q and VEXTRACTPS r/m, xmm, imm8: the element imm8 picks (modulo the element count), zero-extended into a GPR.</summary>
    static void ExtractElement(CpuState c, ref Insn i)
    {
        int size = ElementBytes(i.I.Mnemonic);
        int n = (int)(i.I.GetImmediate(2) & (ulong)(16 / size - 1));
        var x = c.Xmm[Index(i.I.Op1Register)];
        ulong v = size switch
        {
            1 => Lanes.Get<byte>(x, n),
            2 => Lanes.Get<ushort>(x, n),
            4 => Lanes.Get<uint>(x, n),
            _ => Lanes.Get<ulong>(x, n),
        };
        if (i.I.Op0Kind == OpKind.Register) Operands.SetReg(c, i.I.Op0Register, v);
        else Operands.WriteMem(c, Operands.Ea(c, ref i), size * 8, v);
    }

    /// <summary>VPINSRB/W/D/Q xmm1, xmm2, r/m, imm8: xmm2 with one element replaced; the upper half is zeroed.</summary>
    static void InsertElement(CpuState c, ref Insn i)
    {
        int size = ElementBytes(i.I.Mnemonic);
        int n = (int)(i.I.GetImmediate(3) & (ulong)(16 / size - 1));
        ulong v = i.I.Op2Kind == OpKind.Memory ? Operands.ReadMem(c, Operands.Ea(c, ref i), size * 8) : Operands.GetReg(c, i.I.Op2Register);
        var x = c.Xmm[Index(i.I.Op1Register)];
        switch (size)
        {
            case 1: Lanes.Set(ref x, n, (byte)v); break;
            case 2: Lanes.Set(ref x, n, (ushort)v); break;
            case 4: Lanes.Set(ref x, n, (uint)v); break;
            default: Lanes.Set(ref x, n, v); break;
        }
        int k = Index(i.I.Op0Register);
        c.Xmm[k] = x;
        c.YmmHigh[k] = Vector128<byte>.Zero;
    }

    static void Move(CpuState c, ref Insn i, bool aligned)
    {
        if (i.I.Op0Kind == OpKind.Register)
        {
            var d = i.I.Op0Register;
            SetReg(c, d, Read(c, ref i, 1, IsYmm(d), aligned));
            return;
        }
        var s = i.I.Op1Register;
        Store(c, ref i, Reg(c, s), IsYmm(s), aligned);
    }

    static void MoveUnaligned(CpuState c, ref Insn i) => Move(c, ref i, aligned: false);
    static void MoveAligned(CpuState c, ref Insn i) => Move(c, ref i, aligned: true);

    /// <summary>VMOVD/VMOVQ between an XMM register and a GPR, memory or another XMM register's low quadword; the destination register is zero-extended to 256 bits.</summary>
    static void MoveScalar(CpuState c, ref Insn i)
    {
        bool quad = i.I.Mnemonic == Mnemonic.Vmovq;
        ulong mask = quad ? ulong.MaxValue : uint.MaxValue;
        if (i.I.Op0Kind == OpKind.Register && i.I.Op0Register is >= Iced.Intel.Register.XMM0 and <= Iced.Intel.Register.XMM15)
        {
            ulong v = i.I.Op1Kind switch
            {
                OpKind.Memory => quad ? c.Mem.Read64(Operands.Ea(c, ref i)) : c.Mem.Read32(Operands.Ea(c, ref i)),
                _ when i.I.Op1Register is >= Iced.Intel.Register.XMM0 and <= Iced.Intel.Register.XMM15 => c.Xmm[Index(i.I.Op1Register)].AsUInt64().GetElement(0),
                _ => Operands.GetReg(c, i.I.Op1Register),
            };
            int k = Index(i.I.Op0Register);
            c.Xmm[k] = Vector128.CreateScalar(v & mask).AsByte();
            c.YmmHigh[k] = Vector128<byte>.Zero;
            return;
        }
        ulong low = c.Xmm[Index(i.I.Op1Register)].AsUInt64().GetElement(0) & mask;
        if (i.I.Op0Kind == OpKind.Register) Operands.SetReg(c, i.I.Op0Register, low);
        else if (quad) c.Mem.Write64(Operands.Ea(c, ref i), low);
        else c.Mem.Write32(Operands.Ea(c, ref i), (uint)low);
    }

    static void ZeroUpper(CpuState c, ref Insn i) => Array.Clear(c.YmmHigh);

    static void ZeroAll(CpuState c, ref Insn i)
    {
        Array.Clear(c.Xmm);
        Array.Clear(c.YmmHigh);
    }

    /// <summary>The low element of an XMM register or of memory, repeated over the destination.</summary>
    static void Broadcast(CpuState c, ref Insn i)
    {
        ulong v = i.I.Op1Kind == OpKind.Memory
            ? Operands.ReadMem(c, Operands.Ea(c, ref i), i.MemBits)
            : c.Xmm[Index(i.I.Op1Register)].AsUInt64().GetElement(0);
        var lane = i.I.Mnemonic switch
        {
            Mnemonic.Vpbroadcastb => Vector128.Create((byte)v),
            Mnemonic.Vpbroadcastw => Vector128.Create((ushort)v).AsByte(),
            Mnemonic.Vpbroadcastd or Mnemonic.Vbroadcastss => Vector128.Create((uint)v).AsByte(),
            _ => Vector128.Create(v).AsByte(),
        };
        SetReg(c, i.I.Op0Register, Vector256.Create(lane, lane));
    }

    /// <summary>VBROADCASTI128/F128 ymm, m128: the 16 bytes in both halves.</summary>
    static void BroadcastHalf(CpuState c, ref Insn i)
    {
        var half = Read(c, ref i, 1, wide: false).GetLower();
        SetReg(c, i.I.Op0Register, Vector256.Create(half, half));
    }

    /// <summary>VINSERTI128/F128 ymm1, ymm2, xmm3/m128, imm8: ymm2 with the half imm8[0] picks replaced.</summary>
    static void InsertHalf(CpuState c, ref Insn i)
    {
        var v = Reg(c, i.I.Op1Register);
        var half = Read(c, ref i, 2, wide: false).GetLower();
        v = (i.I.GetImmediate(3) & 1) == 0 ? Vector256.Create(half, v.GetUpper()) : Vector256.Create(v.GetLower(), half);
        SetReg(c, i.I.Op0Register, v);
    }

    /// <summary>VEXTRACTI128/F128 xmm1/m128, ymm2, imm8: the half imm8[0] picks.</summary>
    static void ExtractHalf(CpuState c, ref Insn i)
    {
        var v = Reg(c, i.I.Op1Register);
        var half = (i.I.GetImmediate(2) & 1) == 0 ? v.GetLower() : v.GetUpper();
        if (i.I.Op0Kind == OpKind.Register) SetReg(c, i.I.Op0Register, Vector256.Create(half, Vector128<byte>.Zero));
        else Operands.WriteXMem(c, Operands.Ea(c, ref i), half);
    }
}
