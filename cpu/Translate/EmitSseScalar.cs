using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.Interp;
using Label = System.Reflection.Emit.Label;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// The scalar SSE instructions floating-point code runs between its arithmetic: MOVSS/MOVSD (moves, never an
/// exception), UCOMISS/UCOMISD/COMISS/COMISD (the interpreter's own comparison, called from the IL) and the
/// conversions CVTSI2SS/CVTSI2SD and CVTTSS2SI/CVTTSD2SI (the host's instruction). The last two families raise MXCSR
/// flags, so they run as <see cref="EmitSseFloat"/>'s arithmetic does: inline while the guest's MXCSR is the
/// default (the host's flags folded into the guest's), in the interpreter's bracket otherwise.
/// </summary>
static class EmitSseScalar
{
    /// <summary>True for the instructions here that raise MXCSR flags (the region must then track the host's).</summary>
    internal static bool UsesHostMxcsr(in Insn i) =>
        i.I.Encoding == EncodingKind.Legacy && i.I.Mnemonic is Mnemonic.Ucomiss or Mnemonic.Ucomisd or Mnemonic.Comiss or Mnemonic.Comisd
            or Mnemonic.Cvtsi2ss or Mnemonic.Cvtsi2sd or Mnemonic.Cvttss2si or Mnemonic.Cvttsd2si;

    static readonly MethodInfo MCompareUnorderedSingle = Compare(nameof(InstSseFloat.UnorderedSingle));
    static readonly MethodInfo MCompareOrderedSingle = Compare(nameof(InstSseFloat.OrderedSingle));
    static readonly MethodInfo MCompareUnorderedDouble = Compare(nameof(InstSseFloat.UnorderedDouble));
    static readonly MethodInfo MCompareOrderedDouble = Compare(nameof(InstSseFloat.OrderedDouble));
    static MethodInfo Compare(string name) => typeof(InstSseFloat).GetMethod(name, BindingFlags.Static | BindingFlags.NonPublic)!;

    static readonly MethodInfo MIntToSingle = typeof(Sse).GetMethod(nameof(Sse.ConvertScalarToVector128Single), [typeof(Vector128<float>), typeof(int)])!;
    static readonly MethodInfo MLongToSingle = typeof(Sse.X64).GetMethod(nameof(Sse.X64.ConvertScalarToVector128Single), [typeof(Vector128<float>), typeof(long)])!;
    static readonly MethodInfo MIntToDouble = typeof(Sse2).GetMethod(nameof(Sse2.ConvertScalarToVector128Double), [typeof(Vector128<double>), typeof(int)])!;
    static readonly MethodInfo MLongToDouble = typeof(Sse2.X64).GetMethod(nameof(Sse2.X64.ConvertScalarToVector128Double), [typeof(Vector128<double>), typeof(long)])!;
    static readonly MethodInfo MSingleToInt = typeof(Sse).GetMethod(nameof(Sse.ConvertToInt32WithTruncation), [typeof(Vector128<float>)])!;
    static readonly MethodInfo MSingleToLong = typeof(Sse.X64).GetMethod(nameof(Sse.X64.ConvertToInt64WithTruncation), [typeof(Vector128<float>)])!;
    static readonly MethodInfo MDoubleToInt = typeof(Sse2).GetMethod(nameof(Sse2.ConvertToInt32WithTruncation), [typeof(Vector128<double>)])!;
    static readonly MethodInfo MDoubleToLong = typeof(Sse2.X64).GetMethod(nameof(Sse2.X64.ConvertToInt64WithTruncation), [typeof(Vector128<double>)])!;
    static readonly MethodInfo MCreateScalar64 = typeof(Vector128).GetMethod(nameof(Vector128.CreateScalar), [typeof(ulong)])!;

    internal static bool TryEmit(RegionEmitter e, in Insn i, List<Insn> interpreted)
    {
        if (i.I.Encoding != EncodingKind.Legacy || i.I.OpCount != 2) return false;
        switch (i.I.Code)
        {
            case Code.Movss_xmm_xmmm32: return MoveIn(e, i, 32);
            case Code.Movsd_xmm_xmmm64: return MoveIn(e, i, 64);
            case Code.Movss_xmmm32_xmm: return MoveOut(e, i, 32);
            case Code.Movsd_xmmm64_xmm: return MoveOut(e, i, 64);
        }
        return i.I.Mnemonic switch
        {
            Mnemonic.Ucomiss or Mnemonic.Comiss or Mnemonic.Ucomisd or Mnemonic.Comisd => CompareFlags(e, i, interpreted),
            Mnemonic.Cvtsi2ss or Mnemonic.Cvtsi2sd => IntToFloat(e, i, interpreted),
            Mnemonic.Cvttss2si or Mnemonic.Cvttsd2si => FloatToInt(e, i, interpreted),
            _ => false,
        };
    }

