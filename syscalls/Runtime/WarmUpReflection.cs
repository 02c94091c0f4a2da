using System.Reflection;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// The reflection a code cache's first use makes (an assembly's name, a type by name, a method by metadata token, a
/// delegate over it), made once on the warm-up thread: run first in a process it cost 5 to 7 ms of the guest's execve
/// (the runtime's type-name parsing and reflection caches), against 0.2 ms once warm.
/// </summary>
public static class WarmUpReflection
{
    public static void Run()
    {
        var assembly = typeof(WarmUpReflection).Assembly;
        _ = assembly.GetName().Name;
        if (assembly.GetType(typeof(WarmUpReflection).FullName!) is not { } type) return;
        var method = type.GetMethod(nameof(Target), BindingFlags.NonPublic | BindingFlags.Static);
        if (method == null || type.Module.ResolveMethod(method.MetadataToken) is not MethodInfo resolved) return;
        resolved.CreateDelegate<Func<int, int>>()(0);
    }

    static int Target(int x) => x + 1;
}
