using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>Data movement: MOV, MOVZX/MOVSX/MOVSXD, LEA, XCHG of registers, CMOVcc, SETcc, sign extensions, hints.</summary>
static class EmitMov
{
    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        switch (i.I.Mnemonic)
        {
            case Mnemonic.Mov: return Mov(e, i);
            // A non-temporal store is an ordinary store to the ExCache.
            case Mnemonic.Movnti: return i.I.Op0Kind == OpKind.Memory && Mov(e, i);
            case Mnemonic.Movzx: return Movzx(e, i);
            case Mnemonic.Movsx or Mnemonic.Movsxd: return Movsx(e, i);
            case Mnemonic.Lea: return Lea(e, i);
            case Mnemonic.Xchg: return Xchg(e, i);
            case Mnemonic.Cdqe: return Extend(e, OpCodes.Conv_I4, OpCodes.Conv_I8, null, Registers.RAX);
            case Mnemonic.Cwde: return Extend(e, OpCodes.Conv_I2, OpCodes.Conv_U4, OpCodes.Conv_U8, Registers.RAX);
            case Mnemonic.Cqo:
                e.LoadGpr64(Registers.RAX);
                e.Il.Ldc4(63);
                e.Il.Emit(OpCodes.Shr);
                e.StoreGpr64(Registers.RDX);
                return true;
            case Mnemonic.Cdq:
                e.LoadGpr64(Registers.RAX);
                e.Il.Emit(OpCodes.Conv_I4);
                e.Il.Ldc4(31);
                e.Il.Emit(OpCodes.Shr);
                e.Il.Emit(OpCodes.Conv_U4);
                e.Il.Emit(OpCodes.Conv_U8);
                e.StoreGpr64(Registers.RDX);
                return true;
            case Mnemonic.Nop or Mnemonic.Endbr64 or Mnemonic.Endbr32 or Mnemonic.Pause or Mnemonic.Prefetchnta or Mnemonic.Prefetcht0
                or Mnemonic.Prefetcht1 or Mnemonic.Prefetcht2 or Mnemonic.Prefetchw or Mnemonic.Prefetch or Mnemonic.Lfence or Mnemonic.Sfence:
                return true;
        }
        if (i.Cc >= 0 && IsCmov(i.I.Mnemonic)) return Cmov(e, i);
        if (i.Cc >= 0 && IsSetcc(i.I.Mnemonic)) return Setcc(e, i);
        return false;
    }

    static bool IsCmov(Mnemonic m) => m is Mnemonic.Cmovo or Mnemonic.Cmovno or Mnemonic.Cmovb or Mnemonic.Cmovae or Mnemonic.Cmove
        or Mnemonic.Cmovne or Mnemonic.Cmovbe or Mnemonic.Cmova or Mnemonic.Cmovs or Mnemonic.Cmovns or Mnemonic.Cmovp or Mnemonic.Cmovnp
        or Mnemonic.Cmovl or Mnemonic.Cmovge or Mnemonic.Cmovle or Mnemonic.Cmovg;

    static bool IsSetcc(Mnemonic m) => m is Mnemonic.Seto or Mnemonic.Setno or Mnemonic.Setb or Mnemonic.Setae or Mnemonic.Sete
        or Mnemonic.Setne or Mnemonic.Setbe or Mnemonic.Seta or Mnemonic.Sets or Mnemonic.Setns or Mnemonic.Setp or Mnemonic.Setnp
        or Mnemonic.Setl or Mnemonic.Setge or Mnemonic.Setle or Mnemonic.Setg;

    static bool Mov(RegionEmitter e, in Insn i)
    {
        if (!RegionEmitter.Simple(i, 0) || !RegionEmitter.Simple(i, 1)) return false;
        // No temporary between the source and the destination when one is a register (fewer locals, less JIT time).
        if (i.I.Op0Kind == OpKind.Register)
        {
            e.LoadOperand(i, 1, i.OpBits);
            e.StoreGpr(i.I.Op0Register);
            return true;
        }
        if (i.I.Op1Kind == OpKind.Register && e.StorableGpr(i.I.Op1Register) is { } source)
        {
            e.Write0(i, i.OpBits, source);
            return true;
        }
        var v = e.Tmp();
        e.LoadOperand(i, 1, i.OpBits);
        e.Il.Emit(OpCodes.Stloc, v);
        e.Write0(i, i.OpBits, v);
        return true;
    }

    static int SrcBits(in Insn i) => i.I.Op1Kind == OpKind.Memory ? i.MemBits : Registers.GprSize[(int)i.I.Op1Register] * 8;

    static bool Movzx(RegionEmitter e, in Insn i)
    {
        if (!RegionEmitter.Simple(i, 1) || !RegionEmitter.IsGpr(i.I.Op0Register)) return false;
        e.LoadOperand(i, 1, SrcBits(i));
        e.StoreGpr(i.I.Op0Register);
        return true;
    }

    static bool Movsx(RegionEmitter e, in Insn i)
    {
        if (!RegionEmitter.Simple(i, 1) || !RegionEmitter.IsGpr(i.I.Op0Register)) return false;
        int sb = SrcBits(i);
        e.LoadOperand(i, 1, sb);
        e.Il.Emit(sb switch { 8 => OpCodes.Conv_I1, 16 => OpCodes.Conv_I2, 32 => OpCodes.Conv_I4, _ => OpCodes.Nop });
        e.Il.Emit(OpCodes.Conv_I8);
        if (i.OpBits != 64)
        {
            e.Il.Ldc8((long)RegionEmitter.Mask(i.OpBits));
            e.Il.Emit(OpCodes.And);
        }
        e.StoreGpr(i.I.Op0Register);
        return true;
    }

    static bool Lea(RegionEmitter e, in Insn i)
    {
        if (!RegionEmitter.IsGpr(i.I.Op0Register)) return false;
        e.EmitEa(i, withSegment: false);
        if (i.OpBits != 64)
        {
            e.Il.Ldc8((long)RegionEmitter.Mask(i.OpBits));
            e.Il.Emit(OpCodes.And);
        }
        e.StoreGpr(i.I.Op0Register);
        return true;
    }

    static bool Xchg(RegionEmitter e, in Insn i)
    {
        // With a memory operand XCHG is locked and goes through the interpreter's bracket.
        if (i.I.Op0Kind != OpKind.Register || i.I.Op1Kind != OpKind.Register) return false;
        if (!RegionEmitter.IsGpr(i.I.Op0Register) || !RegionEmitter.IsGpr(i.I.Op1Register)) return false;
        var a = e.Tmp();
        var b = e.Tmp();
        e.LoadGpr(i.I.Op1Register);
        e.Il.Emit(OpCodes.Stloc, b);
        e.LoadGpr(i.I.Op0Register);
        e.Il.Emit(OpCodes.Stloc, a);
        e.Il.Emit(OpCodes.Ldloc, b);
        e.StoreGpr(i.I.Op0Register);
        e.Il.Emit(OpCodes.Ldloc, a);
        e.StoreGpr(i.I.Op1Register);
        return true;
    }

    static bool Extend(RegionEmitter e, OpCode first, OpCode second, OpCode? third, int reg)
    {
        e.LoadGpr64(reg);
        e.Il.Emit(first);
        e.Il.Emit(second);
        if (third is { } t) e.Il.Emit(t);
        e.StoreGpr64(reg);
        return true;
    }

    static bool Cmov(RegionEmitter e, in Insn i)
    {
        if (!RegionEmitter.Simple(i, 1) || !RegionEmitter.IsGpr(i.I.Op0Register)) return false;
        var il = e.Il;
        var v = e.Tmp();
        var skip = il.DefineLabel();
        var done = il.DefineLabel();
        // The source is read, and may fault, whatever the condition.
        e.LoadOperand(i, 1, i.OpBits);
        il.Emit(OpCodes.Stloc, v);
        e.EmitCond(i.Cc);
        il.Emit(OpCodes.Brfalse, skip);
        il.Emit(OpCodes.Ldloc, v);
        e.StoreGpr(i.I.Op0Register);
        il.Emit(OpCodes.Br, done);
        il.MarkLabel(skip);
        if (i.OpBits == 32)
        {
            // A 32-bit CMOV zero-extends its destination even when the condition is false.
            e.LoadGpr(i.I.Op0Register);
            e.StoreGpr(i.I.Op0Register);
        }
        il.MarkLabel(done);
        return true;
    }

    static bool Setcc(RegionEmitter e, in Insn i)
    {
        if (!RegionEmitter.Simple(i, 0)) return false;
        var v = e.Tmp();
        e.EmitCond(i.Cc);
        e.Il.Emit(OpCodes.Conv_U8);
        e.Il.Emit(OpCodes.Stloc, v);
        e.Write0(i, 8, v);
        return true;
    }
}
