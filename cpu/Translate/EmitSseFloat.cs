using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using Label = System.Reflection.Emit.Label;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// SSE/SSE2 floating-point arithmetic (ADD SUB MUL DIV MIN MAX SQRT; PS PD SS SD) as the host's own
/// instructions, inline. A region that has any runs with the host MXCSR at its default and its flags
/// cleared, and folds the flags the guest's operations raised into the guest MXCSR before every call
/// out and at every exit (see <see cref="RegionEmitter.UsesFloatingPoint"/>). When the guest's MXCSR is
/// not the default (other rounding, FTZ/DAZ, unmasked exceptions) the instruction runs in the
/// interpreter's bracket instead. The JIT may swap the operands of an addition or multiplication, which
/// changes nothing (result or flags) unless a lane holds a NaN, where x86 returns the first source's
/// NaN (quieted): such lanes get their payload fixed afterwards, with integer operations only.
/// </summary>
static class EmitSseFloat
{
    sealed record Op(Type Owner, string Name, Type Element, bool Scalar, bool Commutative, bool Unary)
    {
        MethodInfo? _method;

        /// <summary>The host intrinsic, found on the first emit of the mnemonic (see <see cref="V"/>).</summary>
        public MethodInfo Method => _method ??= Find();

        MethodInfo Find()
        {
            var v = Element == typeof(float) ? typeof(Vector128<float>) : typeof(Vector128<double>);
            return Owner.GetMethod(Name, Unary ? new[] { v } : new[] { v, v }) ?? throw new MissingMethodException(Owner.Name, Name);
        }
    }

    static readonly MnemonicMap<Op> Ops = Build();

    static MnemonicMap<Op> Build()
    {
        var t = new MnemonicMap<Op>();
        // The mnemonics by name (no Enum.Parse: its first use reads the names of all of Iced's 1 800 mnemonics).
        (string Name, bool Commutative, Mnemonic Ps, Mnemonic Pd, Mnemonic Ss, Mnemonic Sd)[] ops =
        [
            ("Add", true, Mnemonic.Addps, Mnemonic.Addpd, Mnemonic.Addss, Mnemonic.Addsd),
            ("Multiply", true, Mnemonic.Mulps, Mnemonic.Mulpd, Mnemonic.Mulss, Mnemonic.Mulsd),
            ("Subtract", false, Mnemonic.Subps, Mnemonic.Subpd, Mnemonic.Subss, Mnemonic.Subsd),
            ("Min", false, Mnemonic.Minps, Mnemonic.Minpd, Mnemonic.Minss, Mnemonic.Minsd),
            ("Divide", false, Mnemonic.Divps, Mnemonic.Divpd, Mnemonic.Divss, Mnemonic.Divsd),
            ("Max", false, Mnemonic.Maxps, Mnemonic.Maxpd, Mnemonic.Maxss, Mnemonic.Maxsd),
            ("Sqrt", false, Mnemonic.Sqrtps, Mnemonic.Sqrtpd, Mnemonic.Sqrtss, Mnemonic.Sqrtsd),
        ];
        foreach (var (name, commutative, ps, pd, ss, sd) in ops)
        {
            foreach (var (mnemonic, element, scalar) in new (Mnemonic, Type, bool)[]
                     { (ps, typeof(float), false), (pd, typeof(double), false), (ss, typeof(float), true), (sd, typeof(double), true) })
            {
                var owner = element == typeof(float) ? typeof(Sse) : typeof(Sse2);
                t[mnemonic] = new Op(owner, scalar ? name + "Scalar" : name, element, scalar, commutative, Unary: name == "Sqrt" && !scalar);
            }
        }
        return t;
    }

    /// <summary>True when <paramref name="i"/> would be emitted here (decided before the region is laid out).</summary>
    internal static bool Handles(in Insn i) =>
        i.I.Encoding == EncodingKind.Legacy && Ops.ContainsKey(i.I.Mnemonic) && i.I.OpCount == 2 &&
        i.I.Op0Kind == OpKind.Register && i.I.Op0Register is >= Register.XMM0 and <= Register.XMM15 &&
        (i.I.Op1Kind == OpKind.Memory || i.I.Op1Register is >= Register.XMM0 and <= Register.XMM15);

