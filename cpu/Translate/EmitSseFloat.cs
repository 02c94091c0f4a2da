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
/// interpreter's bracket instead. A commutative operation with a NaN operand runs on an exact host stub,
/// because the JIT may swap the operands of an addition or multiplication and x86 returns the first NaN.
/// </summary>
static class EmitSseFloat
{
    sealed record Op(MethodInfo Method, Type Element, bool Scalar, bool Commutative, bool Unary, int Index);

    // Opcodes first: Build fills it.
    static readonly List<byte[]> Opcodes = new();
    static readonly Dictionary<Mnemonic, Op> Ops = Build();

    static Dictionary<Mnemonic, Op> Build()
    {
        var t = new Dictionary<Mnemonic, Op>();
        (string Name, byte Code, bool Commutative)[] ops =
        [
            ("Add", 0x58, true), ("Multiply", 0x59, true), ("Subtract", 0x5c, false), ("Min", 0x5d, false),
            ("Divide", 0x5e, false), ("Max", 0x5f, false), ("Sqrt", 0x51, false),
        ];
        string[] names = ["Add", "Mul", "Sub", "Min", "Div", "Max", "Sqrt"];
        for (int k = 0; k < ops.Length; k++)
        {
            var (name, code, commutative) = ops[k];
            foreach (var (suffix, prefix, element, scalar) in new (string, byte, Type, bool)[]
                     { ("ps", 0, typeof(float), false), ("pd", 0x66, typeof(double), false), ("ss", 0xf3, typeof(float), true), ("sd", 0xf2, typeof(double), true) })
            {
                var mnemonic = Enum.Parse<Mnemonic>(names[k] + suffix, ignoreCase: true);
                var owner = element == typeof(float) ? typeof(Sse) : typeof(Sse2);
                var v = typeof(Vector128<>).MakeGenericType(element);
                bool unary = name == "Sqrt" && !scalar;
                var method = owner.GetMethod(scalar ? name + "Scalar" : name, unary ? new[] { v } : new[] { v, v })
                             ?? throw new MissingMethodException(owner.Name, name);
                Opcodes.Add(prefix == 0 ? [0x0f, code] : [prefix, 0x0f, code]);
                t[mnemonic] = new Op(method, element, scalar, commutative, unary, Opcodes.Count - 1);
            }
        }
        return t;
    }

    /// <summary>True when <paramref name="i"/> would be emitted here (decided before the region is laid out).</summary>
    internal static bool Handles(in Insn i) =>
        i.I.Encoding == EncodingKind.Legacy && Ops.ContainsKey(i.I.Mnemonic) && i.I.OpCount == 2 &&
        i.I.Op0Kind == OpKind.Register && i.I.Op0Register is >= Register.XMM0 and <= Register.XMM15 &&
        (i.I.Op1Kind == OpKind.Memory || i.I.Op1Register is >= Register.XMM0 and <= Register.XMM15);

    /// <summary>dst = op(a, b) computed by the host instruction itself (for NaN operands, where operand order matters).</summary>
    public static Vector128<byte> Exact(int index, Vector128<byte> a, Vector128<byte> b) =>
        LegoEmu.Cpu.Fpu.HostSse.Execute(Opcodes[index], a, b);

    static readonly MethodInfo MExact = typeof(EmitSseFloat).GetMethod(nameof(Exact))!;
    static readonly MethodInfo MCreateScalar32 = typeof(Vector128).GetMethod(nameof(Vector128.CreateScalar), new[] { typeof(uint) })!;
    static readonly MethodInfo MCreateScalar64 = typeof(Vector128).GetMethod(nameof(Vector128.CreateScalar), new[] { typeof(ulong) })!;
    static readonly MethodInfo MAndInt = typeof(Sse2).GetMethod(nameof(Sse2.And), new[] { typeof(Vector128<int>), typeof(Vector128<int>) })!;
    static readonly MethodInfo MAndLong = typeof(Sse2).GetMethod(nameof(Sse2.And), new[] { typeof(Vector128<long>), typeof(Vector128<long>) })!;
    static readonly MethodInfo MGtInt = typeof(Sse2).GetMethod(nameof(Sse2.CompareGreaterThan), new[] { typeof(Vector128<int>), typeof(Vector128<int>) })!;
    static readonly MethodInfo MGtLong = typeof(Sse42).GetMethod(nameof(Sse42.CompareGreaterThan), new[] { typeof(Vector128<long>), typeof(Vector128<long>) })!;
    static readonly MethodInfo MOrByte = typeof(Sse2).GetMethod(nameof(Sse2.Or), new[] { typeof(Vector128<byte>), typeof(Vector128<byte>) })!;
    static readonly MethodInfo MMoveMask = typeof(Sse2).GetMethod(nameof(Sse2.MoveMask), new[] { typeof(Vector128<byte>) })!;
    static readonly MethodInfo MCreateInt = typeof(Vector128).GetMethod(nameof(Vector128.Create), new[] { typeof(int) })!;
    static readonly MethodInfo MCreateLong = typeof(Vector128).GetMethod(nameof(Vector128.Create), new[] { typeof(long) })!;

