using System.Reflection.Emit;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// DIV and IDIV at 32 and 64 bits, the flags left as they were (as the interpreter leaves them). The common
/// cases run inline: a 64-bit dividend that fits in RAX (RDX zero, or RAX's sign for IDIV) and a 32-bit
/// quotient that fits. A zero divisor, an overflowing quotient or a 128-bit dividend leave the region at the
/// instruction, and the interpreter divides or raises the divide error.
/// </summary>
static class EmitDiv
{
    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        bool signed = i.I.Mnemonic == Mnemonic.Idiv;
        if (!signed && i.I.Mnemonic != Mnemonic.Div) return false;
        int bits = i.OpBits;
        if (i.I.OpCount != 1 || bits is not (32 or 64) || !RegionEmitter.Simple(i, 0)) return false;
        var il = e.Il;
        var slow = e.LeaveAtInstruction();
        var d = e.Tmp();
        var n = e.Tmp();
        var q = e.Tmp();
        var r = e.Tmp();
        e.LoadOperand(i, 0, bits);
        il.Emit(OpCodes.Stloc, d);
        il.Emit(OpCodes.Ldloc, d);
        il.Emit(OpCodes.Brfalse, slow);
        if (bits == 64)
        {
            e.LoadGpr64(Registers.RAX);
            il.Emit(OpCodes.Stloc, n);
            e.LoadGpr64(Registers.RDX);
            if (signed)
            {
                // RDX must be RAX's sign extension (CQO); the one overflowing case is MinValue / -1.
                il.Emit(OpCodes.Ldloc, n);
                il.Ldc4(63);
                il.Emit(OpCodes.Shr);
                il.Emit(OpCodes.Bne_Un, slow);
                LeaveOnMinOverMinusOne(il, n, d, slow);
            }
            else il.Emit(OpCodes.Brtrue, slow);
            Divide(il, n, d, q, r, signed);
            il.Emit(OpCodes.Ldloc, q);
            e.StoreGpr64(Registers.RAX);
            il.Emit(OpCodes.Ldloc, r);
            e.StoreGpr64(Registers.RDX);
            return true;
        }
        // 32 bits: EDX:EAX as one 64-bit dividend; the quotient must fit in 32 bits.
        e.LoadGpr64(Registers.RDX);
        il.Ldc4(32);
        il.Emit(OpCodes.Shl);
        e.LoadGpr64(Registers.RAX);
        il.Emit(OpCodes.Conv_U4);
        il.Emit(OpCodes.Conv_U8);
        il.Emit(OpCodes.Or);
        il.Emit(OpCodes.Stloc, n);
        if (signed)
        {
            il.Emit(OpCodes.Ldloc, d);
            il.Emit(OpCodes.Conv_I4);
            il.Emit(OpCodes.Conv_I8);
            il.Emit(OpCodes.Stloc, d);
            LeaveOnMinOverMinusOne(il, n, d, slow);
        }
        Divide(il, n, d, q, r, signed);
        il.Emit(OpCodes.Ldloc, q);
        if (signed)
        {
            il.Emit(OpCodes.Conv_I4);
            il.Emit(OpCodes.Conv_I8);
        }
        else
        {
            il.Emit(OpCodes.Conv_U4);
            il.Emit(OpCodes.Conv_U8);
        }
        il.Emit(OpCodes.Ldloc, q);
        il.Emit(OpCodes.Bne_Un, slow);
        il.Emit(OpCodes.Ldloc, q);
        e.StoreGpr(Register.EAX);
        il.Emit(OpCodes.Ldloc, r);
        e.StoreGpr(Register.EDX);
        return true;
    }

    /// <summary>long.MinValue / -1 overflows (and would throw in IL): such a division goes to <paramref name="slow"/>.</summary>
    static void LeaveOnMinOverMinusOne(ILGenerator il, LocalBuilder n, LocalBuilder d, System.Reflection.Emit.Label slow)
    {
        var fine = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, d);
        il.Ldc8(-1L);
        il.Emit(OpCodes.Bne_Un, fine);
        il.Emit(OpCodes.Ldloc, n);
        il.Ldc8(long.MinValue);
        il.Emit(OpCodes.Beq, slow);
        il.MarkLabel(fine);
    }

    static void Divide(ILGenerator il, LocalBuilder n, LocalBuilder d, LocalBuilder q, LocalBuilder r, bool signed)
    {
        il.Emit(OpCodes.Ldloc, n);
        il.Emit(OpCodes.Ldloc, d);
        il.Emit(signed ? OpCodes.Div : OpCodes.Div_Un);
        il.Emit(OpCodes.Stloc, q);
        il.Emit(OpCodes.Ldloc, n);
        il.Emit(OpCodes.Ldloc, d);
        il.Emit(signed ? OpCodes.Rem : OpCodes.Rem_Un);
        il.Emit(OpCodes.Stloc, r);
    }
}
