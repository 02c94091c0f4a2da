using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// SHL/SAL, SHR, SAR, ROL and ROR by an immediate or by CL, as <c>InstShift</c> does them: a zero count
/// changes no flag but writes the destination back; rotates change only CF and OF. Flags are not
/// computed at all when <see cref="FlagLiveness"/> says they are overwritten unseen.
/// </summary>
static class EmitShift
{
    static readonly System.Reflection.MethodInfo RotateLeft32 = typeof(System.Numerics.BitOperations).GetMethod(nameof(System.Numerics.BitOperations.RotateLeft), new[] { typeof(uint), typeof(int) })!;
    static readonly System.Reflection.MethodInfo RotateRight32 = typeof(System.Numerics.BitOperations).GetMethod(nameof(System.Numerics.BitOperations.RotateRight), new[] { typeof(uint), typeof(int) })!;
    static readonly System.Reflection.MethodInfo RotateLeft64 = typeof(System.Numerics.BitOperations).GetMethod(nameof(System.Numerics.BitOperations.RotateLeft), new[] { typeof(ulong), typeof(int) })!;
    static readonly System.Reflection.MethodInfo RotateRight64 = typeof(System.Numerics.BitOperations).GetMethod(nameof(System.Numerics.BitOperations.RotateRight), new[] { typeof(ulong), typeof(int) })!;

    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        var m = i.I.Mnemonic;
        bool rotate = m is Mnemonic.Rol or Mnemonic.Ror;
        if (!rotate && m is not (Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar)) return false;
        if (i.I.OpCount != 2 || !RegionEmitter.Simple(i, 0)) return false;
        bool byCl = i.I.Op1Kind == OpKind.Register;
        if (byCl ? i.I.Op1Register != Register.CL : i.I.Op1Kind != OpKind.Immediate8) return false;

        var il = e.Il;
        int bits = i.OpBits;
        int countMask = bits == 64 ? 63 : 31;
        if (!byCl && e.FlagsDeadAfter && bits >= 32 && i.I.Op0Kind == OpKind.Register && (i.I.Immediate8 & countMask) != 0)
        {
            ShiftRegister(e, m, bits, i.I.Op0Register, (int)(i.I.Immediate8 & countMask));
            return true;
        }
        var a = e.Tmp();
        var r = e.Tmp();
        e.LoadDst(i, bits, out var ea);
        il.Emit(OpCodes.Stloc, a);

        if (!byCl)
        {
            int n = (int)(i.I.Immediate8 & countMask);
            if (n == 0)
            {
                // No flags change, but the destination is written back (a 32-bit register is zero-extended).
                e.StoreDst(i, bits, ea, a);
                return true;
            }
            var count = e.TmpOf(typeof(int));
            il.Ldc4(n);
            il.Emit(OpCodes.Stloc, count);
            Result(e, m, bits, a, count, r);
            e.StoreDst(i, bits, ea, r);
            if (e.FlagsDeadAfter) return true;
            if (rotate) e.SetFlagsRotate(m == Mnemonic.Rol, bits, r);
            else
            {
                var aux = e.Tmp();
                ShiftAux(e, m, bits, a, count, r, aux);
                e.SetFlagsAux(bits, r, aux);
            }
            return true;
        }

