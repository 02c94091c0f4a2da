using System.Reflection;
using System.Runtime.CompilerServices;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// Compiles, on the start-up warm-up thread, the handlers ReadyToRun leaves to the JIT (methods that use
/// Vector128, Int128 or UInt128), so the guest's thread does not stop for the JIT at their first use. Most
/// guests reach the SSE moves, the SSE integer operations, the string compares and DIV within their first
/// million instructions; python3 -c pass spent about 30 ms of its start compiling them and the floating-point
/// handlers on its own thread. Preparing a method that is compiled already only looks its code up.
/// </summary>
public static class HandlerWarmUp
{
    /// <summary>Handler families most guests reach early.</summary>
    static readonly Type[] Early =
    {
        typeof(Shaped.SseForms), typeof(Operands), typeof(InstSse2Integer), typeof(InstSsse3), typeof(InstSse42), typeof(InstMulDiv),
    };

    /// <summary>The ExCache's 128-bit paths off the front table (a miss or a line crossing of an SSE access).</summary>
    static readonly string[] CacheSlowPaths = { "ReadSlow128", "WriteSlow128" };

    /// <summary>Prepares the early families, then the floating-point handlers (see <see cref="HandlerTable.PrepareFloatingPointHandlers"/>).</summary>
    public static void Run()
    {
        const BindingFlags all = BindingFlags.Static | BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly;
        foreach (var t in Early)
        {
            RuntimeHelpers.RunClassConstructor(t.TypeHandle);
            foreach (var m in t.GetMethods(all))
                if (!m.ContainsGenericParameters && !m.IsAbstract) RuntimeHelpers.PrepareMethod(m.MethodHandle);
        }
        foreach (var name in CacheSlowPaths)
            if (typeof(LegoEmu.Mem.Cache.CacheView).GetMethod(name, all) is { } m) RuntimeHelpers.PrepareMethod(m.MethodHandle);
        // What the division handlers call for 128-bit dividends.
        RuntimeHelpers.PrepareMethod(typeof(UInt128).GetMethod(nameof(UInt128.DivRem), new[] { typeof(UInt128), typeof(UInt128) })!.MethodHandle);
        RuntimeHelpers.PrepareMethod(typeof(Int128).GetMethod(nameof(Int128.DivRem), new[] { typeof(Int128), typeof(Int128) })!.MethodHandle);
        HandlerTable.PrepareFloatingPointHandlers();
    }
}
