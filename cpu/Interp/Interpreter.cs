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

    /// <summary>
    /// Runs one guest thread until the host requests a stop or a yield, or until it has run
    /// <paramref name="budget"/> blocks (a scheduling time slice). A fault leaves RIP at the faulting
    /// instruction and propagates (<see cref="CpuFault"/> or <see cref="LegoEmu.Mem.MemoryFault"/>).
    /// </summary>
    public void Run(CpuState c, long budget = long.MaxValue)
    {
        Block? prev = null;
        c.YieldRequested = false;
        var translator = Translator;
        long threshold = translator?.Threshold ?? long.MaxValue;
        while (!c.StopRequested && !c.YieldRequested && budget-- > 0)
        {
            if (c.InterruptPending)
            {
                c.InterruptPending = false;
                c.Host.Interrupt(c);
                prev = null; // the host may have moved RIP (a signal handler)
                if (c.StopRequested || c.YieldRequested) break;
            }
            ulong rip = c.Rip;
            Block b;
            if (prev != null && prev.Next1Ip == rip && prev.Next1 != null) b = prev.Next1;
            else if (prev != null && prev.Next2Ip == rip && prev.Next2 != null) b = prev.Next2;
            else
            {
                b = Blocks.Get(rip);
                if (prev != null)
                {
                    // Keep the two most recent successors; the older slot is overwritten.
                    prev.Next2 = prev.Next1; prev.Next2Ip = prev.Next1Ip;
                    prev.Next1 = b; prev.Next1Ip = rip;
                }
            }
            var region = b.Region;
            if (region != null)
            {
                region.Entries++;
                long before = c.InstructionsRetired;
                long ran = region.Code(c, budget + 1);
                translator!.Stats.TranslatedInstructions += c.InstructionsRetired - before;
                budget -= ran - 1;
                // The head's successor cache now remembers where the region leaves to.
                prev = b;
                continue;
            }
            if (translator != null && !b.TranslationRequested && ++b.ExecCount >= threshold)
            {
                translator.Request(b);
                if (b.Region != null)
                {
                    budget++;
                    prev = null;
                    c.Rip = b.Start;
                    continue;
                }
            }
            var view = c.Mem;
            if (view.Attributing) ExecuteBlockAttributed(c, b, view);
            else ExecuteBlock(c, b);
            prev = b;
        }
    }

    static void ExecuteBlock(CpuState c, Block b)
    {
        var insns = b.Insns;
        int n = 0;
        try
        {
            for (; n < insns.Length; n++)
            {
                ref Insn i = ref insns[n];
                c.Rip = i.NextIp;
                i.Exec(c, ref i);
            }
            c.InstructionsRetired += insns.Length;
        }
        catch
        {
            // The faulting instruction did not retire and RIP points at it, as the kernel reports.
            c.InstructionsRetired += n;
            c.Rip = insns[n].Ip;
            throw;
        }
    }

    /// <summary>As <see cref="ExecuteBlock"/>, keeping the view's current instruction for a trace's attribution.</summary>
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
            throw;
        }
    }
}
