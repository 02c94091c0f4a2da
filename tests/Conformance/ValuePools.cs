namespace LegoEmu.Tests.Conformance;

/// <summary>
/// Operand values: edge cases of each width and type mixed with seeded random values. Edge cases are
/// where emulators go wrong (carries out of the top bit, sign boundaries, NaN and infinity handling,
/// shift counts around the operand width); random values catch the rest.
/// </summary>
public static class ValuePools
{
    public static ulong Mask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    /// <summary>A value of <paramref name="bits"/> width: an edge case or a random one, about evenly.</summary>
    public static ulong Int(Random r, int bits) => r.Next(2) == 0 ? IntEdge(r, bits) : IntRandom(r, bits);

    public static ulong IntEdge(Random r, int bits)
    {
        ulong sign = 1UL << (bits - 1);
        ulong v = r.Next(22) switch
        {
            0 => 0,
            1 => 1,
            2 => 2,
            3 => ulong.MaxValue,                 // -1
            4 => ulong.MaxValue - 1,             // -2
            5 => sign - 1,                       // 0x7f..
            6 => sign,                           // 0x80..
            7 => sign + 1,
            8 => sign - 2,
            9 => 0x5555_5555_5555_5555,
            10 => 0xaaaa_aaaa_aaaa_aaaa,
            11 => (ulong)(bits - 1),
            12 => (ulong)bits,
            13 => (ulong)(bits + 1),
            14 => 1UL << r.Next(bits),           // a single bit
            15 => ~(1UL << r.Next(bits)),        // all but one bit
            16 => (ulong)r.Next(3, 17),
            17 => 0xff,                          // narrower width boundaries inside a wider operand
            18 => 0x100,
            19 => 0xffff,
            20 => 0x1_0000_0000,
            _ => 0xffff_ffff,
        };
        return v & Mask(bits);
    }

    /// <summary>Random bits, with a random magnitude so that small and large values both occur.</summary>
    public static ulong IntRandom(Random r, int bits)
    {
        ulong v = Random64(r);
        int len = r.Next(1, bits + 1);
        if (r.Next(3) == 0) v &= Mask(len);
        if (r.Next(6) == 0) v = ~v; // small negative numbers
        return v & Mask(bits);
    }

    public static ulong Random64(Random r) => (ulong)r.NextInt64() ^ ((ulong)r.Next(4) << 62);

    /// <summary>A shift or rotate count: mostly around 0, 1 and the operand width; sometimes any byte.</summary>
    public static byte ShiftCount(Random r, int bits) => (byte)(r.Next(12) switch
    {
        0 => 0,
        1 => 1,
        2 => bits - 1,
        3 => bits,
        4 => bits + 1,
        5 => 31,
        6 => 32,
        7 => 33,
        8 => 63,
        9 => 64 + r.Next(3) - 1,
        10 => r.Next(256),
        _ => r.Next(bits + 2),
    });

    // ---- IEEE singles and doubles ----

    public static uint F32(Random r) => r.Next(3) == 0 ? F32Random(r) : F32Edge(r);

    public static uint F32Edge(Random r)
    {
        uint s = r.Next(2) == 0 ? 0 : 0x8000_0000u;
        uint m = (uint)r.Next() & 0x7f_ffff;
        return r.Next(26) switch
        {
            0 => s,                                  // ±0
            1 => s | 0x3f80_0000,                    // ±1
            2 => s | 0x7f80_0000,                    // ±Inf
            3 => s | 0x7fc0_0000,                    // default QNaN
            4 => s | 0x7fc0_0000 | (m & 0x3f_ffff),  // QNaN with payload
            5 => s | 0x7f80_0000 | Math.Max(1, m & 0x3f_ffff), // SNaN
            6 => s | 1,                              // smallest denormal
            7 => s | 0x7f_ffff,                      // largest denormal
            8 => s | Math.Max(1, m),                 // any denormal
            9 => s | 0x0080_0000,                    // smallest normal
            10 => s | 0x7f7f_ffff,                   // largest normal
            11 => s | 0x3f00_0000,                   // 0.5
            12 => s | 0x3fc0_0000,                   // 1.5
            13 => s | 0x4020_0000,                   // 2.5
            14 => s | 0x4f00_0000,                   // 2^31: just out of int32 range
            15 => s | 0x4eff_ffff,                   // largest float below 2^31
            16 => s | 0x5f00_0000,                   // 2^63
            17 => s | 0x5eff_ffff,
            18 => s | 0x4f80_0000,                   // 2^32
            19 => s | (0x3f00_0000u + ((uint)r.Next(64) << 23)) | m, // magnitudes 0.5 .. 2^63
            20 => s | 0x4b00_0000 | (m & 0xff),      // 2^23 + small: integers near the precision limit
            21 => s | 0x3e80_0000,                   // 0.25
            22 => s | 0x4040_0000,                   // 3
            23 => s | 0x3fff_ffff,                   // just below 2
            24 => s | 0x0000_0010,
            _ => s | 0x4f7f_ffff,                    // largest float below 2^32
        };
    }

