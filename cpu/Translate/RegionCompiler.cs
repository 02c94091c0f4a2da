using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using FlowControl = Iced.Intel.FlowControl;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// Compiles a planned region (its blocks, head first) into one dynamic method. Instructions with an
/// emitter become inline IL; any other runs its interpreter handler from the IL, so every region can
/// be compiled whatever it contains.
/// </summary>
static unsafe class RegionCompiler
{
    /// <summary>What the terminator emitters need to know about the region: where its blocks are.</summary>
    internal sealed class Context
    {
        readonly RegionEmitter _e;
        readonly Dictionary<ulong, int> _index;
        readonly Label[] _labels;
        readonly int[] _predecessors;
        readonly RegionEmitter.FlagState?[] _entryFlags;
        readonly bool[] _deadAtEntry;
        readonly bool[] _entry;
        readonly ulong[]?[] _indirect;
        readonly ulong[] _starts;
        internal int Current;
        internal readonly List<ulong> ReturnTargets = new();

        internal Context(RegionEmitter e, Block[] blocks, IReadOnlySet<ulong> addedEntries)
        {
            _e = e;
            _index = new Dictionary<ulong, int>(blocks.Length);
            _starts = new ulong[blocks.Length];
            for (int k = 0; k < blocks.Length; k++) _starts[k] = blocks[k].Start;
            for (int k = 0; k < blocks.Length; k++) _index[blocks[k].Start] = k;
            _labels = new Label[blocks.Length];
            for (int k = 0; k < blocks.Length; k++) _labels[k] = e.Il.DefineLabel();
            _predecessors = new int[blocks.Length];
            _entryFlags = new RegionEmitter.FlagState?[blocks.Length];
            _deadAtEntry = new bool[blocks.Length];
            for (int k = 0; k < blocks.Length; k++) _deadAtEntry[k] = FlagLiveness.DeadAtEntry(blocks[k].Insns);
            _predecessors[0] = 1; // entered from the dispatcher
            foreach (var b in blocks)
            {
                var last = b.Insns[^1];
                if (last.I.Code is Code.Call_rel32_64 or Code.Call_rm64 && _index.ContainsKey(last.NextIp)) ReturnTargets.Add(last.NextIp);
                foreach (var s in RegionPlanner.Successors(b))
                    if (_index.TryGetValue(s, out int t)) _predecessors[t]++;
            }
            // An indirect jump's or call's targets as the interpreter last saw them, read once: the edges counted
            // here are exactly the ones its code takes inside the region.
            _indirect = new ulong[blocks.Length][];
            for (int k = 0; k < blocks.Length; k++)
            {
                var b = blocks[k];
                if (b.Insns[^1].I.Code is not (Code.Jmp_rm64 or Code.Call_rm64)) continue;
                ulong t1 = b.Next1Ip, t2 = b.Next2Ip;
                var targets = new List<ulong>(2);
                if (_index.ContainsKey(t1)) targets.Add(t1);
                if (t2 != t1 && _index.ContainsKey(t2)) targets.Add(t2);
                if (b.IndirectHints is { } hints)
                    foreach (var h in hints)
                        if (_index.ContainsKey(h) && !targets.Contains(h)) targets.Add(h);
                _indirect[k] = targets.ToArray();
                foreach (var t in targets) _predecessors[_index[t]]++;
            }
            foreach (var r in ReturnTargets) _predecessors[_index[r]] += 1;
            // A block is also an entry from the dispatcher where that costs the code nothing: the flags are
            // dead there, or already settled on its several incoming edges. Such blocks never become heads of
            // regions of their own (which would compile them again with their successors).
            _entry = new bool[blocks.Length];
            // And where the dispatcher was seen arriving from outside (the translator asked for them): their
            // incoming edges here settle the flags, as for a block with several.
            for (int k = 1; k < blocks.Length; k++) _entry[k] = _deadAtEntry[k] || _predecessors[k] > 1 || addedEntries.Contains(blocks[k].Start);
        }

        /// <summary>Whether the dispatcher may enter the region at block <paramref name="k"/> (the head always).</summary>
        internal bool IsEntry(int k) => k == 0 || _entry[k];

        /// <summary>The targets inside the region that the current block's indirect jump compares against.</summary>
        internal ulong[] IndirectTargets => _indirect[Current] ?? Array.Empty<ulong>();

        /// <summary>The guest address of the block being emitted.</summary>
        internal ulong CurrentStart => _starts[Current];

        internal Label LabelOf(int k) => _labels[k];

        /// <summary>
        /// Continues at <paramref name="target"/>: an IL branch when it is in the region, an exit otherwise.
        /// Each edge settles the flags for its own target only, and leaves the compile-time flag state as it
        /// found it for the block's other edges: a block with this one as its only predecessor inherits a
        /// waiting producer as it is; a block that overwrites the flags before anything can see them needs
        /// nothing; any other target gets them in the lazy-flag locals.
        /// </summary>
        internal void Edge(ulong target)
        {
            var state = _e.SaveFlags();
            if (!_index.TryGetValue(target, out int t))
            {
                _e.ExitTo(target);
                _e.RestoreFlags(state);
                return;
            }
            if (t <= Current)
            {
                _e.SafePoint(target);
                if (!_deadAtEntry[t]) _e.MaterializeFlags();
            }
            else if (_predecessors[t] == 1 && !_entry[t]) _entryFlags[t] = state;
            else if (!_deadAtEntry[t]) _e.MaterializeFlags();
            _e.Il.Emit(OpCodes.Br, _labels[t]);
            _e.RestoreFlags(state);
        }

        /// <summary>Sets the compile-time flag knowledge at the start of block <paramref name="k"/>.</summary>
        internal void EnterBlock(int k)
        {
            Current = k;
            if (_entryFlags[k] is { } f) _e.RestoreFlags(f);
            else _e.ForgetFlags();
        }
    }

