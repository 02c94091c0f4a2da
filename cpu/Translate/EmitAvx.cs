using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// VEX-encoded moves and integer/bitwise vector operations (the instructions of glibc's AVX2 string and memory
/// routines): VEX.128 and VEX.256 forms. A 256-bit operation runs as two host 128-bit operations on the halves,
/// the low half in <c>CpuState.Xmm</c> and the high in <c>CpuState.YmmHigh</c>; a VEX.128 write zeroes the high
/// half. Every memory operand is read before any register is written, so a fault leaves the registers as they were.
/// </summary>
static class EmitAvx
{
    /// <summary>A lane-wise op: dst = Op(src1, src2) on Vector128 of <see cref="Element"/>.</summary>
    sealed record Binary(MethodInfo Op, Type Element);

    static readonly MnemonicMap<Binary> Binaries = BuildBinaries();

    static MethodInfo Intrinsic(Type owner, string name, Type element)
    {
        var v = typeof(Vector128<>).MakeGenericType(element);
        return owner.GetMethod(name, new[] { v, v }) ?? throw new MissingMethodException(owner.Name, name);
    }

    static MnemonicMap<Binary> BuildBinaries()
    {
        var t = new MnemonicMap<Binary>();
        void Add(Mnemonic m, Type owner, string name, Type element) => t[m] = new Binary(Intrinsic(owner, name, element), element);
        foreach (var m in new[] { Mnemonic.Vpxor, Mnemonic.Vxorps, Mnemonic.Vxorpd }) Add(m, typeof(Sse2), "Xor", typeof(byte));
        foreach (var m in new[] { Mnemonic.Vpand, Mnemonic.Vandps, Mnemonic.Vandpd }) Add(m, typeof(Sse2), "And", typeof(byte));
        foreach (var m in new[] { Mnemonic.Vpor, Mnemonic.Vorps, Mnemonic.Vorpd }) Add(m, typeof(Sse2), "Or", typeof(byte));
        // VPANDN: NOT src1 AND src2, as Sse2.AndNot(left, right) computes.
        foreach (var m in new[] { Mnemonic.Vpandn, Mnemonic.Vandnps, Mnemonic.Vandnpd }) Add(m, typeof(Sse2), "AndNot", typeof(byte));
        Add(Mnemonic.Vpaddb, typeof(Sse2), "Add", typeof(byte));
        Add(Mnemonic.Vpaddw, typeof(Sse2), "Add", typeof(ushort));
        Add(Mnemonic.Vpaddd, typeof(Sse2), "Add", typeof(uint));
        Add(Mnemonic.Vpaddq, typeof(Sse2), "Add", typeof(ulong));
        Add(Mnemonic.Vpsubb, typeof(Sse2), "Subtract", typeof(byte));
        Add(Mnemonic.Vpsubw, typeof(Sse2), "Subtract", typeof(ushort));
        Add(Mnemonic.Vpsubd, typeof(Sse2), "Subtract", typeof(uint));
        Add(Mnemonic.Vpsubq, typeof(Sse2), "Subtract", typeof(ulong));
        Add(Mnemonic.Vpcmpeqb, typeof(Sse2), "CompareEqual", typeof(byte));
        Add(Mnemonic.Vpcmpeqw, typeof(Sse2), "CompareEqual", typeof(ushort));
        Add(Mnemonic.Vpcmpeqd, typeof(Sse2), "CompareEqual", typeof(uint));
        Add(Mnemonic.Vpcmpeqq, typeof(Sse41), "CompareEqual", typeof(ulong));
        Add(Mnemonic.Vpcmpgtb, typeof(Sse2), "CompareGreaterThan", typeof(sbyte));
        Add(Mnemonic.Vpcmpgtw, typeof(Sse2), "CompareGreaterThan", typeof(short));
        Add(Mnemonic.Vpcmpgtd, typeof(Sse2), "CompareGreaterThan", typeof(int));
        Add(Mnemonic.Vpcmpgtq, typeof(Sse42), "CompareGreaterThan", typeof(long));
        Add(Mnemonic.Vpminub, typeof(Sse2), "Min", typeof(byte));
        Add(Mnemonic.Vpmaxub, typeof(Sse2), "Max", typeof(byte));
        Add(Mnemonic.Vpminsw, typeof(Sse2), "Min", typeof(short));
        Add(Mnemonic.Vpmaxsw, typeof(Sse2), "Max", typeof(short));
        Add(Mnemonic.Vpminsb, typeof(Sse41), "Min", typeof(sbyte));
        Add(Mnemonic.Vpmaxsb, typeof(Sse41), "Max", typeof(sbyte));
        Add(Mnemonic.Vpminuw, typeof(Sse41), "Min", typeof(ushort));
        Add(Mnemonic.Vpmaxuw, typeof(Sse41), "Max", typeof(ushort));
        Add(Mnemonic.Vpminud, typeof(Sse41), "Min", typeof(uint));
        Add(Mnemonic.Vpmaxud, typeof(Sse41), "Max", typeof(uint));
        Add(Mnemonic.Vpminsd, typeof(Sse41), "Min", typeof(int));
        Add(Mnemonic.Vpmaxsd, typeof(Sse41), "Max", typeof(int));
        Add(Mnemonic.Vpunpcklbw, typeof(Sse2), "UnpackLow", typeof(byte));
        Add(Mnemonic.Vpunpckhbw, typeof(Sse2), "UnpackHigh", typeof(byte));
        Add(Mnemonic.Vpunpcklwd, typeof(Sse2), "UnpackLow", typeof(ushort));
        Add(Mnemonic.Vpunpckhwd, typeof(Sse2), "UnpackHigh", typeof(ushort));
        Add(Mnemonic.Vpunpckldq, typeof(Sse2), "UnpackLow", typeof(uint));
        Add(Mnemonic.Vpunpckhdq, typeof(Sse2), "UnpackHigh", typeof(uint));
        Add(Mnemonic.Vpunpcklqdq, typeof(Sse2), "UnpackLow", typeof(ulong));
        Add(Mnemonic.Vpunpckhqdq, typeof(Sse2), "UnpackHigh", typeof(ulong));
        Add(Mnemonic.Vpshufb, typeof(Ssse3), "Shuffle", typeof(byte));
        return t;
    }

