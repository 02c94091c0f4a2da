using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// SSE/SSE2 floating-point arithmetic and compares (scalar and packed, single and double), run as the
/// host's own instructions so NaN propagation and rounding are bit-exact under the default MXCSR.
/// </summary>
static unsafe class InstSseFloat
{
    internal static void Register()
    {
        foreach (var m in new[]
                 {
                     Mnemonic.Addss, Mnemonic.Addsd, Mnemonic.Addps, Mnemonic.Addpd, Mnemonic.Subss, Mnemonic.Subsd, Mnemonic.Subps, Mnemonic.Subpd,
                     Mnemonic.Mulss, Mnemonic.Mulsd, Mnemonic.Mulps, Mnemonic.Mulpd, Mnemonic.Divss, Mnemonic.Divsd, Mnemonic.Divps, Mnemonic.Divpd,
                     Mnemonic.Minss, Mnemonic.Minsd, Mnemonic.Minps, Mnemonic.Minpd, Mnemonic.Maxss, Mnemonic.Maxsd, Mnemonic.Maxps, Mnemonic.Maxpd,
                     Mnemonic.Sqrtss, Mnemonic.Sqrtsd, Mnemonic.Sqrtps, Mnemonic.Sqrtpd, Mnemonic.Rcpss, Mnemonic.Rcpps, Mnemonic.Rsqrtss, Mnemonic.Rsqrtps,
                 })
            HandlerTable.Set(m, &Arith);
        HandlerTable.Set(Mnemonic.Ucomiss, &Compare);
        HandlerTable.Set(Mnemonic.Ucomisd, &Compare);
        HandlerTable.Set(Mnemonic.Comiss, &Compare);
        HandlerTable.Set(Mnemonic.Comisd, &Compare);
        HandlerTable.Set(Mnemonic.Cmpss, &CmpPredicate);
        HandlerTable.Set(Mnemonic.Cmpsd, &CmpPredicate);
        HandlerTable.Set(Mnemonic.Cmpps, &CmpPredicate);
        HandlerTable.Set(Mnemonic.Cmppd, &CmpPredicate);
    }

    /// <summary>Scalar forms read only 32/64 bits of memory (no alignment rule); packed forms read an aligned m128.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> Source(CpuState c, ref Insn i, int scalarBits)
    {
        if (i.I.Op1Kind != OpKind.Memory) return Xmm(c, i.I.Op1Register);
        if (scalarBits == 32) return Vector128.CreateScalar(c.Mem.Read32(Ea(c, ref i))).AsByte();
        if (scalarBits == 64) return Vector128.CreateScalar(c.Mem.Read64(Ea(c, ref i))).AsByte();
        return ReadXAligned(c, ref i, 1);
    }

    /// <summary>
    /// The width of a scalar form's memory source (32 for the SS forms, 64 for SD), 0 for a packed one: the mnemonics
    /// <see cref="Arith"/> runs, by name. A table built from the names of all of Iced's mnemonics cost 2-4 ms of
    /// reflection (and the runtime's JIT of Enum.GetValues) in the process's first SSE arithmetic.
    /// </summary>
    static int ScalarBits(Mnemonic m) => m switch
    {
        Mnemonic.Addss or Mnemonic.Subss or Mnemonic.Mulss or Mnemonic.Divss or Mnemonic.Minss or Mnemonic.Maxss
            or Mnemonic.Sqrtss or Mnemonic.Rcpss or Mnemonic.Rsqrtss => 32,
        Mnemonic.Addsd or Mnemonic.Subsd or Mnemonic.Mulsd or Mnemonic.Divsd or Mnemonic.Minsd or Mnemonic.Maxsd
            or Mnemonic.Sqrtsd => 64,
        _ => 0,
    };