    public static uint F32Random(Random r)
    {
        uint v = (uint)r.NextInt64(0, 1L << 32);
        // Mostly moderate exponents, so arithmetic yields ordinary results as well as specials.
        if (r.Next(2) == 0) v = (v & 0x807f_ffff) | ((uint)r.Next(100, 160) << 23);
        return v;
    }

    public static ulong F64(Random r) => r.Next(3) == 0 ? F64Random(r) : F64Edge(r);

    public static ulong F64Edge(Random r)
    {
        ulong s = r.Next(2) == 0 ? 0 : 0x8000_0000_0000_0000UL;
        ulong m = Random64(r) & 0xf_ffff_ffff_ffffUL;
        const ulong q = 0x0008_0000_0000_0000UL;
        return r.Next(26) switch
        {
            0 => s,
            1 => s | 0x3ff0_0000_0000_0000UL,
            2 => s | 0x7ff0_0000_0000_0000UL,
            3 => s | 0x7ff8_0000_0000_0000UL,
            4 => s | 0x7ff8_0000_0000_0000UL | (m & (q - 1)),
            5 => s | 0x7ff0_0000_0000_0000UL | Math.Max(1, m & (q - 1)),
            6 => s | 1,
            7 => s | 0xf_ffff_ffff_ffffUL,
            8 => s | Math.Max(1, m),
            9 => s | 0x0010_0000_0000_0000UL,
            10 => s | 0x7fef_ffff_ffff_ffffUL,
            11 => s | 0x3fe0_0000_0000_0000UL,         // 0.5
            12 => s | 0x3ff8_0000_0000_0000UL,         // 1.5
            13 => s | 0x4004_0000_0000_0000UL,         // 2.5
            14 => s | 0x41e0_0000_0000_0000UL,         // 2^31
            15 => s | 0x41df_ffff_ffc0_0000UL,         // 2^31 - 1
            16 => s | 0x41e0_0000_0010_0000UL,         // 2^31 + 0.5
            17 => s | 0x43e0_0000_0000_0000UL,         // 2^63
            18 => s | 0x43df_ffff_ffff_ffffUL,         // largest double below 2^63
            19 => s | ((0x3fe0UL + (ulong)r.Next(64 * 16)) << 48) | (m & 0xffff_ffff_ffffUL),
            20 => s | 0x47ef_ffff_e000_0000UL,         // FLT_MAX: float conversion boundary
            21 => s | 0x47ef_ffff_f000_0000UL,         // halfway above FLT_MAX
            22 => s | 0x3810_0000_0000_0000UL,         // FLT_MIN
            23 => s | 0x36a0_0000_0000_0000UL,         // smallest float denormal
            24 => s | 0x3690_0000_0000_0000UL,         // half of it: rounds to zero or up
            _ => s | 0x41f0_0000_0000_0000UL,         // 2^32
        };
    }

    public static ulong F64Random(Random r)
    {
        ulong v = Random64(r);
        if (r.Next(2) == 0) v = (v & 0x800f_ffff_ffff_ffffUL) | ((ulong)r.Next(900, 1150) << 52);
        return v;
    }

