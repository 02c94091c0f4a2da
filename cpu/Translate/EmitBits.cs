using System.Buffers.Binary;
using System.Numerics;
using System.Reflection;
using System.Reflection.Emit;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// BSF BSR (TZCNT LZCNT run as them below x86-64-v3), TZCNT LZCNT, POPCNT, BT BTS BTR BTC with a
/// register or an immediate bit offset into a register or memory operand, and BSWAP, as <c>InstBits</c>
/// and <c>InstMov</c> do them. A bit string addressed by a register offset into memory stays interpreted.
/// </summary>
static class EmitBits
{
    static readonly MethodInfo Tzc = typeof(BitOperations).GetMethod(nameof(BitOperations.TrailingZeroCount), new[] { typeof(ulong) })!;
    static readonly MethodInfo Lzc = typeof(BitOperations).GetMethod(nameof(BitOperations.LeadingZeroCount), new[] { typeof(ulong) })!;
    static readonly MethodInfo Pop = typeof(BitOperations).GetMethod(nameof(BitOperations.PopCount), new[] { typeof(ulong) })!;
    static readonly MethodInfo Rev64 = typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), new[] { typeof(ulong) })!;
    static readonly MethodInfo Rev32 = typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), new[] { typeof(uint) })!;

    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        switch (i.I.Mnemonic)
        {
            case Mnemonic.Bsf or Mnemonic.Bsr:
                return Scan(e, i, forward: i.I.Mnemonic == Mnemonic.Bsf);
            case Mnemonic.Tzcnt or Mnemonic.Lzcnt:
                return Count(e, i, trailing: i.I.Mnemonic == Mnemonic.Tzcnt);
            case Mnemonic.Popcnt:
                return Popcnt(e, i);
            case Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc:
                return BitTest(e, i);
            case Mnemonic.Bswap:
                return Bswap(e, i);
        }
        return false;
    }

    /// <summary>A zero source leaves the destination untouched (not even zero-extended) and sets ZF; only ZF changes.</summary>
    static bool Scan(RegionEmitter e, in Insn i, bool forward)
    {
        if (i.I.OpCount != 2 || i.I.Op0Kind != OpKind.Register || !RegionEmitter.IsGpr(i.I.Op0Register) || !RegionEmitter.Simple(i, 1)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var v = e.Tmp();
        e.LoadOperand(i, 1, bits);
        il.Emit(OpCodes.Stloc, v);
        var zero = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, v);
        il.Emit(OpCodes.Brfalse, zero);
        if (forward)
        {
            il.Emit(OpCodes.Ldloc, v);
            il.Emit(OpCodes.Call, Tzc);
        }
        else
        {
            il.Ldc4(63);
            il.Emit(OpCodes.Ldloc, v);
            il.Emit(OpCodes.Call, Lzc);
            il.Emit(OpCodes.Sub);
        }
        il.Emit(OpCodes.Conv_U8);
        e.StoreGpr(i.I.Op0Register);
        il.MarkLabel(zero);
        if (e.FlagsDeadAfter) return true;
        e.MaterializeBits();
        SetBit(e, Rf.ZF, () =>
        {
            il.Emit(OpCodes.Ldloc, v);
            il.Ldc8(0L);
            il.Emit(OpCodes.Ceq);
            il.Emit(OpCodes.Conv_U8);
        });
        return true;
    }

    /// <summary>
    /// TZCNT/LZCNT (v3 only; below it they decode as BSF/BSR): a zero source counts the operand's width. CF says the
    /// source was zero, ZF the count, SF and PF from the count as the interpreter leaves them (SetFlagsAux).
    /// </summary>
    static bool Count(RegionEmitter e, in Insn i, bool trailing)
    {
        if (i.I.OpCount != 2 || i.I.Op0Kind != OpKind.Register || !RegionEmitter.IsGpr(i.I.Op0Register) || !RegionEmitter.Simple(i, 1)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var v = e.Tmp();
        var r = e.Tmp();
        e.LoadOperand(i, 1, bits);
        il.Emit(OpCodes.Stloc, v);
        il.Emit(OpCodes.Ldloc, v);
        if (trailing)
        {
            // A bit just above the operand makes a zero source count its width (.NET counts 64 for a zero ulong).
            if (bits < 64)
            {
                il.Ldc8(1L << bits);
                il.Emit(OpCodes.Or);
            }
            il.Emit(OpCodes.Call, Tzc);
        }
        else
        {
            il.Emit(OpCodes.Call, Lzc);
            il.Ldc4(64 - bits);
            il.Emit(OpCodes.Sub);
        }
        il.Emit(OpCodes.Conv_U8);
        il.Emit(OpCodes.Stloc, r);
        il.Emit(OpCodes.Ldloc, r);
        e.StoreGpr(i.I.Op0Register);
        if (e.FlagsDeadAfter) return true;
        var aux = e.Tmp();
        il.Emit(OpCodes.Ldloc, v);
        il.Ldc8(0L);
        il.Emit(OpCodes.Ceq);
        il.Emit(OpCodes.Conv_U8); // CF is bit 0
        il.Emit(OpCodes.Stloc, aux);
        e.SetFlagsAux(bits, r, aux);
        return true;
    }

    /// <summary>POPCNT clears every arithmetic flag but ZF, which says whether the source was zero.</summary>
    static bool Popcnt(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 2 || i.I.Op0Kind != OpKind.Register || !RegionEmitter.IsGpr(i.I.Op0Register) || !RegionEmitter.Simple(i, 1)) return false;
        var il = e.Il;
        var v = e.Tmp();
        e.LoadOperand(i, 1, i.OpBits);
        il.Emit(OpCodes.Stloc, v);
        il.Emit(OpCodes.Ldloc, v);
        il.Emit(OpCodes.Call, Pop);
        il.Emit(OpCodes.Conv_U8);
        e.StoreGpr(i.I.Op0Register);
        if (e.FlagsDeadAfter) return true;
        var arith = e.Tmp();
        il.Emit(OpCodes.Ldloc, v);
        il.Ldc8(0L);
        il.Emit(OpCodes.Ceq);
        il.Emit(OpCodes.Conv_U8);
        il.Ldc4(6); // ZF
        il.Emit(OpCodes.Shl);
        il.Emit(OpCodes.Stloc, arith);
        e.SetArithBits(arith);
        return true;
    }

    /// <summary>CF = the selected bit; BTS/BTR/BTC then set, clear or flip it. Only CF changes.</summary>
    static bool BitTest(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 2 || !RegionEmitter.Simple(i, 0) || !RegionEmitter.Simple(i, 1)) return false;
        bool regOffset = i.I.Op1Kind == OpKind.Register;
        if (regOffset && i.I.Op0Kind == OpKind.Memory) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var value = e.Tmp();
        var bit = e.TmpOf(typeof(int));
        var m = i.I.Mnemonic;
        LocalBuilder? ea = null;
        if (m == Mnemonic.Bt) e.LoadOperand(i, 0, bits);
        else e.LoadDst(i, bits, out ea);
        il.Emit(OpCodes.Stloc, value);
        e.LoadOperand(i, 1, bits);
        il.Emit(OpCodes.Conv_I4);
        il.Ldc4(bits - 1);
        il.Emit(OpCodes.And);
        il.Emit(OpCodes.Stloc, bit);
        if (!e.FlagsDeadAfter)
        {
            e.MaterializeBits();
            SetBit(e, Rf.CF, () =>
            {
                il.Emit(OpCodes.Ldloc, value);
                il.Emit(OpCodes.Ldloc, bit);
                il.Emit(OpCodes.Shr_Un);
                il.Ldc8(1L);
                il.Emit(OpCodes.And);
            });
        }
        if (m == Mnemonic.Bt) return true;
        var r = e.Tmp();
        il.Emit(OpCodes.Ldloc, value);
        il.Ldc8(1L);
        il.Emit(OpCodes.Ldloc, bit);
        il.Emit(OpCodes.Shl);
        switch (m)
        {
            case Mnemonic.Bts: il.Emit(OpCodes.Or); break;
            case Mnemonic.Btr: il.Emit(OpCodes.Not); il.Emit(OpCodes.And); break;
            default: il.Emit(OpCodes.Xor); break;
        }
        il.Emit(OpCodes.Stloc, r);
        e.StoreDst(i, bits, ea, r);
        return true;
    }

    static bool Bswap(RegionEmitter e, in Insn i)
    {
        if (i.I.Op0Kind != OpKind.Register || !RegionEmitter.IsGpr(i.I.Op0Register) || i.OpBits < 32) return false;
        var il = e.Il;
        e.LoadGpr(i.I.Op0Register);
        if (i.OpBits == 64) il.Emit(OpCodes.Call, Rev64);
        else
        {
            il.Emit(OpCodes.Conv_U4);
            il.Emit(OpCodes.Call, Rev32);
            il.Emit(OpCodes.Conv_U8);
        }
        e.StoreGpr(i.I.Op0Register);
        return true;
    }

    /// <summary>FFlags = FFlags without <paramref name="flag"/>, or'ed with it when the pushed 0/1 is one.</summary>
    static void SetBit(RegionEmitter e, ulong flag, Action pushBit)
    {
        var il = e.Il;
        e.FFlags.Load(il);
        il.Ldc8(~(long)flag);
        il.Emit(OpCodes.And);
        pushBit();
        il.Ldc4(BitOperations.TrailingZeroCount(flag));
        il.Emit(OpCodes.Shl);
        il.Emit(OpCodes.Or);
        e.FFlags.Store(il);
    }
}
