using System.Reflection;
using System.Reflection.Emit;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// Where a region keeps one part of the lazy flags: an IL local (a producer's operands waiting in a set),
/// or the CPU state's own field. The lazy flags themselves live in the CPU state: they are live at every
/// exit and fault of the region, so held in locals they took host registers from the guest's through
/// every loop, and went to memory anyway whenever the region left.
/// </summary>
readonly struct LazySlot
{
    readonly LocalBuilder? _local;
    readonly FieldInfo? _field;
    readonly LocalBuilder? _staging;

    LazySlot(LocalBuilder? local, FieldInfo? field, LocalBuilder? staging)
    {
        _local = local;
        _field = field;
        _staging = staging;
    }

    internal static LazySlot Local(LocalBuilder local) => new(local, null, null);

    /// <summary>A field of the CPU state (argument 1); <paramref name="staging"/> holds a value while the state is pushed under it.</summary>
    internal static LazySlot Field(FieldInfo field, LocalBuilder staging) => new(null, field, staging);

    internal void Load(ILGenerator il)
    {
        if (_local != null)
        {
            il.Emit(OpCodes.Ldloc, _local);
            return;
        }
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldfld, _field!);
    }

    /// <summary>Pops a value into the slot (narrowed to the field's type).</summary>
    internal void Store(ILGenerator il)
    {
        if (_local != null)
        {
            il.Emit(OpCodes.Stloc, _local);
            return;
        }
        il.Emit(OpCodes.Stloc, _staging!);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldloc, _staging!);
        if (Type.GetTypeCode(_field!.FieldType) == TypeCode.Byte) il.Emit(OpCodes.Conv_U1);
        il.Emit(OpCodes.Stfld, _field);
    }
}
