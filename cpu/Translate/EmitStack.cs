using System.Reflection.Emit;
using Iced.Intel;
using Label = System.Reflection.Emit.Label;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>Stack instructions with a 64-bit stack operand: PUSH, POP, LEAVE.</summary>
static class EmitStack
{
    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        switch (i.I.Mnemonic)
        {
            case Mnemonic.Push when i.I.StackPointerIncrement == -8 && RegionEmitter.Simple(i, 0):
            {
                // A register is stored from its own local (RSP's is read before it moves): no temporary for the JIT.
                if (i.I.Op0Kind == OpKind.Register && e.StorableGpr(i.I.Op0Register) is { } source)
                {
                    Push(e, source);
                    return true;
                }
                var v = e.Tmp();
                e.LoadOperand(i, 0, 64);
                e.Il.Emit(OpCodes.Stloc, v);
                Push(e, v);
                return true;
            }
            // POP to memory stores after RSP has moved (its address may use the new RSP), so a store that missed or
            // faulted would leave RSP moved: the interpreter runs that form.
            case Mnemonic.Pop when i.I.StackPointerIncrement == 8 && i.I.Op0Kind == OpKind.Register && RegionEmitter.IsGpr(i.I.Op0Register):
            {
                var sp = e.Tmp();
                e.LoadGpr64(Registers.RSP);
                e.Il.Emit(OpCodes.Stloc, sp);
                // The value stays on the stack while RSP moves (no branch in between), then goes to the register:
                // POP RSP ends with the value popped, as the interpreter leaves it.
                e.Load(64, sp);
                e.Il.Emit(OpCodes.Ldloc, sp);
                e.Il.Ldc8(8L);
                e.Il.Emit(OpCodes.Add);
                e.StoreGpr64(Registers.RSP);
                e.StoreGpr(i.I.Op0Register);
                return true;
            }
            case Mnemonic.Leave when i.I.Code == Code.Leaveq:
            {
                // RSP takes RBP first; a fault on the load leaves it so, as in the interpreter.
                var v = e.Tmp();
                var sp = e.Tmp();
                e.LoadGpr64(Registers.RBP);
                e.Il.Emit(OpCodes.Dup);
                e.Il.Emit(OpCodes.Stloc, sp);
                e.StoreGpr64(Registers.RSP);
                e.Load(64, sp);
                e.Il.Emit(OpCodes.Stloc, v);
                e.Il.Emit(OpCodes.Ldloc, sp);
                e.Il.Ldc8(8L);
                e.Il.Emit(OpCodes.Add);
                e.StoreGpr64(Registers.RSP);
                e.Il.Emit(OpCodes.Ldloc, v);
                e.StoreGpr64(Registers.RBP);
                return true;
            }
        }
        return false;
    }

    /// <summary>Stores <paramref name="v"/> at RSP-8, then moves RSP (a faulting store leaves RSP alone).</summary>
    internal static void Push(RegionEmitter e, LocalBuilder v)
    {
        var sp = e.Tmp();
        e.LoadGpr64(Registers.RSP);
        e.Il.Ldc8(8L);
        e.Il.Emit(OpCodes.Sub);
        e.Il.Emit(OpCodes.Stloc, sp);
        e.Store(64, sp, v);
        e.Il.Emit(OpCodes.Ldloc, sp);
        e.StoreGpr64(Registers.RSP);
    }
}
