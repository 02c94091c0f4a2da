using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>IMUL with two or three operands at 32 and 64 bits; CF=OF say whether the product was truncated.</summary>
static class EmitMul
{
    static readonly System.Reflection.MethodInfo BigMul =
        typeof(Math).GetMethod(nameof(Math.BigMul), new[] { typeof(long), typeof(long), typeof(long).MakeByRefType() })!;

    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        if (i.I.Mnemonic != Mnemonic.Imul || i.I.OpCount < 2) return false;
        int bits = i.OpBits;
        if (bits is not (32 or 64)) return false;
        if (!RegionEmitter.IsGpr(i.I.Op0Register)) return false;
        int ops = i.I.OpCount;
        if (!RegionEmitter.Simple(i, ops == 2 ? 0 : 1) || !RegionEmitter.Simple(i, ops == 2 ? 1 : 2)) return false;
        var il = e.Il;
        var a = e.Tmp();
        var b = e.Tmp();
        var res = e.Tmp();
        var aux = e.Tmp();
        e.LoadOperand(i, ops == 2 ? 0 : 1, bits);
        il.Emit(OpCodes.Stloc, a);
        e.LoadOperand(i, ops == 2 ? 1 : 2, bits);
        il.Emit(OpCodes.Stloc, b);
        if (bits == 64)
        {
            // hi = BigMul(a, b, out res); overflow when hi is not the sign extension of res.
            var hi = e.Tmp();
            il.Emit(OpCodes.Ldloc, a);
            il.Emit(OpCodes.Ldloc, b);
            il.Emit(OpCodes.Ldloca, res);
            il.Emit(OpCodes.Call, BigMul);
            il.Emit(OpCodes.Stloc, hi);
            il.Emit(OpCodes.Ldloc, hi);
            il.Emit(OpCodes.Ldloc, res);
            il.Emit(OpCodes.Ldc_I4, 63);
            il.Emit(OpCodes.Shr);
        }
        else
        {
            var full = e.Tmp();
            il.Emit(OpCodes.Ldloc, a);
            il.Emit(OpCodes.Conv_I4);
            il.Emit(OpCodes.Conv_I8);
            il.Emit(OpCodes.Ldloc, b);
            il.Emit(OpCodes.Conv_I4);
            il.Emit(OpCodes.Conv_I8);
            il.Emit(OpCodes.Mul);
            il.Emit(OpCodes.Stloc, full);
            il.Emit(OpCodes.Ldloc, full);
            il.Emit(OpCodes.Conv_U4);
            il.Emit(OpCodes.Conv_U8);
            il.Emit(OpCodes.Stloc, res);
            il.Emit(OpCodes.Ldloc, full);
            il.Emit(OpCodes.Conv_I4);
            il.Emit(OpCodes.Conv_I8);
            il.Emit(OpCodes.Ldloc, full);
        }
        // aux = overflow ? CF|OF : 0
        il.Emit(OpCodes.Ceq);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Xor);
        il.Emit(OpCodes.Conv_U8);
        il.Emit(OpCodes.Ldc_I8, (long)(Rf.CF | Rf.OF));
        il.Emit(OpCodes.Mul);
        il.Emit(OpCodes.Stloc, aux);
        il.Emit(OpCodes.Ldloc, res);
        e.StoreGpr(i.I.Op0Register);
        e.SetFlagsAux(bits, res, aux);
        return true;
    }
}
