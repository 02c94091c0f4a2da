using System.Runtime.CompilerServices;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using LegoEmu.Cpu.Translate;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// Tier 0: runs decoded blocks one instruction handler at a time, and dispatches to tier 1 (compiled
/// regions) wherever the translator has published one.
/// </summary>
public sealed unsafe class Interpreter(BlockCache blocks, TierOptions? tier = null) : IDisposable
{
    public BlockCache Blocks { get; } = blocks;

    /// <summary>The translator, or null when only the interpreter runs.</summary>
    public Translator? Translator { get; } = (tier ?? TierOptions.Default).Translate ? new Translator(blocks, tier ?? TierOptions.Default) : null;

    public void Dispose() => Translator?.Dispose();

    /// <summary><see cref="RunBlock"/>'s own code: a call to it from here went through its precode (see <see cref="DirectEntry"/>).</summary>
    readonly delegate*<CpuState, Block, void> _runBlock = (delegate*<CpuState, Block, void>)DirectEntry.Of((nint)(delegate*<CpuState, Block, void>)&RunBlock);

    /// <summary>
    /// Runs one guest thread until the host requests a stop or a yield, or until it has run
    /// <paramref name="budget"/> blocks (a scheduling time slice). A fault leaves RIP at the faulting
    /// instruction and propagates (<see cref="CpuFault"/> or <see cref="LegoEmu.Mem.MemoryFault"/>).
    /// </summary>
    public void Run(CpuState c, long budget = long.MaxValue)
    {
        try { RunLoop(c, budget); }
        catch (Exception) when (SettleFault(c)) { throw; }
    }

    /// <summary>
    /// A fault inside an interpreted block leaves RIP at the faulting instruction, which did not retire, as the kernel
    /// reports (regions, decoding and the host set RIP themselves). A filter that never catches: it runs before the stack
    /// unwinds, while the dispatcher's frame still holds the block, whose instructions' memory it reads. Settling it in
    /// the block runner took a handler there, which kept the runner's CPU and instruction pointers in memory: two loads
    /// more per instruction.
    /// </summary>
    static bool SettleFault(CpuState c)
    {
        Insn* at = c.CurrentInsn;
        if (at != null)
        {
            c.InstructionsRetired += at - c.BlockFirst;
            c.Rip = at->Ip;
            c.CurrentInsn = null;
        }
        return false;
    }

    /// <summary>
    /// The dispatcher proper, free of exception handling so that its loop keeps its locals in registers (an
    /// interpreted block's fault is settled by <see cref="SettleFault"/>).
    /// </summary>
    void RunLoop(CpuState c, long budget)
    {
        Block? prev = null;
        c.YieldRequested = false;
        var translator = Translator;
        long threshold = translator?.Threshold ?? long.MaxValue;
        // Where a block's count next needs a look (see Translator.Due), so the common case stays one comparison.
        long due = translator == null ? long.MaxValue : translator.Due(c.InstructionsRetired);
        bool missed = false;
        Region? unlinked = null;
        ulong unlinkedRip = 0;
        while (!c.StopRequested && !c.YieldRequested && budget-- > 0)
        {
            if (c.InterruptPending)
            {
                c.TakeInterrupt();
                c.Host.Interrupt(c);
                prev = null; // the host may have moved RIP (a signal handler)
                unlinked = null;
                if (c.StopRequested || c.YieldRequested) break;
            }
            ulong rip = c.Rip;
            Block b;
            // A successor's own start names it: the compare touches the line of the block that runs next anyway.
            if (prev != null && prev.Next1 is { } n1 && n1.Start == rip) b = n1;
            else if (prev != null && prev.Next2 is { } n2 && n2.Start == rip) b = n2;
            else
            {
                b = Blocks.Get(rip);
                if (prev != null)
                {
                    // Keep the two most recent successors; the older slot is overwritten.
                    prev.Next2 = prev.Next1;
                    prev.Next1 = b;
                }
            }
            var region = b.Region;
            if (region != null && !missed)
            {
                // The last region's exit found no link here: from now on it continues in this region directly.
                if (unlinked != null && unlinkedRip == rip)
                {
                    unlinked.Link(rip, b);
                    if (c.IndirectTo == rip && c.IndirectFrom != 0) translator!.NoteIndirect(c.IndirectFrom, rip);
                }
                unlinked = null;
                if (++region.Entries >= region.WidenAt) translator!.Widen(region);
                long before = c.InstructionsRetired, chained = c.RegionsChained;
                c.SettleSafePointLimit();
                budget = region.Code(c, budget + 1);
                translator!.Stats.TranslatedInstructions += c.InstructionsRetired - before;
                chained = c.RegionsChained - chained;
                translator.Stats.RegionEntries += 1 + chained;
                translator.Stats.ChainedEntries += chained;
                // The head's successor cache now remembers where the regions leave to.
                prev = b;
                if (c.MissedRegion is { } missing)
                {
                    // The instruction that missed runs here next (entering a region there could miss again).
                    c.MissedRegion = null;
                    missed = true;
                    translator.NoteMissExit(missing, c.Mem.Cache.Stats);
                }
                else if (c.UnlinkedExit is { } from)
                {
                    unlinked = from;
                    unlinkedRip = c.Rip;
                }
                c.UnlinkedExit = null;
                continue;
            }
            unlinked = null;
            // A block entered only because a region left at a miss inside it is not a translation candidate.
            // Long blocks count more per run (one more per 16 instructions): a fully unrolled loop body (a hash
            // round function, 128-instruction blocks) would otherwise run ten thousand times interpreted.
            if (translator != null && !b.TranslationRequested && !missed && (b.ExecCount += 1 + (b.Count >> 4)) >= due)
            {
                if (b.ExecCount >= threshold || translator.Early(b, c.InstructionsRetired)) translator.Request(b);
                else due = translator.Due(c.InstructionsRetired, warm: true);
                if (b.Region != null)
                {
                    budget++;
                    prev = null;
                    c.Rip = b.Start;
                    continue;
                }
            }
            var view = c.Mem;
            if (!view.Attributing)
            {
                _runBlock(c, b);
                c.InstructionsRetired += b.Count;
            }
            else if (view.Cache.Profile is { } profile) ExecuteBlockProfiled(c, b, view, profile);
            else ExecuteBlockAttributed(c, b, view);
            missed = false;
            // Also what keeps the block's instructions alive while they run, should a handler forget the block (a store
            // into its own code, an munmap of it): see Block.Insns.
            prev = b;
        }
    }

