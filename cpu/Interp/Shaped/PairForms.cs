using System.Runtime.CompilerServices;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Interp.Shaped;

/// <summary>
/// A block's last two instructions in one handler, when they are a flag-setting ALU instruction (CMP, TEST, SUB) and the
/// conditional branch that ends the block: the commonest pair in compiled code, and one dispatch of the interpreter's
/// fewer. Each runs exactly the two shaped handlers' code in order (the first's lazy flags stay as it leaves them, for
/// whatever reads them after the branch); the interpreter calls it with the first instruction, which may fault as it
/// would alone.
/// </summary>
static class PairForms
{
    public static void RRJcc<TOp, TW, TCc>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth where TCc : struct, ICc
    {
        AluForms.RR<TOp, TW>(c, ref i);
        if (Conditions.Holds<TCc>(c)) c.Rip = Unsafe.Add(ref i, 1).Imm;
    }

    public static void RIJcc<TOp, TW, TCc>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth where TCc : struct, ICc
    {
        AluForms.RI<TOp, TW>(c, ref i);
        if (Conditions.Holds<TCc>(c)) c.Rip = Unsafe.Add(ref i, 1).Imm;
    }

    public static void RMJcc<TOp, TW, TCc>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth where TCc : struct, ICc
    {
        AluForms.RM<TOp, TW>(c, ref i);
        if (Conditions.Holds<TCc>(c)) c.Rip = Unsafe.Add(ref i, 1).Imm;
    }

    public static void MRJcc<TOp, TW, TCc>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth where TCc : struct, ICc
    {
        AluForms.MR<TOp, TW>(c, ref i);
        if (Conditions.Holds<TCc>(c)) c.Rip = Unsafe.Add(ref i, 1).Imm;
    }

    public static void MIJcc<TOp, TW, TCc>(CpuState c, ref Insn i) where TOp : struct, IAluOp where TW : struct, IWidth where TCc : struct, ICc
    {
        AluForms.MI<TOp, TW>(c, ref i);
        if (Conditions.Holds<TCc>(c)) c.Rip = Unsafe.Add(ref i, 1).Imm;
    }
}

/// <summary>The fused handlers of <see cref="PairForms"/>, and which two instructions make a pair.</summary>
static unsafe class PairTable
{
    /// <summary>The first instructions paired, as their rows of <see cref="FormTable.Alu"/>: CMP, TEST, SUB.</summary>
    static readonly int[] AluRows = [7, 8, 2];

    /// <summary>
    /// [((op * 4 + width) * 5 + shape) * 16 + condition]: op as in <see cref="AluRows"/>; 8 16 32 64; RR RI RM MR MI; the
    /// branch's condition code. Only the pairs compilers emit are here (null elsewhere: the two then run one at a time):
    /// CMP with the conditions on CF, ZF, SF and their signed combinations (JO JNO JP JNP seldom follow a compare);
    /// TEST (which has no RM form) and SUB (a loop counter, a reference count: RR RI MI) with JE JNE JS JNS JLE JG, the
    /// ones whose answer is not fixed by TEST's clear CF and OF, or that follow a count down.
    /// </summary>
    static readonly delegate*<CpuState, ref Insn, void>[] Fused = new delegate*<CpuState, ref Insn, void>[3 * 4 * 5 * 16];

    // One method per first instruction's forms and conditions, so that only the pairs in the table are precompiled.

    static void Cmp<TW>(int w) where TW : struct, IWidth
    {
        int b = (0 * 4 + w) * 5 * 16;
        Cmp<TW, CcB>(b, 2);
        Cmp<TW, CcAe>(b, 3);
        Cmp<TW, CcE>(b, 4);
        Cmp<TW, CcNe>(b, 5);
        Cmp<TW, CcBe>(b, 6);
        Cmp<TW, CcA>(b, 7);
        Cmp<TW, CcS>(b, 8);
        Cmp<TW, CcNs>(b, 9);
        Cmp<TW, CcL>(b, 12);
        Cmp<TW, CcGe>(b, 13);
        Cmp<TW, CcLe>(b, 14);
        Cmp<TW, CcG>(b, 15);
    }

