using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// IMUL with two or three operands, and MUL and IMUL with one (RDX:RAX = RAX * src), at 32 and 64 bits; CF=OF say
/// whether the product was truncated (IMUL) or the high half is not zero (MUL).
/// </summary>
static class EmitMul
{
    static readonly System.Reflection.MethodInfo BigMulUnsigned =
        typeof(Math).GetMethod(nameof(Math.BigMul), new[] { typeof(ulong), typeof(ulong), typeof(ulong).MakeByRefType() })!;
    static readonly System.Reflection.MethodInfo BigMulSigned =
        typeof(Math).GetMethod(nameof(Math.BigMul), new[] { typeof(long), typeof(long), typeof(long).MakeByRefType() })!;

    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        if (i.I.Mnemonic == Mnemonic.Mul) return Wide(e, i, signed: false);
        if (i.I.Mnemonic == Mnemonic.Imul && i.I.OpCount == 1) return Wide(e, i, signed: true);
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
        e.LoadOperand(i, ops == 2 ? 0 : 1, bits);
        il.Emit(OpCodes.Stloc, a);
        e.LoadOperand(i, ops == 2 ? 1 : 2, bits);
        il.Emit(OpCodes.Stloc, b);
        // The low half of the product is the same signed or unsigned; CF/OF wait for whoever reads them.
        il.Emit(OpCodes.Ldloc, a);
        il.Emit(OpCodes.Ldloc, b);
        il.Emit(OpCodes.Mul);
        if (bits == 32)
        {
            il.Emit(OpCodes.Conv_U4);
            il.Emit(OpCodes.Conv_U8);
        }
        il.Emit(OpCodes.Stloc, res);
        il.Emit(OpCodes.Ldloc, res);
        e.StoreGpr(i.I.Op0Register);
        e.SetFlagsImul(bits, res, a, b);
        return true;
    }

    /// <summary>
    /// One-operand MUL and IMUL: RDX:RAX = RAX * src, unsigned or signed (CPython's overflow checks on its integers use
    /// the signed one); CF=OF when the high half is not zero (MUL) or not the low half's sign (IMUL).
    /// </summary>
    static bool Wide(RegionEmitter e, in Insn i, bool signed)
    {
        int bits = i.OpBits;
        if (i.I.OpCount != 1 || bits is not (32 or 64) || !RegionEmitter.Simple(i, 0)) return false;
        var il = e.Il;
        var src = e.Tmp();
        var lo = e.Tmp();
        var hi = e.Tmp();
        var carries = e.Tmp();
        e.LoadOperand(i, 0, bits);
        il.Emit(OpCodes.Stloc, src);
        if (bits == 64)
        {
            e.LoadGpr64(Registers.RAX);
            il.Emit(OpCodes.Ldloc, src);
            il.Emit(OpCodes.Ldloca, lo);
            il.Emit(OpCodes.Call, signed ? BigMulSigned : BigMulUnsigned);
            il.Emit(OpCodes.Stloc, hi);
            // MUL: hi != 0; IMUL: hi != lo >> 63 (arithmetic).
            il.Emit(OpCodes.Ldloc, hi);
            if (signed)
            {
                il.Emit(OpCodes.Ldloc, lo);
                il.Ldc4(63);
                il.Emit(OpCodes.Shr);
            }
            else il.Ldc8(0L);
        }
        else
        {
            var full = e.Tmp();
            void Extend()
            {
                il.Emit(signed ? OpCodes.Conv_I4 : OpCodes.Conv_U4);
                il.Emit(signed ? OpCodes.Conv_I8 : OpCodes.Conv_U8);
            }
            e.LoadGpr64(Registers.RAX);
            Extend();
            il.Emit(OpCodes.Ldloc, src);
            Extend();
            il.Emit(OpCodes.Mul);
            il.Emit(OpCodes.Stloc, full);
            il.Emit(OpCodes.Ldloc, full);
            il.Emit(OpCodes.Conv_U4);
            il.Emit(OpCodes.Conv_U8);
            il.Emit(OpCodes.Stloc, lo);
            il.Emit(OpCodes.Ldloc, full);
            il.Ldc4(32);
            il.Emit(OpCodes.Shr_Un);
            il.Emit(OpCodes.Stloc, hi);
            // MUL: the high half is not zero; IMUL: the product is not the sign extension of its low half.
            if (signed)
            {
                il.Emit(OpCodes.Ldloc, full);
                il.Emit(OpCodes.Ldloc, full);
                il.Emit(OpCodes.Conv_I4);
                il.Emit(OpCodes.Conv_I8);
            }
            else
            {
                il.Emit(OpCodes.Ldloc, hi);
                il.Ldc8(0L);
            }
        }
        il.Emit(OpCodes.Ceq);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Ceq);
        il.Emit(OpCodes.Conv_U8);
        il.Emit(OpCodes.Stloc, carries);
        il.Emit(OpCodes.Ldloc, lo);
        e.StoreGpr64(Registers.RAX);
        il.Emit(OpCodes.Ldloc, hi);
        e.StoreGpr64(Registers.RDX);
        if (e.FlagsDeadAfter) return true;
        var aux = e.Tmp();
        il.Emit(OpCodes.Ldloc, carries);
        il.Ldc8((long)(Rf.CF | Rf.OF));
        il.Emit(OpCodes.Mul);
        il.Emit(OpCodes.Stloc, aux);
        e.SetFlagsAux(bits, lo, aux);
        return true;
    }
}