    /// <summary>
    /// One block's instructions, in a method of their own so the dispatcher's locals stay in registers. Only the last
    /// instruction of a block transfers control or reaches the host (SYSCALL, INT3), so only it needs RIP set first.
    /// The instruction running is named in the CPU state for <see cref="SettleFault"/>; a pointer, so no GC write barrier.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void RunBlock(CpuState c, Block b)
    {
        Insn* i = b.First;
        Insn* last = i + (b.Count - 1);
        // A block ending in a compare and its branch runs the two as one (Block.Tail), from the compare on.
        var tail = b.Tail;
        Insn* end = tail == null ? last : last - 1;
        c.BlockFirst = i;
        for (; i < end; i++)
        {
            c.CurrentInsn = i;
            i->Exec(c, ref *i);
        }
        c.CurrentInsn = end;
        c.Rip = last->NextIp;
        if (tail == null) end->Exec(c, ref *end);
        else tail(c, ref *end);
        c.CurrentInsn = null;
    }

    /// <summary>
    /// As <see cref="ExecuteBlockAttributed"/>, counting each instruction's retirements and data accesses in the
    /// block's profile counters. A faulting instruction keeps the access it counted, as the totals do.
    /// </summary>
    static void ExecuteBlockProfiled(CpuState c, Block b, LegoEmu.Mem.Cache.CacheView view, LegoEmu.Mem.Trace.CodeProfile profile)
    {
        var insns = b.Insns;
        var counts = b.ProfileCounts ?? StartProfile(b, profile);
        int n = 0;
        long before = view.Accesses;
        try
        {
            for (; n < insns.Length; n++)
            {
                ref Insn i = ref insns[n];
                c.Rip = i.NextIp;
                view.Ip = i.Ip;
                i.Exec(c, ref i);
                long now = view.Accesses;
                counts[2 * n]++;
                counts[2 * n + 1] += now - before;
                before = now;
            }
            c.InstructionsRetired += insns.Length;
            LegoEmu.Cpu.Profile.CallTracker.AfterBlock(c, ref insns[^1]);
        }
        catch
        {
            counts[2 * n + 1] += view.Accesses - before;
            c.InstructionsRetired += n;
            c.Rip = insns[n].Ip;
            GC.KeepAlive(b);
            throw;
        }
    }

    static long[] StartProfile(Block b, LegoEmu.Mem.Trace.CodeProfile profile)
    {
        var counts = new long[2 * b.Count];
        b.ProfileCounts = counts;
        profile.OnFinish(p =>
        {
            var insns = b.Insns;
            for (int k = 0; k < insns.Length; k++)
            {
                if (counts[2 * k] == 0 && counts[2 * k + 1] == 0) continue;
                var cost = p.At(insns[k].Ip);
                cost.Instructions += counts[2 * k];
                cost.Accesses += counts[2 * k + 1];
            }
        });
        return counts;
    }

    /// <summary>As the plain block loop in <see cref="RunLoop"/>, keeping the view's current instruction for a trace's attribution.</summary>
    static void ExecuteBlockAttributed(CpuState c, Block b, LegoEmu.Mem.Cache.CacheView view)
    {
        var insns = b.Insns;
        int n = 0;
        try
        {
            for (; n < insns.Length; n++)
            {
                ref Insn i = ref insns[n];
                c.Rip = i.NextIp;
                view.Ip = i.Ip;
                i.Exec(c, ref i);
            }
            c.InstructionsRetired += insns.Length;
        }
        catch
        {
            c.InstructionsRetired += n;
            c.Rip = insns[n].Ip;
            GC.KeepAlive(b);
            throw;
        }
    }
}