    internal static bool TryEmit(RegionEmitter e, in Insn i, List<Insn> interpreted)
    {
        if (!Handles(i) || !Ops.TryGetValue(i.I.Mnemonic, out var op)) return false;
        var il = e.Il;
        var slow = il.DefineLabel();
        var done = il.DefineLabel();
        var exact = il.DefineLabel();
        var vb = typeof(Vector128<byte>);
        var a = e.TmpVec();
        var b = e.TmpVec();

        // The slow path below runs a handler, which wants the flags settled: settle them on both paths.
        e.MaterializeFlags();
        // Not the default MXCSR: the interpreter's bracket, before anything is read, so nothing is read twice.
        e.LoadFpFast();
        il.Emit(OpCodes.Brfalse, slow);

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
                    il.Emit(OpCodes.Call, MCreateScalar32);
                }
                else il.Emit(OpCodes.Call, MCreateScalar64);
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

        if (op.Commutative) EmitNaNGuard(e, op, a, b, exact);

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
        e.XmmAddress(i.I.Op0Register - Register.XMM0);
        il.Emit(OpCodes.Ldloc, res);
        il.Emit(OpCodes.Stobj, vt);
        il.Emit(OpCodes.Br, done);

        if (op.Commutative)
        {
            il.MarkLabel(exact);
            e.XmmAddress(i.I.Op0Register - Register.XMM0);
            il.Emit(OpCodes.Ldc_I4, op.Index);
            il.Emit(OpCodes.Ldloc, a);
            il.Emit(OpCodes.Ldloc, b);
            il.Emit(OpCodes.Call, MExact);
            il.Emit(OpCodes.Stobj, vb);
            il.Emit(OpCodes.Br, done);
        }

        il.MarkLabel(slow);
        interpreted.Add(i);
        e.EmitInterpreted(interpreted.Count - 1, RegisterSet.Of(i));
        il.MarkLabel(done);
        return true;
    }

    /// <summary>Branches to <paramref name="exact"/> when a lane the operation reads holds a NaN in either operand.</summary>
    static void EmitNaNGuard(RegionEmitter e, Op op, LocalBuilder a, LocalBuilder b, Label exact)
    {
        var il = e.Il;
        bool single = op.Element == typeof(float);
        var it = single ? typeof(Vector128<int>) : typeof(Vector128<long>);
        var and = single ? MAndInt : MAndLong;
        var gt = single ? MGtInt : MGtLong;
        var create = single ? MCreateInt : MCreateLong;
        // NaN: |x| > +infinity as integers (the sign bit cleared first).
        void Test(LocalBuilder v)
        {
            il.Emit(OpCodes.Ldloca, v);
            il.Emit(OpCodes.Ldobj, it);
            if (single) il.Emit(OpCodes.Ldc_I4, 0x7fffffff); else il.Emit(OpCodes.Ldc_I8, 0x7fffffffffffffffL);
            il.Emit(OpCodes.Call, create);
            il.Emit(OpCodes.Call, and);
            if (single) il.Emit(OpCodes.Ldc_I4, 0x7f800000); else il.Emit(OpCodes.Ldc_I8, 0x7ff0000000000000L);
            il.Emit(OpCodes.Call, create);
            il.Emit(OpCodes.Call, gt);
        }
        var t = e.TmpOf(it);
        Test(a);
        il.Emit(OpCodes.Stloc, t);
        il.Emit(OpCodes.Ldloca, t);
        il.Emit(OpCodes.Ldobj, typeof(Vector128<byte>));
        Test(b);
        il.Emit(OpCodes.Stloc, t);
        il.Emit(OpCodes.Ldloca, t);
        il.Emit(OpCodes.Ldobj, typeof(Vector128<byte>));
        il.Emit(OpCodes.Call, MOrByte);
        il.Emit(OpCodes.Call, MMoveMask);
        if (op.Scalar)
        {
            il.Emit(OpCodes.Ldc_I4, single ? 0xf : 0xff);
            il.Emit(OpCodes.And);
        }
        il.Emit(OpCodes.Brtrue, exact);
    }
}
