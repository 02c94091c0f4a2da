using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>SHL/SAL, SHR and SAR by an immediate count; the count and its flag rules are resolved at compile time.</summary>
static class EmitShift
{
    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        var m = i.I.Mnemonic;
        if (m is not (Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar)) return false;
        if (i.I.OpCount != 2 || i.I.Op1Kind != OpKind.Immediate8 || !RegionEmitter.Simple(i, 0)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        int n = (int)(i.I.Immediate8 & (bits == 64 ? 63u : 31u));
        var a = e.Tmp();
        var r = e.Tmp();
        var aux = e.Tmp();
        e.LoadDst(i, bits, out var ea);
        il.Emit(OpCodes.Stloc, a);
        if (n == 0)
        {
            // No flags change, but the destination is written back (a 32-bit register is zero-extended).
            e.StoreDst(i, bits, ea, a);
            return true;
        }
        ulong mask = RegionEmitter.Mask(bits);
        switch (m)
        {
            case Mnemonic.Shl or Mnemonic.Sal:
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldc_I4, n);
                il.Emit(OpCodes.Shl);
                il.Emit(OpCodes.Ldc_I8, (long)mask);
                il.Emit(OpCodes.And);
                il.Emit(OpCodes.Stloc, r);
                // CF = last bit shifted out; OF = MSB(result) ^ CF.
                if (n > bits) il.Emit(OpCodes.Ldc_I8, 0L);
                else
                {
                    il.Emit(OpCodes.Ldloc, a);
                    il.Emit(OpCodes.Ldc_I4, bits - n);
                    il.Emit(OpCodes.Shr_Un);
                    il.Emit(OpCodes.Ldc_I8, 1L);
                    il.Emit(OpCodes.And);
                }
                il.Emit(OpCodes.Dup);
                il.Emit(OpCodes.Ldloc, r);
                il.Emit(OpCodes.Ldc_I4, bits - 1);
                il.Emit(OpCodes.Shr_Un);
                il.Emit(OpCodes.Xor);
                il.Emit(OpCodes.Ldc_I8, 1L);
                il.Emit(OpCodes.And);
                il.Emit(OpCodes.Ldc_I4, 11);
                il.Emit(OpCodes.Shl);
                il.Emit(OpCodes.Or);
                il.Emit(OpCodes.Stloc, aux);
                break;
            case Mnemonic.Shr:
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldc_I4, n);
                il.Emit(OpCodes.Shr_Un);
                il.Emit(OpCodes.Stloc, r);
                if (n > bits) il.Emit(OpCodes.Ldc_I8, 0L);
                else
                {
                    il.Emit(OpCodes.Ldloc, a);
                    il.Emit(OpCodes.Ldc_I4, n - 1);
                    il.Emit(OpCodes.Shr_Un);
                    il.Emit(OpCodes.Ldc_I8, 1L);
                    il.Emit(OpCodes.And);
                }
                // OF = MSB of the original operand.
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldc_I4, bits - 1);
                il.Emit(OpCodes.Shr_Un);
                il.Emit(OpCodes.Ldc_I8, 1L);
                il.Emit(OpCodes.And);
                il.Emit(OpCodes.Ldc_I4, 11);
                il.Emit(OpCodes.Shl);
                il.Emit(OpCodes.Or);
                il.Emit(OpCodes.Stloc, aux);
                break;
            default: // SAR
            {
                var sa = e.Tmp();
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(bits switch { 8 => OpCodes.Conv_I1, 16 => OpCodes.Conv_I2, 32 => OpCodes.Conv_I4, _ => OpCodes.Nop });
                il.Emit(OpCodes.Conv_I8);
                il.Emit(OpCodes.Stloc, sa);
                il.Emit(OpCodes.Ldloc, sa);
                il.Emit(OpCodes.Ldc_I4, Math.Min(n, 63));
                il.Emit(OpCodes.Shr);
                il.Emit(OpCodes.Ldc_I8, (long)mask);
                il.Emit(OpCodes.And);
                il.Emit(OpCodes.Stloc, r);
                il.Emit(OpCodes.Ldloc, sa);
                il.Emit(OpCodes.Ldc_I4, Math.Min(n - 1, 63));
                il.Emit(OpCodes.Shr);
                il.Emit(OpCodes.Ldc_I8, 1L);
                il.Emit(OpCodes.And);
                il.Emit(OpCodes.Stloc, aux);
                break;
            }
        }
        e.StoreDst(i, bits, ea, r);
        e.SetFlagsAux(bits, r, aux);
        return true;
    }
}
