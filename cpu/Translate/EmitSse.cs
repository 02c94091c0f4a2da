using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// SSE2 moves and the integer and bitwise operations on XMM registers (no MXCSR involved): each becomes
/// the host's own instruction through a .NET intrinsic. XMM registers stay in the CPU state; a legacy
/// m128 operand must be 16-byte aligned (#GP otherwise), as in the interpreter.
/// </summary>
static class EmitSse
{
    /// <summary>A two-operand op: dst = Op(dst, src) on Vector128 of <see cref="Element"/>.</summary>
    sealed record Binary(MethodInfo Op, Type Element);

    static readonly MnemonicMap<Binary> Binaries = BuildBinaries();

    static MethodInfo Intrinsic(Type owner, string name, Type element, int args = 2)
    {
        var v = typeof(Vector128<>).MakeGenericType(element);
        var types = args == 2 ? new[] { v, v } : new[] { v, typeof(byte) };
        return owner.GetMethod(name, types) ?? throw new MissingMethodException(owner.Name, name);
    }

    static MnemonicMap<Binary> BuildBinaries()
    {
        var t = new MnemonicMap<Binary>();
        void Add(Mnemonic m, string name, Type element) => t[m] = new Binary(Intrinsic(typeof(Sse2), name, element), element);
        Add(Mnemonic.Pxor, "Xor", typeof(byte));
        Add(Mnemonic.Xorps, "Xor", typeof(byte));
        Add(Mnemonic.Xorpd, "Xor", typeof(byte));
        Add(Mnemonic.Pand, "And", typeof(byte));
        Add(Mnemonic.Andps, "And", typeof(byte));
        Add(Mnemonic.Andpd, "And", typeof(byte));
        Add(Mnemonic.Por, "Or", typeof(byte));
        Add(Mnemonic.Orps, "Or", typeof(byte));
        Add(Mnemonic.Orpd, "Or", typeof(byte));
        Add(Mnemonic.Pandn, "AndNot", typeof(byte));
        Add(Mnemonic.Andnps, "AndNot", typeof(byte));
        Add(Mnemonic.Andnpd, "AndNot", typeof(byte));
        Add(Mnemonic.Paddb, "Add", typeof(byte));
        Add(Mnemonic.Paddw, "Add", typeof(ushort));
        Add(Mnemonic.Paddd, "Add", typeof(uint));
        Add(Mnemonic.Paddq, "Add", typeof(ulong));
        Add(Mnemonic.Psubb, "Subtract", typeof(byte));
        Add(Mnemonic.Psubw, "Subtract", typeof(ushort));
        Add(Mnemonic.Psubd, "Subtract", typeof(uint));
        Add(Mnemonic.Psubq, "Subtract", typeof(ulong));
        Add(Mnemonic.Pcmpeqb, "CompareEqual", typeof(byte));
        Add(Mnemonic.Pcmpeqw, "CompareEqual", typeof(ushort));
        Add(Mnemonic.Pcmpeqd, "CompareEqual", typeof(uint));
        Add(Mnemonic.Pcmpgtb, "CompareGreaterThan", typeof(sbyte));
        Add(Mnemonic.Pcmpgtw, "CompareGreaterThan", typeof(short));
        Add(Mnemonic.Pcmpgtd, "CompareGreaterThan", typeof(int));
        Add(Mnemonic.Pminub, "Min", typeof(byte));
        Add(Mnemonic.Pmaxub, "Max", typeof(byte));
        Add(Mnemonic.Pminsw, "Min", typeof(short));
        Add(Mnemonic.Pmaxsw, "Max", typeof(short));
        Add(Mnemonic.Punpcklbw, "UnpackLow", typeof(byte));
        Add(Mnemonic.Punpckhbw, "UnpackHigh", typeof(byte));
        Add(Mnemonic.Punpcklwd, "UnpackLow", typeof(ushort));
        Add(Mnemonic.Punpckhwd, "UnpackHigh", typeof(ushort));
        Add(Mnemonic.Punpckldq, "UnpackLow", typeof(uint));
        Add(Mnemonic.Punpckhdq, "UnpackHigh", typeof(uint));
        Add(Mnemonic.Punpcklqdq, "UnpackLow", typeof(ulong));
        Add(Mnemonic.Punpckhqdq, "UnpackHigh", typeof(ulong));
        return t;
    }