    /// <summary>Ops of one vector and an 8-bit immediate: the shifts by a constant and PSHUFD, lane by lane.</summary>
    static readonly MnemonicMap<Binary> WithImmediate = BuildWithImmediate();

    static MnemonicMap<Binary> BuildWithImmediate()
    {
        var t = new MnemonicMap<Binary>();
        void Add(Mnemonic m, Type owner, string name, Type element)
        {
            var v = typeof(Vector128<>).MakeGenericType(element);
            t[m] = new Binary(owner.GetMethod(name, new[] { v, typeof(byte) }) ?? throw new MissingMethodException(owner.Name, name), element);
        }
        Add(Mnemonic.Vpsrlw, typeof(Sse2), "ShiftRightLogical", typeof(ushort));
        Add(Mnemonic.Vpsrld, typeof(Sse2), "ShiftRightLogical", typeof(uint));
        Add(Mnemonic.Vpsrlq, typeof(Sse2), "ShiftRightLogical", typeof(ulong));
        Add(Mnemonic.Vpsllw, typeof(Sse2), "ShiftLeftLogical", typeof(ushort));
        Add(Mnemonic.Vpslld, typeof(Sse2), "ShiftLeftLogical", typeof(uint));
        Add(Mnemonic.Vpsllq, typeof(Sse2), "ShiftLeftLogical", typeof(ulong));
        Add(Mnemonic.Vpsraw, typeof(Sse2), "ShiftRightArithmetic", typeof(short));
        Add(Mnemonic.Vpsrad, typeof(Sse2), "ShiftRightArithmetic", typeof(int));
        // Whole-lane byte shifts; a count above 15 clears the lane, in the host instruction too.
        Add(Mnemonic.Vpslldq, typeof(Sse2), "ShiftLeftLogical128BitLane", typeof(byte));
        Add(Mnemonic.Vpsrldq, typeof(Sse2), "ShiftRightLogical128BitLane", typeof(byte));
        Add(Mnemonic.Vpshufd, typeof(Sse2), "Shuffle", typeof(uint));
        return t;
    }

