using System.Runtime.Intrinsics;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.VexOperands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// Memory accesses element by element under a mask: VMASKMOVPS/PD and VPMASKMOVD/Q (loads zero the
/// masked-out elements, stores leave their memory alone, and neither touches it, so a masked-out element
/// never faults) and the AVX2 gathers (VGATHERxPS/PD, VPGATHERxD/Q), which load through a vector of
/// indices and clear each mask element as its load completes: a fault part-way leaves the elements done so
/// far in the destination and out of the mask, as the hardware does.
/// </summary>
static unsafe class AvxMaskMove
{
    internal static void Register()
    {
        foreach (var m in new[] { Mnemonic.Vmaskmovps, Mnemonic.Vmaskmovpd, Mnemonic.Vpmaskmovd, Mnemonic.Vpmaskmovq })
            HandlerTable.Set(m, &MaskMove);
        foreach (var m in new[] { Mnemonic.Vgatherdps, Mnemonic.Vgatherqps, Mnemonic.Vgatherdpd, Mnemonic.Vgatherqpd,
                     Mnemonic.Vpgatherdd, Mnemonic.Vpgatherqd, Mnemonic.Vpgatherdq, Mnemonic.Vpgatherqq })
            HandlerTable.Set(m, &Gather);
    }

    static int ElementBytes(Mnemonic m) => m is Mnemonic.Vmaskmovps or Mnemonic.Vpmaskmovd ? 4 : 8;

    static void MaskMove(CpuState c, ref Insn i)
    {
        int size = ElementBytes(i.I.Mnemonic);
        ulong a = Operands.Ea(c, ref i);
        if (i.I.Op0Kind == OpKind.Memory)
        {
            // m, mask, source
            var mask = Reg(c, i.I.Op1Register);
            var src = Reg(c, i.I.Op2Register);
            int count = (IsYmm(i.I.Op1Register) ? 32 : 16) / size;
            for (int k = 0; k < count; k++)
            {
                if (!Selected(mask, k, size)) continue;
                if (size == 4) c.Mem.Write32(a + (ulong)(4 * k), Lanes.Get<uint>(src, k));
                else c.Mem.Write64(a + (ulong)(8 * k), Lanes.Get<ulong>(src, k));
            }
            return;
        }
        // dest, mask, m
        var m = Reg(c, i.I.Op1Register);
        int n = (IsYmm(i.I.Op0Register) ? 32 : 16) / size;
        var r = Vector256<ulong>.Zero.AsByte();
        for (int k = 0; k < n; k++)
        {
            if (!Selected(m, k, size)) continue;
            if (size == 4) Lanes.Set(ref r, k, c.Mem.Read32(a + (ulong)(4 * k)));
            else Lanes.Set(ref r, k, c.Mem.Read64(a + (ulong)(8 * k)));
        }
        SetReg(c, i.I.Op0Register, r);
    }

    static bool Selected(in Vector256<byte> mask, int k, int size) =>
        size == 4 ? Lanes.Get<int>(mask, k) < 0 : Lanes.Get<long>(mask, k) < 0;

    /// <summary>VGATHER dest, [base + index*scale + disp], mask: element k loads where mask element k has its top bit set.</summary>
    static void Gather(CpuState c, ref Insn i)
    {
        var m = i.I.Mnemonic;
        int dataSize = m is Mnemonic.Vgatherdps or Mnemonic.Vgatherqps or Mnemonic.Vpgatherdd or Mnemonic.Vpgatherqd ? 4 : 8;
        int indexSize = m is Mnemonic.Vgatherdps or Mnemonic.Vgatherdpd or Mnemonic.Vpgatherdd or Mnemonic.Vpgatherdq ? 4 : 8;
        var destReg = i.I.Op0Register;
        var maskReg = i.I.Op2Register;
        var indexReg = i.I.MemoryIndex;
        int destBytes = IsYmm(destReg) ? 32 : 16;
        int indexBytes = indexReg is >= Iced.Intel.Register.YMM0 and <= Iced.Intel.Register.YMM15 ? 32 : 16;
        int count = Math.Min(destBytes / dataSize, indexBytes / indexSize);
        ulong baseAddress = i.I.MemoryDisplacement64;
        if (i.I.MemoryBase != Iced.Intel.Register.None) baseAddress += Operands.GetReg(c, i.I.MemoryBase);
        if (i.Seg != 0) baseAddress += i.Seg == 1 ? c.FsBase : c.GsBase;
        int scale = i.I.MemoryIndexScale;
        var index = Reg(c, indexReg);
        var dest = Reg(c, destReg);
        var mask = Reg(c, maskReg);
        for (int k = 0; k < count; k++)
        {
            if (!Selected(mask, k, dataSize)) continue;
            long offset = indexSize == 4 ? Lanes.Get<int>(index, k) : Lanes.Get<long>(index, k);
            ulong a = baseAddress + (ulong)(offset * scale);
            if (i.Addr32) a = (uint)a;
            try
            {
                if (dataSize == 4) Lanes.Set(ref dest, k, c.Mem.Read32(a));
                else Lanes.Set(ref dest, k, c.Mem.Read64(a));
            }
            catch (Exception)
            {
                // The elements already loaded stay loaded, and their mask elements cleared.
                SetReg(c, destReg, dest);
                SetReg(c, maskReg, mask);
                throw;
            }
            if (dataSize == 4) Lanes.Set(ref mask, k, 0u);
            else Lanes.Set(ref mask, k, 0UL);
        }
        // Elements past the count (VPGATHERQD xmm with an XMM index: the upper two) are zeroed, and so is the whole mask.
        for (int k = count; k < destBytes / dataSize; k++)
            if (dataSize == 4) Lanes.Set(ref dest, k, 0u);
            else Lanes.Set(ref dest, k, 0UL);
        SetReg(c, destReg, dest);
        SetReg(c, maskReg, Vector256<byte>.Zero);
    }
}
