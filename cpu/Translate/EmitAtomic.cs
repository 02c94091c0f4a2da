using System.Reflection.Emit;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// XCHG with memory, CMPXCHG and XADD, locked or not. A region reads the line through its read tag and writes
/// it through its write tag with no safe point between, and invalidations are applied only at safe points,
/// so the two accesses are one atomic step against other processor components once both hit. A write that
/// misses leaves the region before anything is written, and the interpreter's locked bracket runs the
/// instruction whole. Regions that call the slow path on a miss keep locked forms in the interpreter.
/// </summary>
static class EmitAtomic
{
    internal static bool TryEmit(RegionEmitter e, in Insn i) => i.I.Mnemonic switch
    {
        Mnemonic.Xchg => Xchg(e, i),
        Mnemonic.Cmpxchg => Cmpxchg(e, i),
        Mnemonic.Xadd => Xadd(e, i),
        _ => false,
    };

    static bool Xchg(RegionEmitter e, in Insn i)
    {
        int m = i.I.Op0Kind == OpKind.Memory ? 0 : 1;
        if (i.I.OpCount != 2 || i.I.GetOpKind(m) != OpKind.Memory || i.I.GetOpKind(1 - m) != OpKind.Register) return false;
        var reg = i.I.GetOpRegister(1 - m);
        if (!RegionEmitter.IsGpr(reg)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var addr = e.Tmp();
        var old = e.Tmp();
        var v = e.Tmp();
        e.EmitEa(i);
        il.Emit(OpCodes.Stloc, addr);
        e.Load(bits, addr);
        il.Emit(OpCodes.Stloc, old);
        e.LoadGpr(reg);
        il.Emit(OpCodes.Stloc, v);
        e.Store(bits, addr, v);
        il.Emit(OpCodes.Ldloc, old);
        e.StoreGpr(reg);
        return true;
    }

    static Register Accumulator(int bits) => bits switch
    {
        8 => Register.AL,
        16 => Register.AX,
        32 => Register.EAX,
        _ => Register.RAX,
    };

    static bool Cmpxchg(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 2 || i.I.Op1Kind != OpKind.Register || !RegionEmitter.IsGpr(i.I.Op1Register)) return false;
        if (!RegionEmitter.Simple(i, 0) || i.I.Op0Kind is not (OpKind.Memory or OpKind.Register)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var acc = e.Tmp();
        var src = e.Tmp();
        var dst = e.Tmp();
        var diff = e.Tmp();
        var accReg = Accumulator(bits);
        e.LoadGpr(accReg);
        il.Emit(OpCodes.Stloc, acc);
        e.LoadGpr(i.I.Op1Register);
        il.Emit(OpCodes.Stloc, src);
        e.LoadDst(i, bits, out var ea);
        il.Emit(OpCodes.Stloc, dst);
        var notEqual = il.DefineLabel();
        var done = il.DefineLabel();
        if (ea != null)
        {
            // A locked cycle always writes: the new value on a match, the old one otherwise.
            var value = e.Tmp();
            var chosen = il.DefineLabel();
            il.Emit(OpCodes.Ldloc, dst);
            il.Emit(OpCodes.Stloc, value);
            il.Emit(OpCodes.Ldloc, acc);
            il.Emit(OpCodes.Ldloc, dst);
            il.Emit(OpCodes.Bne_Un, chosen);
            il.Emit(OpCodes.Ldloc, src);
            il.Emit(OpCodes.Stloc, value);
            il.MarkLabel(chosen);
            e.Store(bits, ea, value);
            il.Emit(OpCodes.Ldloc, acc);
            il.Emit(OpCodes.Ldloc, dst);
            il.Emit(OpCodes.Beq, done);
            il.Emit(OpCodes.Ldloc, dst);
            e.StoreGpr(accReg);
        }
        else
        {
            il.Emit(OpCodes.Ldloc, acc);
            il.Emit(OpCodes.Ldloc, dst);
            il.Emit(OpCodes.Bne_Un, notEqual);
            il.Emit(OpCodes.Ldloc, src);
            e.StoreGpr(i.I.Op0Register);
            il.Emit(OpCodes.Br, done);
            il.MarkLabel(notEqual);
            il.Emit(OpCodes.Ldloc, dst);
            e.StoreGpr(accReg);
        }
        il.MarkLabel(done);
        il.Emit(OpCodes.Ldloc, acc);
        il.Emit(OpCodes.Ldloc, dst);
        il.Emit(OpCodes.Sub);
        if (bits < 64)
        {
            il.Ldc8((long)RegionEmitter.Mask(bits));
            il.Emit(OpCodes.And);
        }
        il.Emit(OpCodes.Stloc, diff);
        e.SetFlags(FlagOp.Sub, bits, diff, acc, dst);
        return true;
    }

    static bool Xadd(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 2 || i.I.Op1Kind != OpKind.Register || !RegionEmitter.IsGpr(i.I.Op1Register)) return false;
        if (!RegionEmitter.Simple(i, 0) || i.I.Op0Kind is not (OpKind.Memory or OpKind.Register)) return false;
        var il = e.Il;
        int bits = i.OpBits;
        var src = e.Tmp();
        var dst = e.Tmp();
        var sum = e.Tmp();
        e.LoadGpr(i.I.Op1Register);
        il.Emit(OpCodes.Stloc, src);
        e.LoadDst(i, bits, out var ea);
        il.Emit(OpCodes.Stloc, dst);
        il.Emit(OpCodes.Ldloc, dst);
        il.Emit(OpCodes.Ldloc, src);
        il.Emit(OpCodes.Add);
        if (bits < 64)
        {
            il.Ldc8((long)RegionEmitter.Mask(bits));
            il.Emit(OpCodes.And);
        }
        il.Emit(OpCodes.Stloc, sum);
        if (ea != null)
        {
            // Memory first: a write that misses leaves the region before the register changes.
            e.Store(bits, ea, sum);
            il.Emit(OpCodes.Ldloc, dst);
            e.StoreGpr(i.I.Op1Register);
        }
        else
        {
            // Source register first, as the interpreter does: when both name one register, the sum stays.
            il.Emit(OpCodes.Ldloc, dst);
            e.StoreGpr(i.I.Op1Register);
            il.Emit(OpCodes.Ldloc, sum);
            e.StoreGpr(i.I.Op0Register);
        }
        e.SetFlags(FlagOp.Add, bits, sum, dst, src);
        return true;
    }
}