    static void Arith(CpuState c, ref Insn i)
    {
        var m = i.I.Mnemonic;
        ref var d = ref Xmm(c, i.I.Op0Register);
        // The width table only for a memory source: precompiled code reaches a static table through a call.
        var s = i.I.Op1Kind != OpKind.Memory ? Xmm(c, i.I.Op1Register) : Source(c, ref i, ScalarBits(m));
        var af = d.AsSingle(); var bf = s.AsSingle();
        var ad = d.AsDouble(); var bd = s.AsDouble();
        // ADD and MUL pick their NaN afterwards, in one place each for singles and doubles, so the check is inlined
        // twice rather than eight times (precompiled, a call per instruction cost sseloop a tenth of its time).
        Vector128<byte> r;
        int nan32 = 0, nan64 = 0;
        switch (m)
        {
            case Mnemonic.Addss: r = Sse.AddScalar(af, bf).AsByte(); nan32 = 1; break;
            case Mnemonic.Addsd: r = Sse2.AddScalar(ad, bd).AsByte(); nan64 = 1; break;
            case Mnemonic.Addps: r = Sse.Add(af, bf).AsByte(); nan32 = 4; break;
            case Mnemonic.Addpd: r = Sse2.Add(ad, bd).AsByte(); nan64 = 2; break;
            case Mnemonic.Subss: r = Sse.SubtractScalar(af, bf).AsByte(); break;
            case Mnemonic.Subsd: r = Sse2.SubtractScalar(ad, bd).AsByte(); break;
            case Mnemonic.Subps: r = Sse.Subtract(af, bf).AsByte(); break;
            case Mnemonic.Subpd: r = Sse2.Subtract(ad, bd).AsByte(); break;
            case Mnemonic.Mulss: r = Sse.MultiplyScalar(af, bf).AsByte(); nan32 = 1; break;
            case Mnemonic.Mulsd: r = Sse2.MultiplyScalar(ad, bd).AsByte(); nan64 = 1; break;
            case Mnemonic.Mulps: r = Sse.Multiply(af, bf).AsByte(); nan32 = 4; break;
            case Mnemonic.Mulpd: r = Sse2.Multiply(ad, bd).AsByte(); nan64 = 2; break;
            case Mnemonic.Divss: r = Sse.DivideScalar(af, bf).AsByte(); break;
            case Mnemonic.Divsd: r = Sse2.DivideScalar(ad, bd).AsByte(); break;
            case Mnemonic.Divps: r = Sse.Divide(af, bf).AsByte(); break;
            case Mnemonic.Divpd: r = Sse2.Divide(ad, bd).AsByte(); break;
            case Mnemonic.Minss: r = Sse.MinScalar(af, bf).AsByte(); break;
            case Mnemonic.Minsd: r = Sse2.MinScalar(ad, bd).AsByte(); break;
            case Mnemonic.Minps: r = Sse.Min(af, bf).AsByte(); break;
            case Mnemonic.Minpd: r = Sse2.Min(ad, bd).AsByte(); break;
            case Mnemonic.Maxss: r = Sse.MaxScalar(af, bf).AsByte(); break;
            case Mnemonic.Maxsd: r = Sse2.MaxScalar(ad, bd).AsByte(); break;
            case Mnemonic.Maxps: r = Sse.Max(af, bf).AsByte(); break;
            case Mnemonic.Maxpd: r = Sse2.Max(ad, bd).AsByte(); break;
            case Mnemonic.Sqrtss: r = Sse.SqrtScalar(af, bf).AsByte(); break;
            case Mnemonic.Sqrtsd: r = Sse2.SqrtScalar(ad, bd).AsByte(); break;
            case Mnemonic.Sqrtps: r = Sse.Sqrt(bf).AsByte(); break;
            case Mnemonic.Sqrtpd: r = Sse2.Sqrt(bd).AsByte(); break;
            case Mnemonic.Rcpss: r = Sse.ReciprocalScalar(af, bf).AsByte(); break;
            case Mnemonic.Rcpps: r = Sse.Reciprocal(bf).AsByte(); break;
            case Mnemonic.Rsqrtss: r = Sse.ReciprocalSqrtScalar(af, bf).AsByte(); break;
            default: r = Sse.ReciprocalSqrt(bf).AsByte(); break;
        }
        if (nan32 != 0) r = FirstNaN32(d, s, r, nan32);
        else if (nan64 != 0) r = FirstNaN64(d, s, r, nan64);
        d = r;
    }

