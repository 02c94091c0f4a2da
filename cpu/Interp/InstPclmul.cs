using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// PCLMULQDQ: the carry-less product of one quadword of each operand (imm8 bit 0 picks the destination's,
/// bit 4 the source's) as a 128-bit result. The host's own instruction when it has one.
/// </summary>
static unsafe class InstPclmul
{
    internal static void Register() => HandlerTable.Set(Mnemonic.Pclmulqdq, &CarrylessMultiply);

    static void CarrylessMultiply(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        var s = ReadXAligned(c, ref i, 1);
        byte imm = (byte)i.I.GetImmediate(2);
        if (Pclmulqdq.IsSupported)
        {
            var (x, y) = (d.AsUInt64(), s.AsUInt64());
            var product = (imm & 0x11) switch
            {
                0x00 => Pclmulqdq.CarrylessMultiply(x, y, 0x00),
                0x01 => Pclmulqdq.CarrylessMultiply(x, y, 0x01),
                0x10 => Pclmulqdq.CarrylessMultiply(x, y, 0x10),
                _ => Pclmulqdq.CarrylessMultiply(x, y, 0x11),
            };
            d = product.AsByte();
            return;
        }
        ulong a = d.AsUInt64().GetElement(imm & 1), b = s.AsUInt64().GetElement((imm >> 4) & 1);
        ulong lo = 0, hi = 0;
        for (int k = 0; k < 64; k++)
        {
            if (((b >> k) & 1) == 0) continue;
            lo ^= a << k;
            if (k > 0) hi ^= a >> (64 - k);
        }
        d = Vector128.Create(lo, hi).AsByte();
    }
}
