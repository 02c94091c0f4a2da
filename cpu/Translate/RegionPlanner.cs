using Iced.Intel;
using LegoEmu.Cpu.Decode;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// Chooses a region's blocks: from a hot head, the successors reached through direct jumps, calls (the
/// callee and the return address), fall-throughs and both sides of conditional branches, as long as
/// they are hot (or, with a threshold of 0, merely decodable), up to a size limit.
/// </summary>
static class RegionPlanner
{
    // A region first holds a head's neighbourhood (16 blocks, 128 instructions): the JIT's time grows with the IL,
    // about 1 ms per KiB, most regions are warm rather than hot, and a short run waits for them. A region entered
    // very often is planned again, wider, so that a loop over dozens of small blocks becomes one region: exits
    // cost a spill and a reload of the registers and flags even when they chain to the next region.
    // The block limit is the one that binds in call-heavy code (a call, a PLT stub's jump and a two-block callee
    // are four blocks): at 8, perl -ne over 14.6 MB left its regions 10.3 M times and jq's interpreter 206 M
    // times; at 16, 7.3 M and 149 M, for the same JIT time (the instruction limit holds the IL). 24 or 32 blocks
    // change nothing more, and 192 instructions made jq worse.
    internal const int MaxBlocks = 16;
    internal const int MaxInstructions = 128;
    internal const int WideMaxBlocks = 64;
    internal const int WideMaxInstructions = 512;
    /// <summary>Eager translation (threshold 0) compiles every entry point, most of them run once: keep those regions small.</summary>
    internal const int EagerMaxBlocks = 4;
    internal const int EagerMaxInstructions = 64;

    /// <summary>
    /// Whether <paramref name="s"/> continues straight-line code that <paramref name="b"/> was cut from (b reached the
    /// decoder's size limit and falls through): such a chain is planned up to the wide limit at once. An unrolled
    /// loop body (a hash's rounds: sha256sum's is 3 300 instructions in 26 blocks) otherwise became a region per
    /// block, each left through the exit stub with every register stored and loaded again: a fifth of its time.
    /// The blocks of a chain run as often as each other, so they would all be compiled anyway, one region each.
    /// </summary>
    internal static bool Continues(Block b, ulong s)
    {
        ref readonly var last = ref b.Insns[^1];
        return last.I.FlowControl == FlowControl.Next && s == last.NextIp;
    }

    /// <summary>The statically known successors of a block, in the order they are worth following.</summary>
    internal static IEnumerable<ulong> Successors(Block b)
    {
        var last = b.Insns[^1].I;
        switch (last.Code)
        {
            case Code.Jmp_rel8_64 or Code.Jmp_rel32_64:
                yield return last.NearBranchTarget;
                yield break;
            case Code.Call_rel32_64:
                yield return last.NearBranchTarget;
                yield return last.NextIP;
                yield break;
        }
        switch (last.FlowControl)
        {
            case FlowControl.Next:
                yield return last.NextIP;
                yield break;
            case FlowControl.ConditionalBranch when last.Op0Kind == OpKind.NearBranch64 && b.Insns[^1].Cc >= 0:
                yield return last.NextIP;
                yield return last.NearBranchTarget;
                yield break;
        }
    }

    /// <summary>
    /// As <see cref="Successors"/>, and for an indirect jump (a switch's jump table) or an indirect call (a
    /// callback) the two targets the interpreter last saw it take: a state machine's cases, or the function a
    /// loop calls through a pointer, then join its region.
    /// </summary>
    internal static IEnumerable<ulong> PlanSuccessors(Block b)
    {
        foreach (var s in Successors(b)) yield return s;
        var code = b.Insns[^1].I.Code;
        if (code is not (Code.Jmp_rm64 or Code.Call_rm64)) yield break;
        ulong t1 = b.Next1Ip, t2 = b.Next2Ip;
        if (t1 != 0) yield return t1;
        if (t2 != 0 && t2 != t1) yield return t2;
        // An indirect call (a callback, a virtual method) returns here: the callee's RET can stay in the region too.
        if (code == Code.Call_rm64) yield return b.Insns[^1].NextIp;
    }

    /// <summary>
    /// <see cref="PlanSuccessors(Block)"/>, then in a wide plan the further targets an indirect jump or call is known to
    /// reach (<see cref="Block.IndirectHints"/>), marked.
    /// </summary>
    static IEnumerable<(ulong Ip, bool Hinted)> PlanSuccessors(Block b, bool wide)
    {
        foreach (var s in PlanSuccessors(b)) yield return (s, false);
        if (wide && b.IndirectHints is { } hints)
            foreach (var h in hints) yield return (h, true);
    }

    /// <summary>
    /// Plans the region of <paramref name="head"/>. <paramref name="lookup"/> returns an already decoded
    /// block or null; <paramref name="decode"/> (eager mode only) decodes one, or returns null when it cannot.
    /// <paramref name="wide"/> plans with the larger limits, for a region entered often enough to be worth it;
    /// a block for which <paramref name="exclude"/> (given whether it was reached as a learnt indirect target) is true
    /// stays outside (the region leaves for it).
    /// </summary>
    internal static Block[] Plan(Block head, Func<ulong, Block?> lookup, Func<ulong, Block?>? decode, long hotEnough, bool wide = false,
        Func<Block, bool, bool>? exclude = null)
    {
        int maxBlocks = wide ? WideMaxBlocks : decode != null ? EagerMaxBlocks : MaxBlocks;
        int maxInstructions = wide ? WideMaxInstructions : decode != null ? EagerMaxInstructions : MaxInstructions;
        var chosen = new List<Block> { head };
        var seen = new HashSet<ulong> { head.Start };
        var queue = new Queue<Block>();
        queue.Enqueue(head);
        int instructions = head.Insns.Length;
        while (queue.Count > 0 && chosen.Count < maxBlocks)
        {
            var b = queue.Dequeue();
            foreach (var (s, hinted) in PlanSuccessors(b, wide))
            {
                if (!seen.Add(s)) continue;
                var next = lookup(s);
                if (next == null && decode != null) next = decode(s);
                if (next == null) continue;
                if (decode == null && next.ExecCount < hotEnough && !next.Compiled) continue;
                if (next.Insns.Length == 0 || next.Insns[0].I.Code == Code.INVALID) continue;
                if (exclude != null && exclude(next, hinted)) continue;
                if (chosen.Count >= maxBlocks) break;
                if (instructions + next.Insns.Length > (decode == null && Continues(b, s) ? Math.Max(maxInstructions, WideMaxInstructions) : maxInstructions)) continue;
                chosen.Add(next);
                instructions += next.Insns.Length;
                queue.Enqueue(next);
            }
        }
        return chosen.ToArray();
    }
}