    /// <summary>
    /// The NaN an ADD or MUL returns, as x86 defines it: the first source's when it is a NaN, else the second's,
    /// made quiet (a NaN the operation made itself, as inf*0, stays). The JIT may swap the operands of an
    /// operation it takes for commutative, which changes which NaN the host instruction passes through. Integer
    /// operations only, so no MXCSR flag changes; only the <paramref name="lanes"/> low lanes the instruction computes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> FirstNaN32(in Vector128<byte> a, in Vector128<byte> b, in Vector128<byte> r, int lanes)
    {
        var abs = Vector128.Create(0x7fffffff);
        var inf = Vector128.Create(0x7f800000);
        var live = lanes == 4 ? Vector128<int>.AllBitsSet : Vector128.CreateScalar(-1);
        var rn = Vector128.GreaterThan(r.AsInt32() & abs, inf) & live;
        if (rn == Vector128<int>.Zero) return r;
        var an = Vector128.GreaterThan(a.AsInt32() & abs, inf) & rn;
        var bn = Vector128.GreaterThan(b.AsInt32() & abs, inf) & rn & ~an;
        var quiet = Vector128.Create(0x00400000);
        return ((r.AsInt32() & ~(an | bn)) | ((a.AsInt32() | quiet) & an) | ((b.AsInt32() | quiet) & bn)).AsByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> FirstNaN64(in Vector128<byte> a, in Vector128<byte> b, in Vector128<byte> r, int lanes)
    {
        var abs = Vector128.Create(0x7fffffffffffffffL);
        var inf = Vector128.Create(0x7ff0000000000000L);
        var live = lanes == 2 ? Vector128<long>.AllBitsSet : Vector128.CreateScalar(-1L);
        var rn = Vector128.GreaterThan(r.AsInt64() & abs, inf) & live;
        if (rn == Vector128<long>.Zero) return r;
        var an = Vector128.GreaterThan(a.AsInt64() & abs, inf) & rn;
        var bn = Vector128.GreaterThan(b.AsInt64() & abs, inf) & rn & ~an;
        var quiet = Vector128.Create(0x0008000000000000L);
        return ((r.AsInt64() & ~(an | bn)) | ((a.AsInt64() | quiet) & an) | ((b.AsInt64() | quiet) & bn)).AsByte();
    }

    /// <summary>
    /// (U)COMISS/SD: ZF, PF, CF from the comparison; OF, SF, AF cleared. The host's own COMIS/UCOMIS
    /// run through the intrinsics, so the MXCSR flags are exactly the hardware's: COMIS signals on any
    /// NaN, UCOMIS only on SNaN, and a NaN operand suppresses the denormal flag. (C# comparisons and
    /// IsNaN would run UCOMIS on single operands and raise flags the guest's instruction does not.)
    /// </summary>
    static void Compare(CpuState c, ref Insn i)
    {
        var m = i.I.Mnemonic;
        bool single = m is Mnemonic.Ucomiss or Mnemonic.Comiss;
        bool signalling = m is Mnemonic.Comiss or Mnemonic.Comisd;
        var a = Xmm(c, i.I.Op0Register);
        var b = Source(c, ref i, single ? 32 : 64);
        // One call per kind: the JIT may evaluate both arms of a conditional of intrinsics it takes for pure
        // (if-conversion), and a COMIS run for a UCOMIS would raise the invalid flag on a quiet NaN.
        ulong f = single
            ? signalling ? OrderedSingle(a.AsSingle(), b.AsSingle()) : UnorderedSingle(a.AsSingle(), b.AsSingle())
            : signalling ? OrderedDouble(a.AsDouble(), b.AsDouble()) : UnorderedDouble(a.AsDouble(), b.AsDouble());
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~Rf.Arith) | f;
    }

    static ulong CompareFlags(bool equal, bool less, bool greater) =>
        !equal && !less && !greater ? Rf.ZF | Rf.PF | Rf.CF : less ? Rf.CF : equal ? Rf.ZF : 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static ulong OrderedSingle(in Vector128<float> x, in Vector128<float> y) =>
        CompareFlags(Sse.CompareScalarOrderedEqual(x, y), Sse.CompareScalarOrderedLessThan(x, y), Sse.CompareScalarOrderedGreaterThan(x, y));

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static ulong UnorderedSingle(in Vector128<float> x, in Vector128<float> y) =>
        CompareFlags(Sse.CompareScalarUnorderedEqual(x, y), Sse.CompareScalarUnorderedLessThan(x, y), Sse.CompareScalarUnorderedGreaterThan(x, y));

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static ulong OrderedDouble(in Vector128<double> x, in Vector128<double> y) =>
        CompareFlags(Sse2.CompareScalarOrderedEqual(x, y), Sse2.CompareScalarOrderedLessThan(x, y), Sse2.CompareScalarOrderedGreaterThan(x, y));

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static ulong UnorderedDouble(in Vector128<double> x, in Vector128<double> y) =>
        CompareFlags(Sse2.CompareScalarUnorderedEqual(x, y), Sse2.CompareScalarUnorderedLessThan(x, y), Sse2.CompareScalarUnorderedGreaterThan(x, y));

