using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// SSE4.2: PCMPGTQ, CRC32 (the host's own instructions) and the four string compares
/// PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM. .NET exposes no intrinsic for the latter, so they are
/// computed here per the SDM (Vol. 2, 4.1): element validity from explicit (RAX/RDX) or implicit
/// (NUL-terminated) lengths, the aggregation of imm[3:2], the polarity of imm[5:4], then an index
/// in ECX or a mask in XMM0, with CF ZF SF OF defined and AF PF cleared. Their m128 operand has no
/// alignment requirement.
/// </summary>
static unsafe class InstSse42
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Pcmpgtq, &Pcmpgtq);
        HandlerTable.Set(Mnemonic.Crc32, &Crc32);
        HandlerTable.Set(Mnemonic.Pcmpestri, &StringCompare);
        HandlerTable.Set(Mnemonic.Pcmpestri64, &StringCompare);
        HandlerTable.Set(Mnemonic.Pcmpestrm, &StringCompare);
        HandlerTable.Set(Mnemonic.Pcmpestrm64, &StringCompare);
        HandlerTable.Set(Mnemonic.Pcmpistri, &StringCompare);
        HandlerTable.Set(Mnemonic.Pcmpistrm, &StringCompare);
        // The VEX.128 forms compute the same; a mask result also zeroes YMM0's upper half.
        foreach (var m in new[] { Mnemonic.Vpcmpestri, Mnemonic.Vpcmpestri64, Mnemonic.Vpcmpestrm, Mnemonic.Vpcmpestrm64, Mnemonic.Vpcmpistri, Mnemonic.Vpcmpistrm })
            HandlerTable.Set(m, &StringCompare);
    }

    /// <summary>The legacy mnemonic of a VEX string compare.</summary>
    static Mnemonic Legacy(Mnemonic m) => m switch
    {
        Mnemonic.Vpcmpestri => Mnemonic.Pcmpestri,
        Mnemonic.Vpcmpestri64 => Mnemonic.Pcmpestri64,
        Mnemonic.Vpcmpestrm => Mnemonic.Pcmpestrm,
        Mnemonic.Vpcmpestrm64 => Mnemonic.Pcmpestrm64,
        Mnemonic.Vpcmpistri => Mnemonic.Pcmpistri,
        Mnemonic.Vpcmpistrm => Mnemonic.Pcmpistrm,
        _ => m,
    };

    static void Pcmpgtq(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        d = Sse42.CompareGreaterThan(d.AsInt64(), ReadXAligned(c, ref i, 1).AsInt64()).AsByte();
    }

    /// <summary>CRC32 r32/r64, r/m8/16/32/64: CRC-32C over the source, accumulated into the low 32 bits; the result is zero-extended.</summary>
    static void Crc32(CpuState c, ref Insn i)
    {
        uint crc = (uint)GetReg(c, i.I.Op0Register);
        uint r;
        switch (i.I.Code)
        {
            case Code.Crc32_r32_rm8:
            case Code.Crc32_r64_rm8:
                r = Sse42.Crc32(crc, (byte)Read(c, ref i, 1, 8));
                break;
            case Code.Crc32_r32_rm16:
                r = Sse42.Crc32(crc, (ushort)Read(c, ref i, 1, 16));
                break;
            case Code.Crc32_r32_rm32:
                r = Sse42.Crc32(crc, (uint)Read(c, ref i, 1, 32));
                break;
            default:
                r = (uint)Sse42.X64.Crc32(crc, Read(c, ref i, 1, 64));
                break;
        }
        SetReg(c, i.I.Op0Register, r);
    }

    // ---- PCMPxSTRx ----

    /// <summary>Explicit length: |value| saturated to the element count (also for values below -count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int ExplicitLength(long v, int n) => v > n || v < -n ? n : (int)Math.Abs(v);

    /// <summary>Implicit length: the index of the first zero element, or the element count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int ImplicitLength(in Vector128<byte> v, bool words)
    {
        if (words) return BitOperations.TrailingZeroCount(Bits(Sse2.CompareEqual(v.AsUInt16(), Vector128<ushort>.Zero).AsByte(), true) | 0x100u);
        return BitOperations.TrailingZeroCount(Bits(Sse2.CompareEqual(v, Vector128<byte>.Zero), false) | 0x10000u);
    }

    /// <summary>One bit per element of an all-ones/all-zeros compare result.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static uint Bits(in Vector128<byte> cmp, bool words) =>
        words ? (uint)Sse2.MoveMask(Sse2.PackSignedSaturate(cmp.AsInt16(), Vector128<short>.Zero)) & 0xff : (uint)Sse2.MoveMask(cmp);

    /// <summary>Element <paramref name="k"/> of <paramref name="v"/> in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> Broadcast(in Vector128<byte> v, int k, bool words) =>
        words ? Vector128.Create(Lanes.Get<ushort>(v, k)).AsByte() : Vector128.Create(Lanes.Get<byte>(v, k));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static uint EqualBits(in Vector128<byte> x, in Vector128<byte> y, bool words) =>
        Bits(words ? Sse2.CompareEqual(x.AsUInt16(), y.AsUInt16()).AsByte() : Sse2.CompareEqual(x, y), words);

    /// <summary>Signed x &gt; y per element (operands already biased into the signed domain).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> Greater(in Vector128<byte> x, in Vector128<byte> y, bool words) =>
        words ? Sse2.CompareGreaterThan(x.AsInt16(), y.AsInt16()).AsByte() : Sse2.CompareGreaterThan(x.AsSByte(), y.AsSByte()).AsByte();

    static void StringCompare(CpuState c, ref Insn i)
    {
        var m = Legacy(i.I.Mnemonic);
        int imm = i.I.Immediate8;
        var a = Xmm(c, i.I.Op0Register);   // the set, ranges or needle
        var b = ReadX(c, ref i, 1);       // the string searched; no alignment rule
        if (i.I.Encoding == EncodingKind.VEX && m is Mnemonic.Pcmpestrm or Mnemonic.Pcmpestrm64 or Mnemonic.Pcmpistrm)
            c.YmmHigh[0] = Vector128<byte>.Zero;
        bool words = (imm & 1) != 0;
        int n = words ? 8 : 16;
        uint full = (1u << n) - 1;

        int la, lb;
        switch (m)
        {
            case Mnemonic.Pcmpistri:
            case Mnemonic.Pcmpistrm:
                la = ImplicitLength(a, words);
                lb = ImplicitLength(b, words);
                break;
            case Mnemonic.Pcmpestri64:
            case Mnemonic.Pcmpestrm64:
                la = ExplicitLength((long)c.R[Registers.RAX], n);
                lb = ExplicitLength((long)c.R[Registers.RDX], n);
                break;
            default:
                la = ExplicitLength((int)c.R[Registers.RAX], n);
                lb = ExplicitLength((int)c.R[Registers.RDX], n);
                break;
        }
        uint validA = (1u << la) - 1, validB = (1u << lb) - 1;

        uint res1;
        switch ((imm >> 2) & 3)
        {
            case 0: // equal any: b[j] is one of the valid a[k]
                res1 = 0;
                for (int k = 0; k < la; k++) res1 |= EqualBits(Broadcast(a, k, words), b, words);
                res1 &= validB;
                break;
            case 1: // ranges: a[k] <= b[j] <= a[k+1] for a valid pair (k even)
            {
                res1 = 0;
                if ((imm & 2) == 0)
                {
                    // Unsigned: flip the sign bits so that signed compares order the values.
                    var bias = words ? Vector128.Create((ushort)0x8000).AsByte() : Vector128.Create((byte)0x80);
                    a ^= bias;
                    b ^= bias;
                }
                for (int k = 0; k + 1 < la; k += 2)
                {
                    var outside = Greater(Broadcast(a, k, words), b, words) | Greater(b, Broadcast(a, k + 1, words), words);
                    res1 |= ~Bits(outside, words);
                }
                res1 &= validB;
                break;
            }
            case 2: // equal each: a[j] == b[j]; both invalid counts as a match
                res1 = (EqualBits(a, b, words) & validA & validB) | (full & ~validA & ~validB);
                break;
            default: // equal ordered: the needle a starts at b[j] (a may run past the end of b's register)
                res1 = full;
                for (int k = 0; k < la; k++)
                {
                    uint e = EqualBits(Broadcast(a, k, words), b, words) & validB;
                    res1 &= (e >> k) | (full & ~(full >> k));
                }
                break;
        }

        uint res2 = ((imm >> 4) & 3) switch
        {
            1 => ~res1 & full,
            3 => res1 ^ validB,
            _ => res1,
        };

        InstSse41.SetArithFlags(c,
            (res2 != 0 ? Rf.CF : 0) | (lb < n ? Rf.ZF : 0) | (la < n ? Rf.SF : 0) | ((res2 & 1) != 0 ? Rf.OF : 0));

        if (m is Mnemonic.Pcmpistri or Mnemonic.Pcmpestri or Mnemonic.Pcmpestri64)
        {
            int index = res2 == 0 ? n : (imm & 0x40) != 0 ? 31 - BitOperations.LeadingZeroCount(res2) : BitOperations.TrailingZeroCount(res2);
            c.R[Registers.RCX] = (uint)index;
            return;
        }
        if ((imm & 0x40) == 0)
        {
            c.Xmm[0] = Vector128.CreateScalar(res2).AsByte();
            return;
        }
        if (words)
        {
            var sel = Vector128.Create((ushort)1, 2, 4, 8, 16, 32, 64, 128);
            c.Xmm[0] = Sse2.CompareEqual(Vector128.Create((ushort)res2) & sel, sel).AsByte();
        }
        else
        {
            var sel = Vector128.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
            var spread = Vector128.Create((byte)res2, (byte)res2, (byte)res2, (byte)res2, (byte)res2, (byte)res2, (byte)res2, (byte)res2,
                (byte)(res2 >> 8), (byte)(res2 >> 8), (byte)(res2 >> 8), (byte)(res2 >> 8), (byte)(res2 >> 8), (byte)(res2 >> 8), (byte)(res2 >> 8), (byte)(res2 >> 8));
            c.Xmm[0] = Sse2.CompareEqual(spread & sel, sel);
        }
    }
}