    static readonly MethodInfo MoveMask = typeof(Sse2).GetMethod(nameof(Sse2.MoveMask), new[] { typeof(Vector128<byte>) })!;
    static readonly Type V = typeof(Vector128<byte>);

    internal static bool TryEmit(RegionEmitter e, in Insn i)
    {
        switch (i.I.Mnemonic)
        {
            case Mnemonic.Vmovdqu or Mnemonic.Vmovups or Mnemonic.Vmovupd:
                return Move(e, i, aligned: false);
            case Mnemonic.Vmovdqa or Mnemonic.Vmovaps or Mnemonic.Vmovapd:
                return Move(e, i, aligned: true);
            case Mnemonic.Vmovntdq or Mnemonic.Vmovntps or Mnemonic.Vmovntpd:
                // The non-temporal hint means nothing to the ExCache: an aligned store.
                return i.I.Op0Kind == OpKind.Memory && Move(e, i, aligned: true);
            case Mnemonic.Vpmovmskb:
                return Pmovmskb(e, i);
            case Mnemonic.Vmovd or Mnemonic.Vmovq:
                return EmitSse.MovdMovq(e, i, vex: true);
            case Mnemonic.Vzeroupper:
                ZeroUpper(e, all: false);
                return true;
            case Mnemonic.Vzeroall:
                ZeroUpper(e, all: true);
                return true;
            case Mnemonic.Vpbroadcastb or Mnemonic.Vpbroadcastw or Mnemonic.Vpbroadcastd or Mnemonic.Vpbroadcastq:
                return Broadcast(e, i);
            case Mnemonic.Vpalignr:
                // Each half of src1:src2 shifted right by imm8 bytes, the low half kept.
                return BinaryOp(e, i, AlignRightOp, withImmediate: true);
        }
        if (WithImmediate.TryGetValue(i.I.Mnemonic, out var unary)) return ImmediateOp(e, i, unary);
        return Binaries.TryGetValue(i.I.Mnemonic, out var op) && BinaryOp(e, i, op);
    }

    static bool IsYmm(Register r) => r >= Register.YMM0 && r <= Register.YMM15;
    static int Index(Register r) => IsYmm(r) ? r - Register.YMM0 : r - Register.XMM0;

    static bool VectorRegister(in Insn i, int n) =>
        i.I.GetOpKind(n) == OpKind.Register && (EmitSse.IsXmm(i.I.GetOpRegister(n)) || IsYmm(i.I.GetOpRegister(n)));

    static bool VectorOrMemory(in Insn i, int n) => i.I.GetOpKind(n) == OpKind.Memory || VectorRegister(i, n);

    /// <summary>
    /// Reads operand <paramref name="n"/> into <paramref name="lo"/> (and <paramref name="hi"/> when
    /// <paramref name="wide"/>). A 32-byte memory operand is left to the interpreter when the policy sees every hit.
    /// </summary>
    static bool ReadOperand(RegionEmitter e, in Insn i, int n, bool wide, bool aligned, LocalBuilder lo, LocalBuilder? hi)
    {
        var il = e.Il;
        if (i.I.GetOpKind(n) == OpKind.Register)
        {
            int k = Index(i.I.GetOpRegister(n));
            e.XmmAddress(k);
            il.Emit(OpCodes.Ldobj, V);
            il.Emit(OpCodes.Stloc, lo);
            if (wide)
            {
                e.YmmHighAddress(k);
                il.Emit(OpCodes.Ldobj, V);
                il.Emit(OpCodes.Stloc, hi!);
            }
            return true;
        }
        var a = e.Tmp();
        e.EmitEa(i);
        il.Emit(OpCodes.Stloc, a);
        if (aligned) LeaveUnlessAligned(e, a, wide ? 31 : 15);
        if (wide) e.Load256(a, lo, hi!);
        else e.Load128(a, lo);
        return true;
    }