    /// <summary>Pushes the low <paramref name="bits"/> of an XMM register, zero-extended to 64.</summary>
    static void LoadLow(RegionEmitter e, Register r, int bits)
    {
        e.XmmAddress(r - Register.XMM0);
        if (bits == 64) e.Il.Emit(OpCodes.Ldind_I8);
        else
        {
            e.Il.Emit(OpCodes.Ldind_U4);
            e.Il.Emit(OpCodes.Conv_U8);
        }
    }

    /// <summary>MOVSS/MOVSD into a register: from memory the rest of the register is zeroed, from a register it is kept.</summary>
    static bool MoveIn(RegionEmitter e, in Insn i, int bits)
    {
        if (i.I.Op0Kind != OpKind.Register || !EmitSse.IsXmm(i.I.Op0Register)) return false;
        var il = e.Il;
        int dst = i.I.Op0Register - Register.XMM0;
        if (i.I.Op1Kind == OpKind.Register)
        {
            if (!EmitSse.IsXmm(i.I.Op1Register)) return false;
            var v = e.Tmp();
            LoadLow(e, i.I.Op1Register, bits);
            il.Emit(OpCodes.Stloc, v);
            e.XmmAddress(dst);
            il.Emit(OpCodes.Ldloc, v);
            il.Emit(bits == 64 ? OpCodes.Stind_I8 : OpCodes.Stind_I4);
            return true;
        }
        if (i.I.Op1Kind != OpKind.Memory) return false;
        var a = e.Tmp();
        var value = e.Tmp();
        e.EmitEa(i);
        il.Emit(OpCodes.Stloc, a);
        e.Load(bits, a);
        il.Emit(OpCodes.Stloc, value);
        e.SetXmmZeroExtended(dst, value);
        return true;
    }

    /// <summary>MOVSS/MOVSD from a register (the 0F 11 form): to memory, or to the low part of another register.</summary>
    static bool MoveOut(RegionEmitter e, in Insn i, int bits)
    {
        if (i.I.Op1Kind != OpKind.Register || !EmitSse.IsXmm(i.I.Op1Register)) return false;
        var il = e.Il;
        var v = e.Tmp();
        LoadLow(e, i.I.Op1Register, bits);
        il.Emit(OpCodes.Stloc, v);
        if (i.I.Op0Kind == OpKind.Register)
        {
            if (!EmitSse.IsXmm(i.I.Op0Register)) return false;
            e.XmmAddress(i.I.Op0Register - Register.XMM0);
            il.Emit(OpCodes.Ldloc, v);
            il.Emit(bits == 64 ? OpCodes.Stind_I8 : OpCodes.Stind_I4);
            return true;
        }
        if (i.I.Op0Kind != OpKind.Memory) return false;
        e.Write0(i, bits, v);
        return true;
    }

    /// <summary>
    /// Pushes operand <paramref name="n"/> (an XMM register, or m32/m64 in the low lane with the rest zero) as a
    /// Vector128 of <paramref name="element"/>.
    /// </summary>
    static void LoadScalarSource(RegionEmitter e, in Insn i, int n, Type element)
    {
        var il = e.Il;
        var vt = typeof(Vector128<>).MakeGenericType(element);
        if (i.I.GetOpKind(n) == OpKind.Register)
        {
            e.XmmAddress(i.I.GetOpRegister(n) - Register.XMM0);
            il.Emit(OpCodes.Ldobj, vt);
            return;
        }
        var a = e.Tmp();
        e.EmitEa(i);
        il.Emit(OpCodes.Stloc, a);
        e.Load(element == typeof(float) ? 32 : 64, a);
        il.Emit(OpCodes.Call, MCreateScalar64);
        // Vector128<ulong> and the element's vector share a layout: reinterpret through a local.
        var tmp = e.TmpOf(typeof(Vector128<ulong>));
        il.Emit(OpCodes.Stloc, tmp);
        il.Emit(OpCodes.Ldloca, tmp);
        il.Emit(OpCodes.Ldobj, vt);
    }

    /// <summary>
    /// The start of an instruction that raises MXCSR flags: flags settled for the handler, and the branch to it
    /// when the guest's MXCSR is not the default, before any operand is read (so nothing is read twice).
    /// </summary>
    /// <returns>The block's inline accesses before the instruction, for <see cref="EndHostFloat"/>.</returns>
    static int BeginHostFloat(RegionEmitter e, Label slow)
    {
        e.MaterializeFlags();
        e.LoadFpFast();
        e.Il.Emit(OpCodes.Brfalse, slow);
        return e.BlockAccesses;
    }

    static void EndHostFloat(RegionEmitter e, in Insn i, List<Insn> interpreted, Label slow, Label done, int accessesBefore)
    {
        e.Il.Emit(OpCodes.Br, done);
        e.Il.MarkLabel(slow);
        interpreted.Add(i);
        e.EmitInterpretedInstead(interpreted.Count - 1, RegisterSet.Of(i), accessesBefore);
        e.Il.MarkLabel(done);
    }