        // By CL: the count is known only at run time, and zero leaves every flag alone.
        var cnt = e.TmpOf(typeof(int));
        e.LoadGpr(Register.CL);
        il.Emit(OpCodes.Conv_I4);
        il.Ldc4(countMask);
        il.Emit(OpCodes.And);
        il.Emit(OpCodes.Stloc, cnt);
        Result(e, m, bits, a, cnt, r);
        e.StoreDst(i, bits, ea, r);
        if (e.FlagsDeadAfter) return true;
        // Both paths must leave the lazy-flag locals consistent: the waiting producer goes there first.
        e.MaterializeFlags();
        var done = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, cnt);
        il.Emit(OpCodes.Brfalse, done);
        if (rotate) RotateFlags(e, m, bits, r);
        else
        {
            var aux = e.Tmp();
            ShiftAux(e, m, bits, a, cnt, r, aux);
            e.SetFlagsAuxInPlace(bits, r, aux);
        }
        il.MarkLabel(done);
        e.ForgetFlags();
        return true;
    }

    /// <summary>
    /// A 32- or 64-bit register shifted or rotated by a non-zero constant, no flag read afterwards: one expression
    /// with no temporaries, as the JIT's time goes with them (a hash's rounds are mostly such rotates).
    /// </summary>
    static void ShiftRegister(RegionEmitter e, Mnemonic m, int bits, Register reg, int n)
    {
        var il = e.Il;
        // Zero-extended, as the general path reads it (see EmitAlu.Binary).
        e.LoadGpr(reg);
        switch (m)
        {
            case Mnemonic.Shl or Mnemonic.Sal:
                il.Ldc4(n);
                il.Emit(OpCodes.Shl);
                break;
            case Mnemonic.Shr:
                il.Ldc4(n);
                il.Emit(OpCodes.Shr_Un);
                break;
            case Mnemonic.Sar:
                if (bits == 32) il.Emit(OpCodes.Conv_I4);
                il.Ldc4(n);
                il.Emit(OpCodes.Shr);
                break;
            default:
                bool left = m == Mnemonic.Rol;
                if (bits == 32) il.Emit(OpCodes.Conv_U4);
                il.Ldc4(n);
                il.Emit(OpCodes.Call, bits == 32 ? (left ? RotateLeft32 : RotateRight32) : (left ? RotateLeft64 : RotateRight64));
                break;
        }
        e.StoreGpr(reg);
    }

    /// <summary>r = the operation on a by count (0 ≤ count ≤ the count mask; zero gives a back).</summary>
    static void Result(RegionEmitter e, Mnemonic m, int bits, LocalBuilder a, LocalBuilder count, LocalBuilder r)
    {
        var il = e.Il;
        ulong mask = RegionEmitter.Mask(bits);
        switch (m)
        {
            case Mnemonic.Shl or Mnemonic.Sal:
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldloc, count);
                il.Emit(OpCodes.Shl);
                break;
            case Mnemonic.Shr:
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldloc, count);
                il.Emit(OpCodes.Shr_Un);
                break;
            case Mnemonic.Sar:
                SignExtended(e, bits, a);
                il.Emit(OpCodes.Ldloc, count);
                il.Emit(OpCodes.Shr);
                break;
            default:
            {
                if (bits >= 32)
                {
                    // The JIT turns these into one ROL/ROR; they take the count modulo the width themselves.
                    bool left32 = m == Mnemonic.Rol;
                    il.Emit(OpCodes.Ldloc, a);
                    if (bits == 32) il.Emit(OpCodes.Conv_U4);
                    il.Emit(OpCodes.Ldloc, count);
                    il.Emit(OpCodes.Call, bits == 32 ? (left32 ? RotateLeft32 : RotateRight32) : (left32 ? RotateLeft64 : RotateRight64));
                    if (bits == 32) il.Emit(OpCodes.Conv_U8);
                    il.Emit(OpCodes.Stloc, r);
                    return;
                }
                // k = count mod width; (a << k | a >> (width - k) mod width) also holds for k = 0.
                var k = e.TmpOf(typeof(uint));
                il.Emit(OpCodes.Ldloc, count);
                if (bits >= 32) { il.Ldc4(bits - 1); il.Emit(OpCodes.And); }
                else { il.Ldc4(bits); il.Emit(OpCodes.Rem_Un); }
                il.Emit(OpCodes.Stloc, k);
                bool left = m == Mnemonic.Rol;
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldloc, k);
                il.Emit(left ? OpCodes.Shl : OpCodes.Shr_Un);
                il.Emit(OpCodes.Ldloc, a);
                il.Ldc4(bits);
                il.Emit(OpCodes.Ldloc, k);
                il.Emit(OpCodes.Sub);
                il.Ldc4(bits - 1);
                il.Emit(OpCodes.And);
                il.Emit(left ? OpCodes.Shr_Un : OpCodes.Shl);
                il.Emit(OpCodes.Or);
                break;
            }
        }
        if (bits < 64)
        {
            il.Ldc8((long)mask);
            il.Emit(OpCodes.And);
        }
        il.Emit(OpCodes.Stloc, r);
    }

    static void SignExtended(RegionEmitter e, int bits, LocalBuilder a)
    {
        var il = e.Il;
        il.Emit(OpCodes.Ldloc, a);
        switch (bits)
        {
            case 8: il.Emit(OpCodes.Conv_I1); il.Emit(OpCodes.Conv_I8); break;
            case 16: il.Emit(OpCodes.Conv_I2); il.Emit(OpCodes.Conv_I8); break;
            case 32: il.Emit(OpCodes.Conv_I4); il.Emit(OpCodes.Conv_I8); break;
        }
    }

    /// <summary>CF and OF of a shift by a non-zero count, as InstShift computes them, into <paramref name="aux"/>.</summary>
    static void ShiftAux(RegionEmitter e, Mnemonic m, int bits, LocalBuilder a, LocalBuilder count, LocalBuilder r, LocalBuilder aux)
    {
        var il = e.Il;
        switch (m)
        {
            case Mnemonic.Shl or Mnemonic.Sal:
            {
                // CF = the last bit shifted out (none once the count exceeds the width); OF = MSB(r) ^ CF.
                var cf = e.Tmp();
                LastBitOut(e, bits, a, count, () =>
                {
                    il.Ldc4(bits);
                    il.Emit(OpCodes.Ldloc, count);
                    il.Emit(OpCodes.Sub);
                    il.Ldc4(63);
                    il.Emit(OpCodes.And);
                });
                il.Emit(OpCodes.Stloc, cf);
                il.Emit(OpCodes.Ldloc, cf);
                il.Emit(OpCodes.Ldloc, cf);
                Msb(e, bits, r);
                il.Emit(OpCodes.Xor);
                il.Ldc4(11);
                il.Emit(OpCodes.Shl);
                il.Emit(OpCodes.Or);
                break;
            }
            case Mnemonic.Shr:
            {
                LastBitOut(e, bits, a, count, () =>
                {
                    il.Emit(OpCodes.Ldloc, count);
                    il.Emit(OpCodes.Ldc_I4_1);
                    il.Emit(OpCodes.Sub);
                });
                // OF = MSB of the original operand.
                Msb(e, bits, a);
                il.Ldc4(11);
                il.Emit(OpCodes.Shl);
                il.Emit(OpCodes.Or);
                break;
            }
            default: // SAR: CF = the last bit shifted out of the sign-extended value; OF = 0.
                SignExtended(e, bits, a);
                il.Emit(OpCodes.Ldloc, count);
                il.Emit(OpCodes.Ldc_I4_1);
                il.Emit(OpCodes.Sub);
                il.Emit(OpCodes.Shr);
                il.Ldc8(1L);
                il.Emit(OpCodes.And);
                break;
        }
        il.Emit(OpCodes.Stloc, aux);
    }

    /// <summary>
    /// Pushes the last bit shifted out: bit (pushed shift amount) of <paramref name="a"/>, or 0 once the
    /// count exceeds the width (an 8- or 16-bit operand shifted by up to 31).
    /// </summary>
    static void LastBitOut(RegionEmitter e, int bits, LocalBuilder a, LocalBuilder count, Action pushShift)
    {
        var il = e.Il;
        var bit = e.Tmp();
        var over = il.DefineLabel();
        var done = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, count);
        il.Ldc4(bits);
        il.Emit(OpCodes.Bgt, over);
        il.Emit(OpCodes.Ldloc, a);
        pushShift();
        il.Emit(OpCodes.Shr_Un);
        il.Ldc8(1L);
        il.Emit(OpCodes.And);
        il.Emit(OpCodes.Stloc, bit);
        il.Emit(OpCodes.Br, done);
        il.MarkLabel(over);
        il.Ldc8(0L);
        il.Emit(OpCodes.Stloc, bit);
        il.MarkLabel(done);
        il.Emit(OpCodes.Ldloc, bit);
    }

    /// <summary>A rotate's CF and OF over the materialised flags (the others kept).</summary>
    static void RotateFlags(RegionEmitter e, Mnemonic m, int bits, LocalBuilder r)
    {
        e.MaterializeBits();
        e.MergeRotateFlags(m == Mnemonic.Rol, bits, r);
    }

    static void Msb(RegionEmitter e, int bits, LocalBuilder v)
    {
        e.Il.Emit(OpCodes.Ldloc, v);
        e.Il.Ldc4(bits - 1);
        e.Il.Emit(OpCodes.Shr_Un);
        e.Il.Ldc8(1L);
        e.Il.Emit(OpCodes.And);
    }
}