    /// <summary>
    /// The vector methods the NaN fix-up calls, found when the first region with SSE arithmetic is emitted rather than
    /// with the mnemonic table (the first reflection over the vector types costs milliseconds, which regions without
    /// floating point, such as a hash's loop, should not wait for).
    /// </summary>
    static class V
    {
        internal static readonly MethodInfo MBlend = typeof(Sse41).GetMethod(nameof(Sse41.BlendVariable), new[] { typeof(Vector128<byte>), typeof(Vector128<byte>), typeof(Vector128<byte>) })!;
        internal static readonly MethodInfo MAndByte = typeof(Sse2).GetMethod(nameof(Sse2.And), new[] { typeof(Vector128<byte>), typeof(Vector128<byte>) })!;
        internal static readonly MethodInfo MOrInt = typeof(Sse2).GetMethod(nameof(Sse2.Or), new[] { typeof(Vector128<int>), typeof(Vector128<int>) })!;
        internal static readonly MethodInfo MOrLong = typeof(Sse2).GetMethod(nameof(Sse2.Or), new[] { typeof(Vector128<long>), typeof(Vector128<long>) })!;
        internal static readonly MethodInfo MCreateScalarLong = typeof(Vector128).GetMethod(nameof(Vector128.CreateScalar), new[] { typeof(long) })!;
        internal static readonly MethodInfo MCreateScalar32 = typeof(Vector128).GetMethod(nameof(Vector128.CreateScalar), new[] { typeof(uint) })!;
        internal static readonly MethodInfo MCreateScalar64 = typeof(Vector128).GetMethod(nameof(Vector128.CreateScalar), new[] { typeof(ulong) })!;
        internal static readonly MethodInfo MAndInt = typeof(Sse2).GetMethod(nameof(Sse2.And), new[] { typeof(Vector128<int>), typeof(Vector128<int>) })!;
        internal static readonly MethodInfo MAndLong = typeof(Sse2).GetMethod(nameof(Sse2.And), new[] { typeof(Vector128<long>), typeof(Vector128<long>) })!;
        internal static readonly MethodInfo MGtInt = typeof(Sse2).GetMethod(nameof(Sse2.CompareGreaterThan), new[] { typeof(Vector128<int>), typeof(Vector128<int>) })!;
        internal static readonly MethodInfo MGtLong = typeof(Sse42).GetMethod(nameof(Sse42.CompareGreaterThan), new[] { typeof(Vector128<long>), typeof(Vector128<long>) })!;
        internal static readonly MethodInfo MOrByte = typeof(Sse2).GetMethod(nameof(Sse2.Or), new[] { typeof(Vector128<byte>), typeof(Vector128<byte>) })!;
        internal static readonly MethodInfo MMoveMask = typeof(Sse2).GetMethod(nameof(Sse2.MoveMask), new[] { typeof(Vector128<byte>) })!;
        internal static readonly MethodInfo MCreateInt = typeof(Vector128).GetMethod(nameof(Vector128.Create), new[] { typeof(int) })!;
        internal static readonly MethodInfo MCreateLong = typeof(Vector128).GetMethod(nameof(Vector128.Create), new[] { typeof(long) })!;
    }

    internal static bool TryEmit(RegionEmitter e, in Insn i, List<Insn> interpreted)
    {
        if (!Handles(i) || !Ops.TryGetValue(i.I.Mnemonic, out var op)) return false;
        var il = e.Il;
        var slow = il.DefineLabel();
        var done = il.DefineLabel();
        var vb = typeof(Vector128<byte>);
        var a = e.TmpVec();
        var b = e.TmpVec();

        // The slow path below runs a handler, which wants the flags settled: settle them on both paths.
        e.MaterializeFlags();
        // Not the default MXCSR: the interpreter's bracket, before anything is read, so nothing is read twice.
        e.LoadFpFast();
        il.Emit(OpCodes.Brfalse, slow);
        int accesses = e.BlockAccesses;

        // b: the source (XMM, an aligned m128 for packed forms, m32/m64 for scalar ones)
        if (i.I.Op1Kind == OpKind.Register)
        {
            e.XmmAddress(i.I.Op1Register - Register.XMM0);
            il.Emit(OpCodes.Ldobj, vb);
        }
        else
        {
            var addr = e.Tmp();
            e.EmitEa(i);
            il.Emit(OpCodes.Stloc, addr);
            if (op.Scalar)
            {
                e.Load(op.Element == typeof(float) ? 32 : 64, addr);
                if (op.Element == typeof(float))
                {
                    il.Emit(OpCodes.Conv_U4);
                    il.Emit(OpCodes.Call, V.MCreateScalar32);
                }
                else il.Emit(OpCodes.Call, V.MCreateScalar64);
                // Vector128<uint>/<ulong> and Vector128<byte> share a layout: reinterpret through a local.
                var tmp = e.TmpOf(op.Element == typeof(float) ? typeof(Vector128<uint>) : typeof(Vector128<ulong>));
                il.Emit(OpCodes.Stloc, tmp);
                il.Emit(OpCodes.Ldloca, tmp);
                il.Emit(OpCodes.Ldobj, vb);
            }
            else
            {
                var v = e.TmpVec();
                e.CheckAligned16(addr, store: false);
                e.Load128(addr, v);
                il.Emit(OpCodes.Ldloc, v);
            }
        }
        il.Emit(OpCodes.Stloc, b);
        e.XmmAddress(i.I.Op0Register - Register.XMM0);
        il.Emit(OpCodes.Ldobj, vb);
        il.Emit(OpCodes.Stloc, a);

        var vt = typeof(Vector128<>).MakeGenericType(op.Element);
        if (!op.Unary)
        {
            il.Emit(OpCodes.Ldloca, a);
            il.Emit(OpCodes.Ldobj, vt);
        }
        il.Emit(OpCodes.Ldloca, b);
        il.Emit(OpCodes.Ldobj, vt);
        il.Emit(OpCodes.Call, op.Method);
        var res = e.TmpOf(vt);
        il.Emit(OpCodes.Stloc, res);
        if (op.Commutative) EmitNaNFix(e, op, a, b, res);
        e.XmmAddress(i.I.Op0Register - Register.XMM0);
        il.Emit(OpCodes.Ldloc, res);
        il.Emit(OpCodes.Stobj, vt);
        il.Emit(OpCodes.Br, done);

        il.MarkLabel(slow);
        interpreted.Add(i);
        e.EmitInterpretedInstead(interpreted.Count - 1, RegisterSet.Of(i), accesses);
        il.MarkLabel(done);
        return true;
    }

