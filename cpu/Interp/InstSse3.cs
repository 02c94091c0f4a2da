using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// SSE3: horizontal and alternating add/subtract, the duplicating moves and LDDQU, run as the host's
/// own instructions (FISTTP lives with the x87 family). Packed m128 sources must be 16-byte aligned,
/// except LDDQU (unaligned by definition) and MOVDDUP (m64).
/// </summary>
static unsafe class InstSse3
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Addsubps, &Addsubps);
        HandlerTable.Set(Mnemonic.Addsubpd, &Addsubpd);
        HandlerTable.Set(Mnemonic.Haddps, &Haddps);
        HandlerTable.Set(Mnemonic.Haddpd, &Haddpd);
        HandlerTable.Set(Mnemonic.Hsubps, &Hsubps);
        HandlerTable.Set(Mnemonic.Hsubpd, &Hsubpd);
        HandlerTable.Set(Mnemonic.Movddup, &Movddup);
        HandlerTable.Set(Mnemonic.Movshdup, &Movshdup);
        HandlerTable.Set(Mnemonic.Movsldup, &Movsldup);
        HandlerTable.Set(Mnemonic.Lddqu, &Lddqu);
    }

    static void Addsubps(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = Sse3.AddSubtract(d.AsSingle(), ReadXAligned(c, ref i, 1).AsSingle()).AsByte();
    }

    static void Addsubpd(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = Sse3.AddSubtract(d.AsDouble(), ReadXAligned(c, ref i, 1).AsDouble()).AsByte();
    }

    static void Haddps(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = Sse3.HorizontalAdd(d.AsSingle(), ReadXAligned(c, ref i, 1).AsSingle()).AsByte();
    }

    static void Haddpd(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = Sse3.HorizontalAdd(d.AsDouble(), ReadXAligned(c, ref i, 1).AsDouble()).AsByte();
    }

    static void Hsubps(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = Sse3.HorizontalSubtract(d.AsSingle(), ReadXAligned(c, ref i, 1).AsSingle()).AsByte();
    }

    static void Hsubpd(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = Sse3.HorizontalSubtract(d.AsDouble(), ReadXAligned(c, ref i, 1).AsDouble()).AsByte();
    }

    /// <summary>MOVDDUP xmm, xmm/m64: the low quadword into both halves; the memory form reads 8 unaligned bytes.</summary>
    static void Movddup(CpuState c, ref Insn i)
    {
        ulong v = ReadX64(c, ref i, 1);
        Xmm(c, i.I.Op0Register) = Vector128.Create(v, v).AsByte();
    }

    static void Movshdup(CpuState c, ref Insn i) =>
        Xmm(c, i.I.Op0Register) = Sse3.MoveHighAndDuplicate(ReadXAligned(c, ref i, 1).AsSingle()).AsByte();

    static void Movsldup(CpuState c, ref Insn i) =>
        Xmm(c, i.I.Op0Register) = Sse3.MoveLowAndDuplicate(ReadXAligned(c, ref i, 1).AsSingle()).AsByte();

    /// <summary>LDDQU xmm, m128: an unaligned 16-byte load.</summary>
    static void Lddqu(CpuState c, ref Insn i) => Xmm(c, i.I.Op0Register) = ReadX(c, ref i, 1);
}