    /// <summary>A misaligned address leaves the region at the instruction; the interpreter raises the #GP.</summary>
    static void LeaveUnlessAligned(RegionEmitter e, LocalBuilder a, long mask)
    {
        e.Il.Emit(OpCodes.Ldloc, a);
        e.Il.Ldc8(mask);
        e.Il.Emit(OpCodes.And);
        e.Il.Ldc8(0L);
        e.Il.Emit(OpCodes.Bne_Un, e.LeaveAtInstruction());
    }

    /// <summary>Writes register <paramref name="r"/>: the low half, and the high half or zero for a VEX.128 destination.</summary>
    static void WriteRegister(RegionEmitter e, Register r, LocalBuilder lo, LocalBuilder? hi)
    {
        var il = e.Il;
        int k = Index(r);
        e.XmmAddress(k);
        il.Emit(OpCodes.Ldloc, lo);
        il.Emit(OpCodes.Stobj, V);
        e.YmmHighAddress(k);
        if (IsYmm(r))
        {
            il.Emit(OpCodes.Ldloc, hi!);
            il.Emit(OpCodes.Stobj, V);
        }
        else il.Emit(OpCodes.Initobj, V);
    }

    static bool Move(RegionEmitter e, in Insn i, bool aligned)
    {
        if (i.I.OpCount != 2 || !VectorOrMemory(i, 0) || !VectorOrMemory(i, 1)) return false;
        bool wide = IsYmm(i.I.Op0Kind == OpKind.Register ? i.I.Op0Register : i.I.Op1Register);
        if (wide && e.TouchesOnHit && (i.I.Op0Kind == OpKind.Memory || i.I.Op1Kind == OpKind.Memory)) return false;
        var lo = e.TmpVec();
        var hi = wide ? e.TmpVec() : null;
        if (i.I.Op0Kind == OpKind.Register)
        {
            ReadOperand(e, i, 1, wide, aligned, lo, hi);
            WriteRegister(e, i.I.Op0Register, lo, hi);
            return true;
        }
        ReadOperand(e, i, 1, wide, aligned: false, lo, hi);
        var a = e.Tmp();
        e.EmitEa(i);
        e.Il.Emit(OpCodes.Stloc, a);
        if (aligned) LeaveUnlessAligned(e, a, wide ? 31 : 15);
        if (wide) e.Store256(a, lo, hi!);
        else e.Store128(a, lo);
        return true;
    }

