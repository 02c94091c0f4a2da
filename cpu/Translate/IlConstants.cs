using System.Reflection.Emit;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// Constants in their shortest IL encodings. A region's IL is mostly addresses, masks and small immediates:
/// a 64-bit constant that fits in 32 bits takes a 32-bit (or 8-bit, or implicit) load and a widening
/// instead of nine bytes, and the JIT folds the pair back into one constant as it imports it.
/// </summary>
static class IlConstants
{
    /// <summary>Pushes <paramref name="v"/> as an int64.</summary>
    internal static void Ldc8(this ILGenerator il, long v)
    {
        if (v == (int)v)
        {
            il.Ldc4((int)v);
            il.Emit(OpCodes.Conv_I8);
        }
        else if (v == (uint)v)
        {
            il.Ldc4((int)(uint)v);
            il.Emit(OpCodes.Conv_U8);
        }
        else il.Emit(OpCodes.Ldc_I8, v);
    }

    /// <summary>Pushes <paramref name="v"/> as an int32.</summary>
    internal static void Ldc4(this ILGenerator il, int v)
    {
        switch (v)
        {
            case -1: il.Emit(OpCodes.Ldc_I4_M1); return;
            case 0: il.Emit(OpCodes.Ldc_I4_0); return;
            case 1: il.Emit(OpCodes.Ldc_I4_1); return;
            case 2: il.Emit(OpCodes.Ldc_I4_2); return;
            case 3: il.Emit(OpCodes.Ldc_I4_3); return;
            case 4: il.Emit(OpCodes.Ldc_I4_4); return;
            case 5: il.Emit(OpCodes.Ldc_I4_5); return;
            case 6: il.Emit(OpCodes.Ldc_I4_6); return;
            case 7: il.Emit(OpCodes.Ldc_I4_7); return;
            case 8: il.Emit(OpCodes.Ldc_I4_8); return;
        }
        if (v == (sbyte)v) il.Emit(OpCodes.Ldc_I4_S, (sbyte)v);
        else il.Emit(OpCodes.Ldc_I4, v);
    }
}