    static void Cmp<TW, TCc>(int b, int cc) where TW : struct, IWidth where TCc : struct, ICc
    {
        Fused[b + cc] = &PairForms.RRJcc<CmpOp, TW, TCc>;
        Fused[b + 16 + cc] = &PairForms.RIJcc<CmpOp, TW, TCc>;
        Fused[b + 2 * 16 + cc] = &PairForms.RMJcc<CmpOp, TW, TCc>;
        Fused[b + 3 * 16 + cc] = &PairForms.MRJcc<CmpOp, TW, TCc>;
        Fused[b + 4 * 16 + cc] = &PairForms.MIJcc<CmpOp, TW, TCc>;
    }

    static void Test<TW>(int w) where TW : struct, IWidth
    {
        int b = (1 * 4 + w) * 5 * 16;
        Test<TW, CcE>(b, 4);
        Test<TW, CcNe>(b, 5);
        Test<TW, CcS>(b, 8);
        Test<TW, CcNs>(b, 9);
        Test<TW, CcLe>(b, 14);
        Test<TW, CcG>(b, 15);
    }

    static void Test<TW, TCc>(int b, int cc) where TW : struct, IWidth where TCc : struct, ICc
    {
        Fused[b + cc] = &PairForms.RRJcc<TestOp, TW, TCc>;
        Fused[b + 16 + cc] = &PairForms.RIJcc<TestOp, TW, TCc>;
        Fused[b + 3 * 16 + cc] = &PairForms.MRJcc<TestOp, TW, TCc>;
        Fused[b + 4 * 16 + cc] = &PairForms.MIJcc<TestOp, TW, TCc>;
    }

    static void Sub<TW>(int w) where TW : struct, IWidth
    {
        int b = (2 * 4 + w) * 5 * 16;
        Sub<TW, CcE>(b, 4);
        Sub<TW, CcNe>(b, 5);
        Sub<TW, CcS>(b, 8);
        Sub<TW, CcNs>(b, 9);
        Sub<TW, CcLe>(b, 14);
        Sub<TW, CcG>(b, 15);
    }

    static void Sub<TW, TCc>(int b, int cc) where TW : struct, IWidth where TCc : struct, ICc
    {
        Fused[b + cc] = &PairForms.RRJcc<SubOp, TW, TCc>;
        Fused[b + 16 + cc] = &PairForms.RIJcc<SubOp, TW, TCc>;
        Fused[b + 4 * 16 + cc] = &PairForms.MIJcc<SubOp, TW, TCc>;
    }

    /// <summary>
    /// The first instructions' handlers, open-addressed by address, to where their rows start in <see cref="Fused"/>:
    /// every decoded block ending in a conditional branch looks its next-to-last instruction up here.
    /// </summary>
    static readonly nint[] FirstKeys = new nint[FirstSize];
    static readonly int[] FirstRows = new int[FirstSize];
    const int FirstSize = 256;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Slot(nint h) => (int)(((ulong)h >> 4) ^ ((ulong)h >> 12)) & (FirstSize - 1);

    static PairTable()
    {
        Cmp<W8>(0);
        Cmp<W16>(1);
        Cmp<W32>(2);
        Cmp<W64>(3);
        Test<W8>(0);
        Test<W16>(1);
        Test<W32>(2);
        Test<W64>(3);
        Sub<W8>(0);
        Sub<W16>(1);
        Sub<W32>(2);
        Sub<W64>(3);
        for (int op = 0; op < AluRows.Length; op++)
            for (int w = 0; w < 4; w++)
                for (int shape = 0; shape < 5; shape++)
                {
                    nint h = (nint)FormTable.Alu[(AluRows[op] * 4 + w) * 5 + shape];
                    int s = Slot(h);
                    while (FirstKeys[s] != 0) s = (s + 1) & (FirstSize - 1);
                    FirstKeys[s] = h;
                    FirstRows[s] = ((op * 4 + w) * 5 + shape) * 16;
                }
    }

    /// <summary>
    /// The handler that runs <paramref name="first"/> and then <paramref name="branch"/> (the instruction after it, which
    /// ends its block), or null when they are not such a pair. Both are prepared: their shaped handlers decide.
    /// </summary>
    public static delegate*<CpuState, ref Insn, void> For(in Insn first, in Insn branch)
    {
        int cc = branch.Cc;
        // Addresses compared as the tables hold them: the instructions' handlers were copied from there.
        if (cc < 0 || (nint)branch.Exec != (nint)FormTable.Jcc[cc]) return null;
        nint h = (nint)first.Exec;
        for (int s = Slot(h); ; s = (s + 1) & (FirstSize - 1))
        {
            nint k = FirstKeys[s];
            if (k == h) return Fused[FirstRows[s] + cc];
            if (k == 0) return null;
        }
    }
}