    /// <summary>
    /// Where a lane the operation computes holds a NaN in either operand, the result is the first source's
    /// NaN quieted, else the second's: x86's rule, whatever operand order the JIT chose. Integer operations
    /// only, so no floating-point flag changes; the arithmetic itself already raised the right ones.
    /// </summary>
    static void EmitNaNFix(RegionEmitter e, Op op, LocalBuilder a, LocalBuilder b, LocalBuilder res)
    {
        var il = e.Il;
        bool single = op.Element == typeof(float);
        var it = single ? typeof(Vector128<int>) : typeof(Vector128<long>);
        var vb = typeof(Vector128<byte>);
        var and = single ? V.MAndInt : V.MAndLong;
        var or = single ? V.MOrInt : V.MOrLong;
        var gt = single ? V.MGtInt : V.MGtLong;
        var create = single ? V.MCreateInt : V.MCreateLong;
        var nanA = e.TmpVec();
        var nanB = e.TmpVec();
        var lanes = e.TmpVec();
        var t = e.TmpOf(it);
        var skip = il.DefineLabel();
        void Const(long v)
        {
            if (single) il.Ldc4((int)v); else il.Ldc8(v);
            il.Emit(OpCodes.Call, create);
        }
        // NaN: |x| > +infinity as integers (the sign bit cleared first); all-ones lanes where so.
        void NaNMask(LocalBuilder v, LocalBuilder into)
        {
            il.Emit(OpCodes.Ldloca, v);
            il.Emit(OpCodes.Ldobj, it);
            Const(single ? 0x7fffffff : 0x7fffffffffffffffL);
            il.Emit(OpCodes.Call, and);
            Const(single ? 0x7f800000 : 0x7ff0000000000000L);
            il.Emit(OpCodes.Call, gt);
            il.Emit(OpCodes.Stloc, t);
            il.Emit(OpCodes.Ldloca, t);
            il.Emit(OpCodes.Ldobj, vb);
            if (op.Scalar)
            {
                // Only lane 0 is computed; the upper lanes are the destination's, untouched.
                il.Emit(OpCodes.Ldloc, lanes);
                il.Emit(OpCodes.Call, V.MAndByte);
            }
            il.Emit(OpCodes.Stloc, into);
        }
        if (op.Scalar)
        {
            il.Ldc8(single ? 0xffffffffL : -1L);
            il.Emit(OpCodes.Call, V.MCreateScalarLong);
            var tl = e.TmpOf(typeof(Vector128<long>));
            il.Emit(OpCodes.Stloc, tl);
            il.Emit(OpCodes.Ldloca, tl);
            il.Emit(OpCodes.Ldobj, vb);
            il.Emit(OpCodes.Stloc, lanes);
        }
        NaNMask(a, nanA);
        NaNMask(b, nanB);
        il.Emit(OpCodes.Ldloc, nanA);
        il.Emit(OpCodes.Ldloc, nanB);
        il.Emit(OpCodes.Call, V.MOrByte);
        il.Emit(OpCodes.Call, V.MMoveMask);
        il.Emit(OpCodes.Brfalse, skip);
        // res = nanA ? quiet(a) : nanB ? quiet(b) : res
        void Quiet(LocalBuilder v)
        {
            il.Emit(OpCodes.Ldloca, v);
            il.Emit(OpCodes.Ldobj, it);
            Const(single ? 0x00400000 : 0x0008000000000000L);
            il.Emit(OpCodes.Call, or);
            il.Emit(OpCodes.Stloc, t);
            il.Emit(OpCodes.Ldloca, t);
            il.Emit(OpCodes.Ldobj, vb);
        }
        il.Emit(OpCodes.Ldloca, res);
        il.Emit(OpCodes.Ldobj, vb);
        Quiet(b);
        il.Emit(OpCodes.Ldloc, nanB);
        il.Emit(OpCodes.Call, V.MBlend);
        Quiet(a);
        il.Emit(OpCodes.Ldloc, nanA);
        il.Emit(OpCodes.Call, V.MBlend);
        var fixedLocal = e.TmpVec();
        il.Emit(OpCodes.Stloc, fixedLocal);
        il.Emit(OpCodes.Ldloca, fixedLocal);
        il.Emit(OpCodes.Ldobj, res.LocalType);
        il.Emit(OpCodes.Stloc, res);
        il.MarkLabel(skip);
    }
}
