using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using FlowControl = Iced.Intel.FlowControl;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// Block terminators: Jcc, JMP, CALL and RET. Direct targets inside the region become IL branches (loops
/// stay in the region, with a safe point on back-edges); everything else leaves for the dispatcher.
/// A RET compares its target with the return addresses of the region's own calls before it leaves, and an
/// indirect JMP or CALL with the targets the interpreter last saw it take.
/// </summary>
static class EmitBranch
{
    internal static bool TryEmit(RegionEmitter e, RegionCompiler.Context ctx, in Insn i, int blockLength)
    {
        var il = e.Il;
        // Each edge settles the flags its target needs (RegionCompiler.Context.Edge).
        switch (i.I.Code)
        {
            case Code.Jmp_rel8_64 or Code.Jmp_rel32_64:
                e.RetireBlock(blockLength);
                ctx.Edge(i.I.NearBranchTarget);
                return true;
            case Code.Jmp_rm64:
            {
                if (!RegionEmitter.Simple(i, 0)) return false;
                var t = e.Tmp();
                e.LoadOperand(i, 0, 64);
                il.Emit(OpCodes.Stloc, t);
                e.RetireBlock(blockLength);
                // The targets the interpreter saw, when they are in this region, stay inside it.
                BranchOrExit(e, ctx, t, ctx.IndirectTargets, learn: true);
                return true;
            }
            case Code.Call_rel32_64:
            {
                var ret = e.Tmp();
                il.Ldc8((long)i.NextIp);
                il.Emit(OpCodes.Stloc, ret);
                EmitStack.Push(e, ret);
                e.RetireBlock(blockLength);
                e.TrackTransfer(true, i.Ip, null, i.I.NearBranchTarget);
                ctx.Edge(i.I.NearBranchTarget);
                return true;
            }
            case Code.Call_rm64:
            {
                if (!RegionEmitter.Simple(i, 0)) return false;
                var t = e.Tmp();
                var ret = e.Tmp();
                e.LoadOperand(i, 0, 64);
                il.Emit(OpCodes.Stloc, t);
                il.Ldc8((long)i.NextIp);
                il.Emit(OpCodes.Stloc, ret);
                EmitStack.Push(e, ret);
                e.RetireBlock(blockLength);
                e.TrackTransfer(true, i.Ip, t);
                // A callee the interpreter saw this call reach, when it is in the region, runs inside it.
                BranchOrExit(e, ctx, t, ctx.IndirectTargets, learn: true);
                return true;
            }
            case Code.Retnq or Code.Retnq_imm16:
            {
                var t = e.Tmp();
                var sp = e.Tmp();
                e.LoadGpr64(Registers.RSP);
                il.Emit(OpCodes.Stloc, sp);
                e.Load(64, sp);
                il.Emit(OpCodes.Stloc, t);
                il.Emit(OpCodes.Ldloc, sp);
                il.Ldc8(8L + (i.I.Code == Code.Retnq_imm16 ? i.I.Immediate16 : 0));
                il.Emit(OpCodes.Add);
                e.StoreGpr64(Registers.RSP);
                e.RetireBlock(blockLength);
                e.TrackTransfer(false, i.Ip, t);
                BranchOrExit(e, ctx, t, ctx.ReturnTargets, learn: false);
                return true;
            }
        }
        if (i.Cc >= 0 && i.I.FlowControl == FlowControl.ConditionalBranch && i.I.Op0Kind == OpKind.NearBranch64 && IsJcc(i.I.Mnemonic))
        {
            // The block is counted first, so the condition feeds the branch directly and the JIT fuses them.
            var notTaken = il.DefineLabel();
            e.RetireBlock(blockLength);
            e.EmitCond(i.Cc);
            il.Emit(OpCodes.Brfalse, notTaken);
            ctx.Edge(i.I.NearBranchTarget);
            il.MarkLabel(notTaken);
            ctx.Edge(i.NextIp);
            return true;
        }
        return false;
    }

    /// <summary>
    /// A computed target: an IL branch when it is one of <paramref name="known"/> (blocks of the region), an exit otherwise.
    /// A few targets are compared in turn; more (a bytecode interpreter's handlers, see Translator.NoteIndirect) are found by a
    /// binary search over their addresses, a handful of compares whichever handler comes next. An indirect JMP or CALL
    /// (<paramref name="learn"/>) that leaves notes where it went; a RET's targets are its region's own calls.
    /// </summary>
    static void BranchOrExit(RegionEmitter e, RegionCompiler.Context ctx, System.Reflection.Emit.LocalBuilder target, IEnumerable<ulong> known, bool learn)
    {
        var il = e.Il;
        var sorted = new List<ulong>(known);
        sorted.Sort();
        var miss = il.DefineLabel();
        Search(e, ctx, target, sorted, 0, sorted.Count, miss);
        il.MarkLabel(miss);
        if (learn)
        {
            // Where the jump went, for the next plan of a region holding this block (two stores on a way out anyway).
            il.Emit(OpCodes.Ldarg_1);
            il.Ldc8((long)ctx.CurrentStart);
            il.Emit(OpCodes.Stfld, FIndirectFrom);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldloc, target);
            il.Emit(OpCodes.Stfld, FIndirectTo);
        }
        il.Emit(OpCodes.Ldloc, target);
        e.ExitToStack();
    }

    /// <summary>Branches to the one of <paramref name="sorted"/>[lo..hi) that the target is, or to <paramref name="miss"/>.</summary>
    static void Search(RegionEmitter e, RegionCompiler.Context ctx, System.Reflection.Emit.LocalBuilder target, List<ulong> sorted, int lo, int hi, Label miss)
    {
        var il = e.Il;
        if (hi - lo <= LinearTargets)
        {
            for (int k = lo; k < hi; k++)
            {
                var other = il.DefineLabel();
                il.Emit(OpCodes.Ldloc, target);
                il.Ldc8((long)sorted[k]);
                il.Emit(OpCodes.Bne_Un, other);
                ctx.Edge(sorted[k]);
                il.MarkLabel(other);
            }
            il.Emit(OpCodes.Br, miss);
            return;
        }
        int mid = (lo + hi) / 2;
        var upper = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, target);
        il.Ldc8((long)sorted[mid]);
        il.Emit(OpCodes.Bge_Un, upper);
        Search(e, ctx, target, sorted, lo, mid, miss);
        il.MarkLabel(upper);
        Search(e, ctx, target, sorted, mid, hi, miss);
    }

    static readonly System.Reflection.FieldInfo FIndirectFrom = typeof(CpuState).GetField(nameof(CpuState.IndirectFrom))!;
    static readonly System.Reflection.FieldInfo FIndirectTo = typeof(CpuState).GetField(nameof(CpuState.IndirectTo))!;

    /// <summary>Up to this many targets are compared one after another.</summary>
    const int LinearTargets = 3;

    static bool IsJcc(Mnemonic m) => m is Mnemonic.Jo or Mnemonic.Jno or Mnemonic.Jb or Mnemonic.Jae or Mnemonic.Je or Mnemonic.Jne
        or Mnemonic.Jbe or Mnemonic.Ja or Mnemonic.Js or Mnemonic.Jns or Mnemonic.Jp or Mnemonic.Jnp or Mnemonic.Jl or Mnemonic.Jge
        or Mnemonic.Jle or Mnemonic.Jg;
}