    /// <summary>(U)COMISS/(U)COMISD: ZF, PF and CF from the comparison, OF, SF and AF cleared.</summary>
    static bool CompareFlags(RegionEmitter e, in Insn i, List<Insn> interpreted)
    {
        if (i.I.Op0Kind != OpKind.Register || !EmitSse.IsXmm(i.I.Op0Register) || !EmitSse.XmmOrMemory(i, 1)) return false;
        var m = i.I.Mnemonic;
        bool single = m is Mnemonic.Ucomiss or Mnemonic.Comiss;
        bool signalling = m is Mnemonic.Comiss or Mnemonic.Comisd;
        var element = single ? typeof(float) : typeof(double);
        var vt = typeof(Vector128<>).MakeGenericType(element);
        var il = e.Il;
        var slow = il.DefineLabel();
        var done = il.DefineLabel();
        int accesses = BeginHostFloat(e, slow);
        // TmpOf hands out one local per type: the second operand needs one of its own.
        var x = e.TmpOf(vt);
        var y = il.DeclareLocal(vt);
        LoadScalarSource(e, i, 1, element);
        il.Emit(OpCodes.Stloc, y);
        e.XmmAddress(i.I.Op0Register - Register.XMM0);
        il.Emit(OpCodes.Ldobj, vt);
        il.Emit(OpCodes.Stloc, x);
        il.Emit(OpCodes.Ldloca, x);
        il.Emit(OpCodes.Ldloca, y);
        il.Emit(OpCodes.Call, single
            ? signalling ? MCompareOrderedSingle : MCompareUnorderedSingle
            : signalling ? MCompareOrderedDouble : MCompareUnorderedDouble);
        var flags = e.Tmp();
        il.Emit(OpCodes.Stloc, flags);
        e.SetArithBits(flags);
        EndHostFloat(e, i, interpreted, slow, done, accesses);
        // The two paths leave the flags differently at compile time: the next reader takes them from the state.
        e.ForgetFlags();
        return true;
    }

    /// <summary>CVTSI2SS/CVTSI2SD: a 32- or 64-bit integer into the low lane, the rest of the register kept.</summary>
    static bool IntToFloat(RegionEmitter e, in Insn i, List<Insn> interpreted)
    {
        if (i.I.Op0Kind != OpKind.Register || !EmitSse.IsXmm(i.I.Op0Register)) return false;
        var k = i.I.Op1Kind;
        if (k != OpKind.Memory && (k != OpKind.Register || !RegionEmitter.IsGpr(i.I.Op1Register))) return false;
        bool single = i.I.Mnemonic == Mnemonic.Cvtsi2ss;
        bool wide = k == OpKind.Register ? i.I.Op1Register.GetSize() == 8 : i.I.MemorySize.GetSize() == 8;
        var vt = single ? typeof(Vector128<float>) : typeof(Vector128<double>);
        var il = e.Il;
        var slow = il.DefineLabel();
        var done = il.DefineLabel();
        int accesses = BeginHostFloat(e, slow);
        var value = e.Tmp();
        e.LoadOperand(i, 1, wide ? 64 : 32);
        il.Emit(OpCodes.Stloc, value);
        int dst = i.I.Op0Register - Register.XMM0;
        e.XmmAddress(dst);
        il.Emit(OpCodes.Ldobj, vt);
        il.Emit(OpCodes.Ldloc, value);
        if (!wide) il.Emit(OpCodes.Conv_I4);
        il.Emit(OpCodes.Call, single ? wide ? MLongToSingle : MIntToSingle : wide ? MLongToDouble : MIntToDouble);
        var result = e.TmpOf(vt);
        il.Emit(OpCodes.Stloc, result);
        e.XmmAddress(dst);
        il.Emit(OpCodes.Ldloc, result);
        il.Emit(OpCodes.Stobj, vt);
        EndHostFloat(e, i, interpreted, slow, done, accesses);
        return true;
    }

    /// <summary>CVTTSS2SI/CVTTSD2SI: truncated to a 32- or 64-bit register (the integer indefinite when out of range).</summary>
    static bool FloatToInt(RegionEmitter e, in Insn i, List<Insn> interpreted)
    {
        if (i.I.Op0Kind != OpKind.Register || !RegionEmitter.IsGpr(i.I.Op0Register) || !EmitSse.XmmOrMemory(i, 1)) return false;
        bool single = i.I.Mnemonic == Mnemonic.Cvttss2si;
        bool wide = i.I.Op0Register.GetSize() == 8;
        var il = e.Il;
        var slow = il.DefineLabel();
        var done = il.DefineLabel();
        int accesses = BeginHostFloat(e, slow);
        LoadScalarSource(e, i, 1, single ? typeof(float) : typeof(double));
        il.Emit(OpCodes.Call, single ? wide ? MSingleToLong : MSingleToInt : wide ? MDoubleToLong : MDoubleToInt);
        if (!wide) il.Emit(OpCodes.Conv_U4);
        il.Emit(OpCodes.Conv_U8);
        e.StoreGpr(i.I.Op0Register);
        EndHostFloat(e, i, interpreted, slow, done, accesses);
        return true;
    }
}
