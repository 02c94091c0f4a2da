using System.Reflection.Emit;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// The end of every region's normal exit, compiled once instead of into each region (where it was a good part of
/// what the JIT compiled for a small one): RIP and the counters settled, then the next region entered by a tail call
/// when the exit is linked (see <see cref="RegionEmitter.EmitExit(ILGenerator, Action, Action, Action, Action, Action)"/>).
/// A region's exit tail-calls it with its region, the CPU, the guest's next address, its progress counter and its budget.
/// </summary>
/// <remarks>
/// Built with IL, not C#, for its tail calls: one reaches it and one leaves it, so regions chained one after another
/// never stack. Regions saved to the code cache carry the same code inline (their assembly cannot call a dynamic method).
/// </remarks>
static class ExitStub
{
    internal static readonly DynamicMethod Method = Build();

    static DynamicMethod Build()
    {
        var m = new DynamicMethod("region_exit", typeof(long), new[] { typeof(Region), typeof(CpuState), typeof(ulong), typeof(long), typeof(long) },
            typeof(Region).Module, skipVisibility: true);
        var il = m.GetILGenerator();
        // A null CPU is the warm-up call (see Prepare).
        var go = il.DefineLabel();
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Brtrue, go);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Conv_I8);
        il.Emit(OpCodes.Ret);
        il.MarkLabel(go);
        RegionEmitter.EmitExit(il, () => il.Emit(OpCodes.Ldarg_0), () => { il.Emit(OpCodes.Ldarg_1); il.Emit(OpCodes.Ldfld, RegionEmitter.FMem); },
            () => il.Emit(OpCodes.Ldarg_2), () => il.Emit(OpCodes.Ldarg_3), () => il.Emit(OpCodes.Ldarg_S, (byte)4));
        return m;
    }

    /// <summary>Makes the JIT compile the stub now, off the guest's thread, before any region can leave through it.</summary>
    internal static void Prepare() =>
        ((Func<Region, CpuState, ulong, long, long, long>)Method.CreateDelegate(typeof(Func<Region, CpuState, ulong, long, long, long>)))(null!, null!, 0, 0, 0);
}