    /// <summary>dst = Op(src1, src2) on each 128-bit half, with the instruction's imm8 as a third argument when <paramref name="withImmediate"/>.</summary>
    static bool BinaryOp(RegionEmitter e, in Insn i, Binary op, bool withImmediate = false)
    {
        if (i.I.OpCount != (withImmediate ? 4 : 3) || !VectorRegister(i, 0) || !VectorRegister(i, 1) || !VectorOrMemory(i, 2)) return false;
        if (withImmediate && i.I.Op3Kind != OpKind.Immediate8) return false;
        bool wide = IsYmm(i.I.Op0Register);
        if (wide && e.TouchesOnHit && i.I.Op2Kind == OpKind.Memory) return false;
        var il = e.Il;
        var vt = typeof(Vector128<>).MakeGenericType(op.Element);
        var srcLo = e.TmpVec();
        var srcHi = wide ? e.TmpVec() : null;
        // The memory operand first: if it faults, no register has changed.
        ReadOperand(e, i, 2, wide, aligned: false, srcLo, srcHi);
        // Each half is computed straight into the destination: the sources are in locals or in the other half.
        int s1 = Index(i.I.Op1Register), d = Index(i.I.Op0Register);
        e.XmmAddress(d);
        e.XmmAddress(s1);
        il.Emit(OpCodes.Ldobj, vt);
        il.Emit(OpCodes.Ldloca, srcLo);
        il.Emit(OpCodes.Ldobj, vt);
        if (withImmediate) il.Ldc4((int)i.I.Immediate8);
        il.Emit(OpCodes.Call, op.Op);
        il.Emit(OpCodes.Stobj, vt);
        e.YmmHighAddress(d);
        if (wide)
        {
            e.YmmHighAddress(s1);
            il.Emit(OpCodes.Ldobj, vt);
            il.Emit(OpCodes.Ldloca, srcHi!);
            il.Emit(OpCodes.Ldobj, vt);
            if (withImmediate) il.Ldc4((int)i.I.Immediate8);
            il.Emit(OpCodes.Call, op.Op);
            il.Emit(OpCodes.Stobj, vt);
        }
        else il.Emit(OpCodes.Initobj, V);
        return true;
    }

    /// <summary>dst = Op(src, imm8) on each 128-bit half (the shifts by an immediate count, VPSHUFD).</summary>
    static bool ImmediateOp(RegionEmitter e, in Insn i, Binary op)
    {
        if (i.I.OpCount != 3 || !VectorRegister(i, 0) || !VectorOrMemory(i, 1) || i.I.Op2Kind != OpKind.Immediate8) return false;
        bool wide = IsYmm(i.I.Op0Register);
        if (wide && e.TouchesOnHit && i.I.Op1Kind == OpKind.Memory) return false;
        var il = e.Il;
        var vt = typeof(Vector128<>).MakeGenericType(op.Element);
        var srcLo = e.TmpVec();
        var srcHi = wide ? e.TmpVec() : null;
        ReadOperand(e, i, 1, wide, aligned: false, srcLo, srcHi);
        int d = Index(i.I.Op0Register);
        e.XmmAddress(d);
        il.Emit(OpCodes.Ldloca, srcLo);
        il.Emit(OpCodes.Ldobj, vt);
        il.Ldc4((int)i.I.Immediate8);
        il.Emit(OpCodes.Call, op.Op);
        il.Emit(OpCodes.Stobj, vt);
        e.YmmHighAddress(d);
        if (wide)
        {
            il.Emit(OpCodes.Ldloca, srcHi!);
            il.Emit(OpCodes.Ldobj, vt);
            il.Ldc4((int)i.I.Immediate8);
            il.Emit(OpCodes.Call, op.Op);
            il.Emit(OpCodes.Stobj, vt);
        }
        else il.Emit(OpCodes.Initobj, V);
        return true;
    }

    static readonly Binary AlignRightOp = new(typeof(Ssse3).GetMethod(nameof(Ssse3.AlignRight),
        new[] { typeof(Vector128<byte>), typeof(Vector128<byte>), typeof(byte) })!, typeof(byte));

    /// <summary>VPMOVMSKB r32/r64, xmm/ymm: the bytes' sign bits, the high half's as bits 16-31; the rest of the GPR zero.</summary>
    static bool Pmovmskb(RegionEmitter e, in Insn i)
    {
        if (i.I.Op0Kind != OpKind.Register || !RegionEmitter.IsGpr(i.I.Op0Register) || !VectorRegister(i, 1)) return false;
        var il = e.Il;
        var src = i.I.Op1Register;
        int k = Index(src);
        e.XmmAddress(k);
        il.Emit(OpCodes.Ldobj, V);
        il.Emit(OpCodes.Call, MoveMask);
        if (IsYmm(src))
        {
            e.YmmHighAddress(k);
            il.Emit(OpCodes.Ldobj, V);
            il.Emit(OpCodes.Call, MoveMask);
            il.Ldc4(16);
            il.Emit(OpCodes.Shl);
            il.Emit(OpCodes.Or);
        }
        il.Emit(OpCodes.Conv_U4);
        il.Emit(OpCodes.Conv_U8);
        e.StoreGpr(i.I.Op0Register);
        return true;
    }

