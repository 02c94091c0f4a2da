using System.Reflection;
using System.Runtime.CompilerServices;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// Prepares, on the start-up warm-up thread, the handler families most guests reach early (the SSE moves, the SSE
/// integer operations, the string compares, DIV) and the floating-point handlers, so the guest's thread does not
/// stop at their first use. They are precompiled now (their SIMD values pass by reference, which ReadyToRun can
/// compile), so preparing one binds its precompiled code; when they were JIT-compiled, python3 -c pass spent about
/// 30 ms of its start compiling them on its own thread.
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
        HandlerTable.PrepareFloatingPointHandlers();
    }
}