    static readonly MethodInfo MoveMask = typeof(Sse2).GetMethod(nameof(Sse2.MoveMask), new[] { typeof(Vector128<byte>) })!;

    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        var m = i.I.Mnemonic;
        switch (m)
        {
            case Mnemonic.Movdqu or Mnemonic.Movups or Mnemonic.Movupd:
                return FullMove(e, i, aligned: false);
            case Mnemonic.Movdqa or Mnemonic.Movaps or Mnemonic.Movapd:
                return FullMove(e, i, aligned: true);
            case Mnemonic.Movntps or Mnemonic.Movntpd or Mnemonic.Movntdq:
                // The non-temporal hint means nothing to the ExCache: an aligned 16-byte store (memset's large sizes).
                return i.I.Op0Kind == OpKind.Memory && FullMove(e, i, aligned: true);
            case Mnemonic.Movd or Mnemonic.Movq:
                return MovdMovq(e, i);
            case Mnemonic.Pmovmskb:
                return Pmovmskb(e, i);
            case Mnemonic.Psrlw or Mnemonic.Psrld or Mnemonic.Psrlq or Mnemonic.Psllw or Mnemonic.Pslld or Mnemonic.Psllq
                or Mnemonic.Psraw or Mnemonic.Psrad or Mnemonic.Pslldq or Mnemonic.Psrldq:
                return ShiftImmediate(e, i);
            case Mnemonic.Palignr:
                return Palignr(e, i);
            case Mnemonic.Pshufd:
                return Pshufd(e, i);
        }
        return Binaries.TryGetValue(m, out var op) && BinaryOp(e, i, op);
    }

    /// <summary>XMM0-XMM15 (the emitters of SSE, AVX and scalar SSE share it).</summary>
    internal static bool IsXmm(Register r) => r >= Register.XMM0 && r <= Register.XMM15;

    internal static bool XmmOrMemory(in Insn i, int n) =>
        i.I.GetOpKind(n) == OpKind.Memory || (i.I.GetOpKind(n) == OpKind.Register && IsXmm(i.I.GetOpRegister(n)));

    /// <summary>Pushes the address of XMM register <paramref name="r"/> in the CPU state.</summary>
    static void XmmAddress(RegionEmitter e, Register r) => e.XmmAddress(r - Register.XMM0);

    /// <summary>Pushes operand <paramref name="n"/> (XMM or m128) as a Vector128 of <paramref name="element"/>.</summary>
    static void LoadSource(RegionEmitter e, in Insn i, int n, Type element, bool aligned)
    {
        var vt = typeof(Vector128<>).MakeGenericType(element);
        if (i.I.GetOpKind(n) == OpKind.Register)
        {
            XmmAddress(e, i.I.GetOpRegister(n));
            e.Il.Emit(OpCodes.Ldobj, vt);
            return;
        }
        var a = e.Tmp();
        var v = e.TmpVec();
        e.EmitEa(i);
        e.Il.Emit(OpCodes.Stloc, a);
        if (aligned) e.CheckAligned16(a, store: false);
        e.Load128(a, v);
        e.Il.Emit(OpCodes.Ldloca, v);
        e.Il.Emit(OpCodes.Ldobj, vt);
    }

    static bool FullMove(RegionEmitter e, in Insn i, bool aligned)
    {
        if (i.I.OpCount != 2 || !XmmOrMemory(i, 0) || !XmmOrMemory(i, 1)) return false;
        if (i.I.Op0Kind == OpKind.Register)
        {
            var v = e.TmpVec();
            LoadSource(e, i, 1, typeof(byte), aligned);
            e.Il.Emit(OpCodes.Stloc, v);
            XmmAddress(e, i.I.Op0Register);
            e.Il.Emit(OpCodes.Ldloc, v);
            e.Il.Emit(OpCodes.Stobj, typeof(Vector128<byte>));
            return true;
        }
        var a = e.Tmp();
        var src = e.TmpVec();
        e.EmitEa(i);
        e.Il.Emit(OpCodes.Stloc, a);
        if (aligned) e.CheckAligned16(a, store: true);
        XmmAddress(e, i.I.Op1Register);
        e.Il.Emit(OpCodes.Ldobj, typeof(Vector128<byte>));
        e.Il.Emit(OpCodes.Stloc, src);
        e.Store128(a, src);
        return true;
    }

    /// <summary>
    /// MOVD/MOVQ, and their VEX forms (<paramref name="vex"/>), which also zero the upper half of the YMM register
    /// they write: into an XMM register from a GPR, memory or (MOVQ) another XMM register, the rest zeroed; or the
    /// low 32/64 bits of an XMM register out to a GPR or memory.
    /// </summary>
    internal static bool MovdMovq(RegionEmitter e, in Insn i, bool vex = false)
    {
        if (i.I.OpCount != 2) return false;
        bool q = i.I.Mnemonic is Mnemonic.Movq or Mnemonic.Vmovq;
        int bits = q ? 64 : 32;
        var il = e.Il;
        if (i.I.Op0Kind == OpKind.Register && IsXmm(i.I.Op0Register))
        {
            // xmm <- r/m32, r/m64 or the low quadword of an xmm: the rest of the register is zeroed.
            var v = e.Tmp();
            var k = i.I.Op1Kind;
            if (k == OpKind.Register && IsXmm(i.I.Op1Register))
            {
                if (!q) return false;
                XmmAddress(e, i.I.Op1Register);
                il.Emit(OpCodes.Ldind_I8);
            }
            else if (k == OpKind.Register && RegionEmitter.IsGpr(i.I.Op1Register)) e.LoadGpr(i.I.Op1Register);
            else if (k == OpKind.Memory)
            {
                var a = e.Tmp();
                e.EmitEa(i);
                il.Emit(OpCodes.Stloc, a);
                e.Load(bits, a);
            }
            else return false;
            if (!q)
            {
                il.Emit(OpCodes.Conv_U4);
                il.Emit(OpCodes.Conv_U8);
            }
            il.Emit(OpCodes.Stloc, v);
            e.SetXmmZeroExtended(i.I.Op0Register - Register.XMM0, v);
            if (vex)
            {
                e.YmmHighAddress(i.I.Op0Register - Register.XMM0);
                il.Emit(OpCodes.Initobj, typeof(Vector128<byte>));
            }
            return true;
        }
        if (i.I.Op1Kind != OpKind.Register || !IsXmm(i.I.Op1Register)) return false;
        var low = e.Tmp();
        XmmAddress(e, i.I.Op1Register);
        il.Emit(OpCodes.Ldind_I8);
        if (!q)
        {
            il.Emit(OpCodes.Conv_U4);
            il.Emit(OpCodes.Conv_U8);
        }
        il.Emit(OpCodes.Stloc, low);
        if (i.I.Op0Kind == OpKind.Register)
        {
            if (!RegionEmitter.IsGpr(i.I.Op0Register)) return false;
            il.Emit(OpCodes.Ldloc, low);
            e.StoreGpr(i.I.Op0Register);
            return true;
        }
        if (i.I.Op0Kind != OpKind.Memory) return false;
        var addr = e.Tmp();
        e.EmitEa(i);
        il.Emit(OpCodes.Stloc, addr);
        e.Store(bits, addr, low);
        return true;
    }

    static bool Pmovmskb(RegionEmitter e, in Insn i)
    {
        if (i.I.Op0Kind != OpKind.Register || !RegionEmitter.IsGpr(i.I.Op0Register)) return false;
        if (i.I.Op1Kind != OpKind.Register || !IsXmm(i.I.Op1Register)) return false;
        XmmAddress(e, i.I.Op1Register);
        e.Il.Emit(OpCodes.Ldobj, typeof(Vector128<byte>));
        e.Il.Emit(OpCodes.Call, MoveMask);
        e.Il.Emit(OpCodes.Conv_U4);
        e.Il.Emit(OpCodes.Conv_U8);
        e.StoreGpr(i.I.Op0Register);
        return true;
    }

    static bool ShiftImmediate(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 2 || i.I.Op0Kind != OpKind.Register || !IsXmm(i.I.Op0Register) || i.I.Op1Kind != OpKind.Immediate8) return false;
        var (name, element) = i.I.Mnemonic switch
        {
            Mnemonic.Psrlw => ("ShiftRightLogical", typeof(ushort)),
            Mnemonic.Psrld => ("ShiftRightLogical", typeof(uint)),
            Mnemonic.Psrlq => ("ShiftRightLogical", typeof(ulong)),
            Mnemonic.Psllw => ("ShiftLeftLogical", typeof(ushort)),
            Mnemonic.Pslld => ("ShiftLeftLogical", typeof(uint)),
            Mnemonic.Psllq => ("ShiftLeftLogical", typeof(ulong)),
            Mnemonic.Psraw => ("ShiftRightArithmetic", typeof(short)),
            // Whole-register byte shifts; a count above 15 clears the register, in the host instruction too.
            Mnemonic.Pslldq => ("ShiftLeftLogical128BitLane", typeof(byte)),
            Mnemonic.Psrldq => ("ShiftRightLogical128BitLane", typeof(byte)),
            _ => ("ShiftRightArithmetic", typeof(int)),
        };
        var vt = typeof(Vector128<>).MakeGenericType(element);
        XmmAddress(e, i.I.Op0Register);
        e.Il.Emit(OpCodes.Ldobj, vt);
        e.Il.Ldc4((int)i.I.Immediate8);
        e.Il.Emit(OpCodes.Call, Intrinsic(typeof(Sse2), name, element, 1));
        StoreResult(e, i.I.Op0Register, vt);
        return true;
    }

    static bool Pshufd(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 3 || i.I.Op0Kind != OpKind.Register || !IsXmm(i.I.Op0Register) || !XmmOrMemory(i, 1)) return false;
        LoadSource(e, i, 1, typeof(uint), aligned: true);
        e.Il.Ldc4((int)i.I.Immediate8);
        e.Il.Emit(OpCodes.Call, Intrinsic(typeof(Sse2), "Shuffle", typeof(uint), 1));
        StoreResult(e, i.I.Op0Register, typeof(Vector128<uint>));
        return true;
    }

    static bool BinaryOp(RegionEmitter e, in Insn i, Binary op)
    {
        if (i.I.OpCount != 2 || i.I.Op0Kind != OpKind.Register || !IsXmm(i.I.Op0Register) || !XmmOrMemory(i, 1)) return false;
        var vt = typeof(Vector128<>).MakeGenericType(op.Element);
        var src = e.TmpVec();
        // The source first: it may fault, and then the destination is untouched.
        LoadSource(e, i, 1, typeof(byte), aligned: true);
        e.Il.Emit(OpCodes.Stloc, src);
        XmmAddress(e, i.I.Op0Register);
        e.Il.Emit(OpCodes.Ldobj, vt);
        e.Il.Emit(OpCodes.Ldloca, src);
        e.Il.Emit(OpCodes.Ldobj, vt);
        e.Il.Emit(OpCodes.Call, op.Op);
        StoreResult(e, i.I.Op0Register, vt);
        return true;
    }

    static readonly MethodInfo AlignRight = typeof(Ssse3).GetMethod(nameof(Ssse3.AlignRight),
        new[] { typeof(Vector128<byte>), typeof(Vector128<byte>), typeof(byte) })!;

    /// <summary>PALIGNR: the pair dst:src shifted right by a constant number of bytes; the low half is kept.</summary>
    static bool Palignr(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 3 || i.I.Op0Kind != OpKind.Register || !IsXmm(i.I.Op0Register) || !XmmOrMemory(i, 1)
            || i.I.Op2Kind != OpKind.Immediate8)
            return false;
        var vt = typeof(Vector128<byte>);
        var src = e.TmpVec();
        LoadSource(e, i, 1, typeof(byte), aligned: true);
        e.Il.Emit(OpCodes.Stloc, src);
        XmmAddress(e, i.I.Op0Register);
        e.Il.Emit(OpCodes.Ldobj, vt);
        e.Il.Emit(OpCodes.Ldloc, src);
        e.Il.Ldc4((int)i.I.Immediate8);
        e.Il.Emit(OpCodes.Call, AlignRight);
        StoreResult(e, i.I.Op0Register, vt);
        return true;
    }

    /// <summary>Pops a Vector128 of type <paramref name="vt"/> into XMM register <paramref name="r"/>.</summary>
    static void StoreResult(RegionEmitter e, Register r, Type vt)
    {
        var local = e.TmpOf(vt);
        e.Il.Emit(OpCodes.Stloc, local);
        XmmAddress(e, r);
        e.Il.Emit(OpCodes.Ldloc, local);
        e.Il.Emit(OpCodes.Stobj, vt);
    }
}