    /// <summary>CMPPS/PD/SS/SD with predicates 0..7 (EQ LT LE UNORD NEQ NLT NLE ORD), as the host instruction.</summary>
    static void CmpPredicate(CpuState c, ref Insn i)
    {
        var m = i.I.Mnemonic;
        if (m == Mnemonic.Cmpsd && i.I.Code == Code.Cmpsd_m32_m32)
        {
            InstString.Cmps(c, ref i);
            return;
        }
        ref var d = ref Xmm(c, i.I.Op0Register);
        int pred = i.I.Immediate8 & 7;
        d = m switch
        {
            Mnemonic.Cmpss => ScalarSingle(d.AsSingle(), Source(c, ref i, 32).AsSingle(), pred).AsByte(),
            Mnemonic.Cmpsd => ScalarDouble(d.AsDouble(), Source(c, ref i, 64).AsDouble(), pred).AsByte(),
            Mnemonic.Cmpps => PackedSingle(d.AsSingle(), Source(c, ref i, 0).AsSingle(), pred).AsByte(),
            _ => PackedDouble(d.AsDouble(), Source(c, ref i, 0).AsDouble(), pred).AsByte(),
        };
    }

    static Vector128<float> ScalarSingle(in Vector128<float> a, in Vector128<float> b, int p) => p switch
    {
        0 => Sse.CompareScalarEqual(a, b),
        1 => Sse.CompareScalarLessThan(a, b),
        2 => Sse.CompareScalarLessThanOrEqual(a, b),
        3 => Sse.CompareScalarUnordered(a, b),
        4 => Sse.CompareScalarNotEqual(a, b),
        5 => Sse.CompareScalarNotLessThan(a, b),
        6 => Sse.CompareScalarNotLessThanOrEqual(a, b),
        _ => Sse.CompareScalarOrdered(a, b),
    };

    static Vector128<double> ScalarDouble(in Vector128<double> a, in Vector128<double> b, int p) => p switch
    {
        0 => Sse2.CompareScalarEqual(a, b),
        1 => Sse2.CompareScalarLessThan(a, b),
        2 => Sse2.CompareScalarLessThanOrEqual(a, b),
        3 => Sse2.CompareScalarUnordered(a, b),
        4 => Sse2.CompareScalarNotEqual(a, b),
        5 => Sse2.CompareScalarNotLessThan(a, b),
        6 => Sse2.CompareScalarNotLessThanOrEqual(a, b),
        _ => Sse2.CompareScalarOrdered(a, b),
    };

    static Vector128<float> PackedSingle(in Vector128<float> a, in Vector128<float> b, int p) => p switch
    {
        0 => Sse.CompareEqual(a, b),
        1 => Sse.CompareLessThan(a, b),
        2 => Sse.CompareLessThanOrEqual(a, b),
        3 => Sse.CompareUnordered(a, b),
        4 => Sse.CompareNotEqual(a, b),
        5 => Sse.CompareNotLessThan(a, b),
        6 => Sse.CompareNotLessThanOrEqual(a, b),
        _ => Sse.CompareOrdered(a, b),
    };

    static Vector128<double> PackedDouble(in Vector128<double> a, in Vector128<double> b, int p) => p switch
    {
        0 => Sse2.CompareEqual(a, b),
        1 => Sse2.CompareLessThan(a, b),
        2 => Sse2.CompareLessThanOrEqual(a, b),
        3 => Sse2.CompareUnordered(a, b),
        4 => Sse2.CompareNotEqual(a, b),
        5 => Sse2.CompareNotLessThan(a, b),
        6 => Sse2.CompareNotLessThanOrEqual(a, b),
        _ => Sse2.CompareOrdered(a, b),
    };
}
