using System.Numerics;
using System.Reflection;
using System.Reflection.Emit;
using Iced.Intel;
using LegoEmu.Cpu.Decode;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// The VEX-encoded BMI1/BMI2 integer instructions glibc's string routines use (ANDN, BLSI, BLSMSK, BLSR, BZHI,
/// SARX, SHLX, SHRX, RORX), with the flags <c>InstBmi</c> leaves: the shifts and RORX none, the others SF/ZF/PF
/// from the result, OF clear and CF as each defines it. BEXTR, MULX, PDEP and PEXT stay with their handlers.
/// </summary>
static class EmitBmi
{
    static readonly MethodInfo Ror64 = typeof(BitOperations).GetMethod(nameof(BitOperations.RotateRight), new[] { typeof(ulong), typeof(int) })!;
    static readonly MethodInfo Ror32 = typeof(BitOperations).GetMethod(nameof(BitOperations.RotateRight), new[] { typeof(uint), typeof(int) })!;

    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        if (i.I.Op0Kind != OpKind.Register || !RegionEmitter.IsGpr(i.I.Op0Register)) return false;
        switch (i.I.Mnemonic)
        {
            case Mnemonic.Sarx or Mnemonic.Shlx or Mnemonic.Shrx:
                return Shift(e, i);
            case Mnemonic.Rorx:
                return Rorx(e, i);
            case Mnemonic.Andn:
                return Andn(e, i);
            case Mnemonic.Blsi or Mnemonic.Blsmsk or Mnemonic.Blsr:
                return LowestBit(e, i);
            case Mnemonic.Bzhi:
                return Bzhi(e, i);
        }
        return false;
    }

    static bool GprOperand(in Insn i, int n) => i.I.GetOpKind(n) == OpKind.Register && RegionEmitter.IsGpr(i.I.GetOpRegister(n));

    /// <summary>SARX/SHLX/SHRX r, r/m, r: the count is the third operand masked to the width; no flag changes.</summary>
    static bool Shift(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 3 || !RegionEmitter.Simple(i, 1) || !GprOperand(i, 2)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var v = e.Tmp();
        e.LoadOperand(i, 1, bits);
        il.Emit(OpCodes.Stloc, v);
        il.Emit(OpCodes.Ldloc, v);
        if (i.I.Mnemonic == Mnemonic.Sarx && bits == 32) il.Emit(OpCodes.Conv_I4);
        e.LoadGpr(i.I.Op2Register);
        il.Emit(OpCodes.Conv_I4);
        il.Ldc4(bits - 1);
        il.Emit(OpCodes.And);
        il.Emit(i.I.Mnemonic switch { Mnemonic.Sarx => OpCodes.Shr, Mnemonic.Shlx => OpCodes.Shl, _ => OpCodes.Shr_Un });
        if (i.I.Mnemonic == Mnemonic.Sarx && bits == 32) il.Emit(OpCodes.Conv_U8);
        // A 32-bit destination keeps the low half, zero-extended (StoreGpr).
        e.StoreGpr(i.I.Op0Register);
        return true;
    }

    static bool Rorx(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 3 || !RegionEmitter.Simple(i, 1) || i.I.Op2Kind != OpKind.Immediate8) return false;
        var il = e.Il;
        int bits = i.OpBits;
        e.LoadOperand(i, 1, bits);
        if (bits == 32) il.Emit(OpCodes.Conv_U4);
        il.Ldc4((int)(i.I.Immediate8 & (bits - 1)));
        il.Emit(OpCodes.Call, bits == 64 ? Ror64 : Ror32);
        if (bits == 32) il.Emit(OpCodes.Conv_U8);
        e.StoreGpr(i.I.Op0Register);
        return true;
    }

    /// <summary>Stores <paramref name="r"/> (already within the width) and records SF/ZF/PF from it with CF from <paramref name="cf"/> (0 or 1).</summary>
    static void Result(RegionEmitter e, in Insn i, int bits, LocalBuilder r, Action pushCf)
    {
        var il = e.Il;
        il.Emit(OpCodes.Ldloc, r);
        e.StoreGpr(i.I.Op0Register);
        if (e.FlagsDeadAfter) return;
        var aux = e.Tmp();
        pushCf();
        il.Emit(OpCodes.Conv_U8); // CF is bit 0
        il.Emit(OpCodes.Stloc, aux);
        e.SetFlagsAux(bits, r, aux);
    }

    /// <summary>Pops a 64-bit value and keeps its low <paramref name="bits"/> in <paramref name="r"/>.</summary>
    static void Keep(RegionEmitter e, int bits, LocalBuilder r)
    {
        if (bits == 32)
        {
            e.Il.Emit(OpCodes.Conv_U4);
            e.Il.Emit(OpCodes.Conv_U8);
        }
        e.Il.Emit(OpCodes.Stloc, r);
    }

    static bool Andn(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 3 || !GprOperand(i, 1) || !RegionEmitter.Simple(i, 2)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var r = e.Tmp();
        e.LoadOperand(i, 2, bits);
        e.LoadGpr(i.I.Op1Register);
        il.Emit(OpCodes.Not);
        il.Emit(OpCodes.And);
        Keep(e, bits, r);
        Result(e, i, bits, r, () => il.Emit(OpCodes.Ldc_I4_0));
        return true;
    }

    /// <summary>BLSI: CF when the source is not zero; BLSMSK and BLSR: CF when it is.</summary>
    static bool LowestBit(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 2 || !RegionEmitter.Simple(i, 1)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var v = e.Tmp();
        var r = e.Tmp();
        e.LoadOperand(i, 1, bits);
        il.Emit(OpCodes.Stloc, v);
        il.Emit(OpCodes.Ldloc, v);
        if (i.I.Mnemonic == Mnemonic.Blsi)
        {
            il.Ldc8(0L);
            il.Emit(OpCodes.Ldloc, v);
            il.Emit(OpCodes.Sub);
            il.Emit(OpCodes.And);
        }
        else
        {
            il.Emit(OpCodes.Ldloc, v);
            il.Ldc8(1L);
            il.Emit(OpCodes.Sub);
            il.Emit(i.I.Mnemonic == Mnemonic.Blsmsk ? OpCodes.Xor : OpCodes.And);
        }
        Keep(e, bits, r);
        bool cfWhenZero = i.I.Mnemonic != Mnemonic.Blsi;
        Result(e, i, bits, r, () =>
        {
            il.Emit(OpCodes.Ldloc, v);
            il.Ldc8(0L);
            il.Emit(OpCodes.Ceq);
            if (!cfWhenZero)
            {
                il.Emit(OpCodes.Ldc_I4_0);
                il.Emit(OpCodes.Ceq);
            }
        });
        return true;
    }

    /// <summary>BZHI r, r/m, r: the bits from index[7:0] up cleared; CF when the index is beyond the operand.</summary>
    static bool Bzhi(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 3 || !RegionEmitter.Simple(i, 1) || !GprOperand(i, 2)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var src = e.Tmp();
        var n = e.Tmp();
        var r = e.Tmp();
        e.LoadOperand(i, 1, bits);
        il.Emit(OpCodes.Stloc, src);
        e.LoadGpr(i.I.Op2Register);
        il.Ldc8(0xffL);
        il.Emit(OpCodes.And);
        il.Emit(OpCodes.Stloc, n);
        // n < bits ? src & ((1 << n) - 1) : src
        var keepAll = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, src);
        il.Emit(OpCodes.Ldloc, n);
        il.Ldc8((long)bits);
        il.Emit(OpCodes.Bge_Un, keepAll);
        il.Ldc8(1L);
        il.Emit(OpCodes.Ldloc, n);
        il.Emit(OpCodes.Conv_I4);
        il.Emit(OpCodes.Shl);
        il.Ldc8(1L);
        il.Emit(OpCodes.Sub);
        il.Emit(OpCodes.And);
        il.MarkLabel(keepAll);
        il.Emit(OpCodes.Stloc, r);
        Result(e, i, bits, r, () =>
        {
            il.Emit(OpCodes.Ldloc, n);
            il.Ldc8((long)(bits - 1));
            il.Emit(OpCodes.Cgt_Un);
        });
        return true;
    }
}
