using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>Two-operand integer arithmetic and logic: ADD ADC SUB SBB AND OR XOR CMP TEST, INC DEC NEG NOT.</summary>
static class EmitAlu
{
    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        switch (i.I.Mnemonic)
        {
            case Mnemonic.Add: return Binary(e, i, FlagOp.Add, OpCodes.Add, store: true);
            case Mnemonic.Sub: return Binary(e, i, FlagOp.Sub, OpCodes.Sub, store: true);
            case Mnemonic.Cmp: return Binary(e, i, FlagOp.Sub, OpCodes.Sub, store: false);
            case Mnemonic.And: return Binary(e, i, FlagOp.Logic, OpCodes.And, store: true);
            case Mnemonic.Test: return Binary(e, i, FlagOp.Logic, OpCodes.And, store: false);
            case Mnemonic.Or: return Binary(e, i, FlagOp.Logic, OpCodes.Or, store: true);
            case Mnemonic.Xor: return Binary(e, i, FlagOp.Logic, OpCodes.Xor, store: true);
            case Mnemonic.Adc: return WithCarry(e, i, FlagOp.Adc, OpCodes.Add);
            case Mnemonic.Sbb: return WithCarry(e, i, FlagOp.Sbb, OpCodes.Sub);
            case Mnemonic.Inc: return IncDec(e, i, FlagOp.Inc, OpCodes.Add);
            case Mnemonic.Dec: return IncDec(e, i, FlagOp.Dec, OpCodes.Sub);
            case Mnemonic.Neg: return Neg(e, i);
            case Mnemonic.Not: return Not(e, i);
        }
        return false;
    }

    static void MaskTo(RegionEmitter e, int bits)
    {
        if (bits == 64) return;
        e.Il.Ldc8((long)RegionEmitter.Mask(bits));
        e.Il.Emit(OpCodes.And);
    }

    static bool Binary(RegionEmitter e, in Insn i, FlagOp op, OpCode alu, bool store)
    {
        if (i.I.OpCount != 2 || !RegionEmitter.Simple(i, 0) || !RegionEmitter.Simple(i, 1)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        if (store && e.FlagsDeadAfter && bits >= 32 && i.I.Op0Kind == OpKind.Register && i.I.Op1Kind != OpKind.Memory)
        {
            // Nothing reads the flags: one expression and no temporaries, which is what the JIT's time goes with.
            // The operands are read as the general path reads them (zero-extended): reading a 32-bit register
            // whole saves the host a zero-extension, but made intloop's loop 40 % slower on this host. The AND
            // that clears the high half itself reads it whole, as below.
            if (alu == OpCodes.And && ClearsHighHalf(i, bits)) e.LoadGpr64(Registers.GprIndex[(int)i.I.Op0Register]);
            else e.LoadGpr(i.I.Op0Register);
            e.LoadOperand(i, 1, bits);
            il.Emit(alu);
            e.StoreGpr(i.I.Op0Register);
            return true;
        }
        var slots = e.NextFlagLocals();
        var a = slots?.S1 ?? e.Tmp();
        var b = slots?.S2 ?? e.Tmp();
        var r = slots?.Res ?? e.Tmp();
        LocalBuilder? ea = null;
        if (alu == OpCodes.And && ClearsHighHalf(i, bits))
        {
            // A 32-bit AND with a mask below 2^31 clears bits 31-63 itself: the register is read whole, without the
            // zero-extension (a host instruction) a 32-bit read costs.
            e.LoadOperand(i, 1, bits);
            il.Emit(OpCodes.Stloc, b);
            e.LoadGpr64(Registers.GprIndex[(int)i.I.Op0Register]);
            il.Emit(OpCodes.Stloc, a);
        }
        else if (store)
        {
            e.LoadOperand(i, 1, bits);
            il.Emit(OpCodes.Stloc, b);
            e.LoadDst(i, bits, out ea);
            il.Emit(OpCodes.Stloc, a);
        }
        else
        {
            e.LoadOperand(i, 0, bits);
            il.Emit(OpCodes.Stloc, a);
            e.LoadOperand(i, 1, bits);
            il.Emit(OpCodes.Stloc, b);
        }
        il.Emit(OpCodes.Ldloc, a);
        il.Emit(OpCodes.Ldloc, b);
        il.Emit(alu);
        if (op != FlagOp.Logic) MaskTo(e, bits);
        il.Emit(OpCodes.Stloc, r);
        if (store) e.StoreDst(i, bits, ea, r);
        if (op == FlagOp.Logic) e.SetFlags(op, bits, r, null, null);
        else e.SetFlags(op, bits, r, a, b);
        return true;
    }

    /// <summary>AND or TEST of a 32-bit register with an immediate whose bit 31 is clear.</summary>
    static bool ClearsHighHalf(in Insn i, int bits) =>
        bits == 32 && i.I.Op0Kind == OpKind.Register && i.I.Op1Kind is OpKind.Immediate32 or OpKind.Immediate8to32
        && (i.I.GetImmediate(1) & 0xFFFF_FFFF) < 0x8000_0000;

    static bool WithCarry(RegionEmitter e, in Insn i, FlagOp op, OpCode alu)
    {
        if (i.I.OpCount != 2 || !RegionEmitter.Simple(i, 0) || !RegionEmitter.Simple(i, 1)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var cin = e.Tmp();
        var a = e.Tmp();
        var b = e.Tmp();
        var r = e.Tmp();
        e.EmitCarry();
        il.Emit(OpCodes.Stloc, cin);
        e.LoadOperand(i, 1, bits);
        il.Emit(OpCodes.Stloc, b);
        e.LoadDst(i, bits, out var ea);
        il.Emit(OpCodes.Stloc, a);
        il.Emit(OpCodes.Ldloc, a);
        il.Emit(OpCodes.Ldloc, b);
        il.Emit(alu);
        il.Emit(OpCodes.Ldloc, cin);
        il.Emit(alu);
        MaskTo(e, bits);
        il.Emit(OpCodes.Stloc, r);
        e.StoreDst(i, bits, ea, r);
        e.SetFlags(op, bits, r, a, b, cin);
        return true;
    }

    static bool IncDec(RegionEmitter e, in Insn i, FlagOp op, OpCode alu)
    {
        if (!RegionEmitter.Simple(i, 0)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var a = e.Tmp();
        var r = e.Tmp();
        var one = e.Tmp();
        e.PreserveCarry();
        e.LoadDst(i, bits, out var ea);
        il.Emit(OpCodes.Stloc, a);
        il.Emit(OpCodes.Ldloc, a);
        il.Ldc8(1L);
        il.Emit(alu);
        MaskTo(e, bits);
        il.Emit(OpCodes.Stloc, r);
        e.StoreDst(i, bits, ea, r);
        il.Ldc8(1L);
        il.Emit(OpCodes.Stloc, one);
        e.SetFlags(op, bits, r, a, one);
        return true;
    }

    static bool Neg(RegionEmitter e, in Insn i)
    {
        if (!RegionEmitter.Simple(i, 0)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var a = e.Tmp();
        var r = e.Tmp();
        var zero = e.Tmp();
        e.LoadDst(i, bits, out var ea);
        il.Emit(OpCodes.Stloc, a);
        il.Ldc8(0L);
        il.Emit(OpCodes.Ldloc, a);
        il.Emit(OpCodes.Sub);
        MaskTo(e, bits);
        il.Emit(OpCodes.Stloc, r);
        e.StoreDst(i, bits, ea, r);
        il.Ldc8(0L);
        il.Emit(OpCodes.Stloc, zero);
        e.SetFlags(FlagOp.Sub, bits, r, zero, a);
        return true;
    }

    static bool Not(RegionEmitter e, in Insn i)
    {
        if (!RegionEmitter.Simple(i, 0)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var r = e.Tmp();
        e.LoadDst(i, bits, out var ea);
        il.Emit(OpCodes.Not);
        MaskTo(e, bits);
        il.Emit(OpCodes.Stloc, r);
        e.StoreDst(i, bits, ea, r);
        return true;
    }
}