    /// <summary>VZEROUPPER clears the high halves of all sixteen registers; VZEROALL the whole registers.</summary>
    static void ZeroUpper(RegionEmitter e, bool all)
    {
        for (int k = 0; k < 16; k++)
        {
            e.YmmHighAddress(k);
            e.Il.Emit(OpCodes.Initobj, V);
            if (!all) continue;
            e.XmmAddress(k);
            e.Il.Emit(OpCodes.Initobj, V);
        }
    }

    static readonly MethodInfo BroadcastByte = Broadcaster(typeof(byte));
    static readonly MethodInfo BroadcastWord = Broadcaster(typeof(ushort));
    static readonly MethodInfo BroadcastDword = Broadcaster(typeof(uint));
    static readonly MethodInfo BroadcastQword = Broadcaster(typeof(ulong));

    static MethodInfo Broadcaster(Type element) =>
        typeof(Avx2).GetMethod(nameof(Avx2.BroadcastScalarToVector128), new[] { typeof(Vector128<>).MakeGenericType(element) })
        ?? throw new MissingMethodException(nameof(Avx2), nameof(Avx2.BroadcastScalarToVector128));

    /// <summary>VPBROADCASTB/W/D/Q from the low element of an XMM register or from memory, to every element of both halves.</summary>
    static bool Broadcast(RegionEmitter e, in Insn i)
    {
        if (i.I.OpCount != 2 || !VectorRegister(i, 0) || !VectorOrMemory(i, 1) || !Avx2.IsSupported) return false;
        var (method, element, bits) = i.I.Mnemonic switch
        {
            Mnemonic.Vpbroadcastb => (BroadcastByte, typeof(byte), 8),
            Mnemonic.Vpbroadcastw => (BroadcastWord, typeof(ushort), 16),
            Mnemonic.Vpbroadcastd => (BroadcastDword, typeof(uint), 32),
            _ => (BroadcastQword, typeof(ulong), 64),
        };
        var il = e.Il;
        var vt = typeof(Vector128<>).MakeGenericType(element);
        var src = e.TmpVec();
        if (i.I.Op1Kind == OpKind.Memory)
        {
            // One read of the element's size, as the interpreter makes it.
            var a = e.Tmp();
            e.EmitEa(i);
            il.Emit(OpCodes.Stloc, a);
            e.Load(bits, a);
            il.Emit(OpCodes.Call, typeof(Vector128).GetMethod(nameof(Vector128.CreateScalar), new[] { typeof(ulong) })!);
            il.Emit(OpCodes.Stloc, e.TmpOf(typeof(Vector128<ulong>)));
            il.Emit(OpCodes.Ldloca, e.TmpOf(typeof(Vector128<ulong>)));
            il.Emit(OpCodes.Ldobj, V);
            il.Emit(OpCodes.Stloc, src);
        }
        else
        {
            e.XmmAddress(Index(i.I.Op1Register));
            il.Emit(OpCodes.Ldobj, V);
            il.Emit(OpCodes.Stloc, src);
        }
        var res = e.TmpVec();
        il.Emit(OpCodes.Ldloca, src);
        il.Emit(OpCodes.Ldobj, vt);
        il.Emit(OpCodes.Call, method);
        il.Emit(OpCodes.Stloc, e.TmpOf(vt));
        il.Emit(OpCodes.Ldloca, e.TmpOf(vt));
        il.Emit(OpCodes.Ldobj, V);
        il.Emit(OpCodes.Stloc, res);
        WriteRegister(e, i.I.Op0Register, res, res);
        return true;
    }
}