    /// <summary>The parameters of a region's compiled method: the region (a closed delegate's target), the CPU, the budget.</summary>
    internal static readonly Type[] Parameters = { typeof(Region), typeof(CpuState), typeof(long) };

    internal static Region Compile(Block[] blocks, CacheView shape, bool missCalls = false, IReadOnlySet<ulong>? addedEntries = null, bool groupsAlone = false)
    {
        var method = new DynamicMethod($"region_{blocks[0].Start:x}", typeof(long), Parameters, typeof(Region).Module, skipVisibility: true);
        var region = Emit(method.GetILGenerator(256 + 64 * Count(blocks)), blocks, shape, missCalls, withProfile: true, addedEntries ?? Region.NoAddedEntries, sharedExit: true, groupsAlone);
        region.SetCode(method);
        return region;
    }

    /// <summary>
    /// Emits the region as static method <paramref name="name"/> of <paramref name="type"/> (the code cache's
    /// assembly). The result carries what the compiled code needs of its region, and no code yet. Its address groups
    /// carry on past a range not in one line: a later run binds it whatever its frames' addresses are then.
    /// </summary>
    internal static Region CompileInto(TypeBuilder type, string name, Block[] blocks, CacheView shape, bool missCalls)
    {
        var method = type.DefineMethod(name, System.Reflection.MethodAttributes.Public | System.Reflection.MethodAttributes.Static, typeof(long), Parameters);
        return Emit(method.GetILGenerator(256 + 64 * Count(blocks)), blocks, shape, missCalls, withProfile: false, Region.NoAddedEntries, sharedExit: false, groupsAlone: true);
    }

    static int Count(Block[] blocks)
    {
        int n = 0;
        foreach (var b in blocks) n += b.Insns.Length;
        return n;
    }

    static Region Emit(ILGenerator il, Block[] blocks, CacheView shape, bool missCalls, bool withProfile, IReadOnlySet<ulong> addedEntries, bool sharedExit, bool groupsAlone)
    {
        var interpreted = new List<Insn>(8);
        var region = new Region(blocks[0].Start, blocks);
        if (withProfile && shape.Cache.Profile is { } profile) region.Profile = new RegionProfile(blocks, profile);
        var e = new RegionEmitter(il, region, shape) { MissCalls = missCalls, SharedExit = sharedExit, GroupsAlone = groupsAlone };
        region.MissCalls = missCalls;
        e.UseRegisters(blocks);
        e.PlanLineSlots(blocks);
        e.UsesFloatingPoint = InlineFloatingPoint(blocks);
        foreach (var b in blocks)
            foreach (var insn in b.Insns)
                e.UsesYmm |= insn.I.Encoding == Iced.Intel.EncodingKind.VEX;
        region.UsesFloatingPoint = e.UsesFloatingPoint;
        var ctx = new Context(e, blocks, addedEntries);
        region.AddedEntries = addedEntries;
        var entries = new List<(ulong Ip, Label Label)>(4);
        for (int k = 1; k < blocks.Length; k++)
            if (ctx.IsEntry(k)) entries.Add((blocks[k].Start, ctx.LabelOf(k)));
        e.BeginRegion(ctx.LabelOf(0), entries);
        region.EntryBlocks = new bool[blocks.Length];
        for (int k = 0; k < blocks.Length; k++) region.EntryBlocks[k] = ctx.IsEntry(k);
        for (int k = 0; k < blocks.Length; k++)
        {
            il.MarkLabel(ctx.LabelOf(k));
            ctx.EnterBlock(k);
            EmitBlock(e, ctx, blocks[k], k, interpreted);
        }
        e.EndRegion();
        region.Interpreted = interpreted.ToArray();
        region.IlBytes = il.ILOffset;
        return region;
    }

    /// <summary>Whether a region of these blocks computes SSE floating point inline (see RegionEmitter.UsesFloatingPoint).</summary>
    internal static bool InlineFloatingPoint(Block[] blocks)
    {
        foreach (var b in blocks)
            foreach (var insn in b.Insns)
                if (EmitSseFloat.Handles(insn) || EmitSseScalar.UsesHostMxcsr(insn)) return true;
        return false;
    }

    static void EmitBlock(RegionEmitter e, Context ctx, Block b, int index, List<Insn> interpreted)
    {
        var insns = b.Insns;
        int n = insns.Length;
        var deadAfter = FlagLiveness.DeadAfter(insns);
        e.BeginBlock(index);
        e.PlanAddressGroups(insns);
        for (int k = 0; k < n; k++)
        {
            ref Insn i = ref insns[k];
            e.BeginInstruction(i, k);
            e.FlagsDeadAfter = deadAfter[k];
            bool last = k == n - 1;
            if (last && EmitBranch.TryEmit(e, ctx, i, n)) return;
            if (EmitSseScalar.TryEmit(e, i, interpreted)) continue;
            if (Emitters.TryEmit(e, i)) continue;
            if (i.Inner != null && EmitSseFloat.TryEmit(e, i, interpreted)) continue;
            interpreted.Add(i);
            e.EmitInterpreted(interpreted.Count - 1, RegisterSet.Of(i));
            if (last && i.I.FlowControl != FlowControl.Next)
            {
                // A control transfer (or a system call) run by its handler: RIP is wherever it left it.
                e.RetireBlock(n);
                e.TrackHandledTransfer(i);
                e.ExitToCpuRip();
                return;
            }
        }
        // The block ended without a control transfer (its size limit, or unfetchable bytes next).
        e.RetireBlock(n);
        ctx.Edge(insns[^1].NextIp);
    }
}
