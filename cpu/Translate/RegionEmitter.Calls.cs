using System.Reflection;
using System.Reflection.Emit;
using LegoEmu.Cpu.State;
using Label = System.Reflection.Emit.Label;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// Nested calls: a region's call to code outside it runs the callee's region as a .NET call and goes on at the
/// return address in its own frame once the callee returns there (see TranslatedRuntime.CallNested).
/// </summary>
partial class RegionEmitter
{
    LocalBuilder? _nestedTarget, _nestedReturn, _nestedLeft, _nestedSite, _callReturn;
    Label _nestedCommon;
    readonly List<Label> _nestedResumes = new();

    static readonly MethodInfo MCallNested = typeof(TranslatedRuntime).GetMethod(nameof(TranslatedRuntime.CallNested), BindingFlags.Static | BindingFlags.NonPublic)!;

    /// <summary>
    /// The return address of the region's last call to a block of its own, 0 before any: where a call stub's jump out of
    /// the region (a PLT entry's) will come back to. Only a guess (the stub may be reached otherwise): a wrong one costs a
    /// callee that does not return early, never a wrong continuation, as the caller goes on where the guest is.
    /// </summary>
    internal LocalBuilder CallReturn => _callReturn ??= Il.DeclareLocal(typeof(ulong));

    /// <summary>
    /// Calls the code at the address <paramref name="target"/> pushes as a nested call that waits for the return address
    /// <paramref name="returnTo"/> pushes; when the callee returns there, <paramref name="resume"/>'s code goes on with the
    /// registers back in their locals and the flags in the CPU state (as at an entry). Anything else the callee's code
    /// does (the slice ends, a signal, a miss) leaves this region too, with the state the callee left.
    /// </summary>
    internal void NestedCall(Action target, Action returnTo, Action resume)
    {
        if (_nestedSite == null)
        {
            _nestedTarget = Il.DeclareLocal(typeof(ulong));
            _nestedReturn = Il.DeclareLocal(typeof(ulong));
            _nestedLeft = Il.DeclareLocal(typeof(long));
            _nestedSite = Il.DeclareLocal(typeof(int));
            _nestedCommon = Il.DefineLabel();
        }
        MaterializeFlags();
        target();
        Il.Emit(OpCodes.Stloc, _nestedTarget!);
        returnTo();
        Il.Emit(OpCodes.Stloc, _nestedReturn!);
        Il.Ldc4(_nestedResumes.Count);
        Il.Emit(OpCodes.Stloc, _nestedSite);
        Il.Emit(OpCodes.Br, _nestedCommon);
        var back = Il.DefineLabel();
        _nestedResumes.Add(back);
        Il.MarkLabel(back);
        var state = SaveFlags();
        ForgetFlags();
        resume();
        RestoreFlags(state);
    }

    /// <summary>The local holding the return address the current nested call waited for (in <see cref="NestedCall"/>'s resume).</summary>
    internal LocalBuilder NestedReturn => _nestedReturn!;

    /// <summary>
    /// The code the region's nested calls share: the registers stored as at an exit, the call, then either the way out
    /// (the callee did not return) or the registers loaded again, a fresh slice from what the callee left of it and
    /// the site's own continuation.
    /// </summary>
    void EmitNestedCalls()
    {
        if (_nestedSite == null) return;
        Il.MarkLabel(_nestedCommon);
        StoreRegisters();
        if (UsesFloatingPoint)
        {
            // As at an exit: the flags stay in the host for the callee's regions.
            Il.Emit(OpCodes.Ldarg_1);
            Il.Emit(OpCodes.Ldc_I4_1);
            Il.Emit(OpCodes.Stfld, FFpPending);
        }
        Il.Emit(OpCodes.Ldarg_0);
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldloc, _nestedTarget!);
        Il.Emit(OpCodes.Ldloc, _nestedReturn!);
        LoadProgress();
        Il.Emit(OpCodes.Ldarg_2);
        Il.Emit(OpCodes.Call, MCallNested);
        Il.Emit(OpCodes.Stloc, _nestedLeft!);
        var resumed = Il.DefineLabel();
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldfld, FReturned);
        Il.Emit(OpCodes.Brtrue, resumed);
        // Counters and registers are in the CPU state already: the dispatcher (or the nested call this region runs in)
        // takes over where the guest is.
        Il.Emit(OpCodes.Ldloc, _nestedLeft!);
        Il.Emit(OpCodes.Ret);
        Il.MarkLabel(resumed);
        // Cleared at once: a later way out of this region, with no return, must not read as one to the frame below.
        Il.Emit(OpCodes.Ldarg_1);
        Il.Emit(OpCodes.Ldc_I4_0);
        Il.Emit(OpCodes.Stfld, FReturned);
        Il.Emit(OpCodes.Ldloc, _nestedLeft!);
        Il.Emit(OpCodes.Starg_S, (byte)ArgBudget);
        StartSlice();
        LoadRegisters(all: true);
        if (UsesFloatingPoint)
        {
            Il.Emit(OpCodes.Ldarg_1);
            Il.Emit(OpCodes.Call, MFpEnter);
            Il.Emit(OpCodes.Stloc, _fpFast);
        }
        ForgetLines();
        if (_nestedResumes.Count == 1)
        {
            Il.Emit(OpCodes.Br, _nestedResumes[0]);
            return;
        }
        Il.Emit(OpCodes.Ldloc, _nestedSite);
        Il.Emit(OpCodes.Switch, _nestedResumes.ToArray());
        Il.Emit(OpCodes.Br, _nestedResumes[0]);
    }
}