    // ---- x87 80-bit values ----

    const ulong IntBitMask = 0x8000_0000_0000_0000UL;

    /// <summary>An 80-bit value as (significand, sign and exponent).</summary>
    public static (ulong Mantissa, ushort SignExp) F80(Random r)
    {
        ushort s = (ushort)(r.Next(2) == 0 ? 0 : 0x8000);
        ulong m = Random64(r) | 0x8000_0000_0000_0000UL;
        const ulong i = 0x8000_0000_0000_0000UL;
        return r.Next(34) switch
        {
            // Encodings the 387 and later no longer support (unnormals, pseudo-NaN/infinity) and
            // pseudo-denormals: invalid or denormal operands, a classic place for emulators to differ.
            30 => (m & ~IntBitMask, (ushort)(s | r.Next(1, 0x7fff))),
            31 => (r.Next(2) == 0 ? 0UL : Random64(r) & ~IntBitMask, (ushort)(s | 0x7fff)),
            32 => (i | (Random64(r) >> 1), s),
            33 => (m, (ushort)(s | r.Next(0x7fff))),
            0 => (0, s),
            1 => (i, (ushort)(s | 0x3fff)),                                   // ±1
            2 => (i, (ushort)(s | 0x7fff)),                                   // ±Inf
            3 => (0xc000_0000_0000_0000UL, (ushort)(s | 0x7fff)),             // QNaN (indefinite when negative)
            4 => (m | 0x4000_0000_0000_0000UL, (ushort)(s | 0x7fff)),         // QNaN with payload
            5 => (Math.Max(i + 1, m & ~0x4000_0000_0000_0000UL), (ushort)(s | 0x7fff)), // SNaN
            6 => (Random64(r) >> r.Next(1, 63), s),                           // denormal
            7 => (1, s),                                                      // smallest denormal
            8 => (i, (ushort)(s | 1)),                                        // smallest normal
            9 => (ulong.MaxValue, (ushort)(s | 0x7ffe)),                      // largest normal
            10 => (i, (ushort)(s | 0x3ffe)),                                  // 0.5
            11 => (0xc000_0000_0000_0000UL, (ushort)(s | 0x3fff)),            // 1.5
            12 => (0xa000_0000_0000_0000UL, (ushort)(s | 0x4000)),            // 2.5
            13 => (i, (ushort)(s | (0x3fff + 15))),                           // 2^15: int16 boundary
            14 => (i, (ushort)(s | (0x3fff + 31))),                           // 2^31
            15 => (i, (ushort)(s | (0x3fff + 63))),                           // 2^63
            16 => (m, (ushort)(s | (0x3fff + r.Next(-2, 66)))),               // integers and halves near int ranges
            17 => (m, (ushort)(s | (0x3fff + 127 + r.Next(-1, 2)))),          // float overflow boundary
            18 => (m, (ushort)(s | (0x3fff - 126 - r.Next(0, 25)))),          // float denormal range
            19 => (m, (ushort)(s | (0x3fff + 1023 + r.Next(-1, 2)))),         // double overflow boundary
            20 => (m, (ushort)(s | (0x3fff - 1022 - r.Next(0, 54)))),         // double denormal range
            21 => (m & 0xffff_ffff_ff00_0000UL, (ushort)(s | (0x3fff + r.Next(-8, 9)))), // exactly a float
            22 => (m & 0xffff_ffff_ffff_f800UL, (ushort)(s | (0x3fff + r.Next(-8, 9)))), // exactly a double
            23 => (m | 0xff, (ushort)(s | (0x3fff + r.Next(-8, 9)))),
            24 => (m, (ushort)(s | 0x3fff)),
            25 => (m, (ushort)(s | r.Next(1, 0x7fff))),                       // any normal
            _ => (m, (ushort)(s | (0x3fff + r.Next(-64, 65)))),
        };
    }

    /// <summary>A 16/32/64-bit integer operand for FILD/FIADD and friends.</summary>
    public static ulong X87Int(Random r, int bits) => Int(r, bits);
}
