using System.Runtime.Intrinsics;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// The AES-NI round primitives in software, for a host without AES-NI, defined as the Intel SDM defines the
/// instructions. The state is the register's 16 bytes, column-major: byte 4c+r is row r of column c.
/// </summary>
public static class AesRounds
{
    static readonly byte[] SBox = new byte[256];
    static readonly byte[] InvSBox = new byte[256];

    static AesRounds()
    {
        // p runs through GF(2^8)* by multiplying by 3, q through its inverses by dividing by 3; the S-box is the
        // affine map of the inverse.
        byte p = 1, q = 1;
        do
        {
            p = (byte)(p ^ (p << 1) ^ ((p & 0x80) != 0 ? 0x1b : 0));
            q ^= (byte)(q << 1);
            q ^= (byte)(q << 2);
            q ^= (byte)(q << 4);
            if ((q & 0x80) != 0) q ^= 0x09;
            byte x = (byte)(q ^ Rotl(q, 1) ^ Rotl(q, 2) ^ Rotl(q, 3) ^ Rotl(q, 4) ^ 0x63);
            SBox[p] = x;
        } while (p != 1);
        SBox[0] = 0x63;
        for (int k = 0; k < 256; k++) InvSBox[SBox[k]] = (byte)k;
    }

    static byte Rotl(byte v, int n) => (byte)((v << n) | (v >> (8 - n)));

    static byte Times2(byte v) => (byte)((v << 1) ^ ((v & 0x80) != 0 ? 0x1b : 0));

    static byte Mul(byte a, int b)
    {
        byte r = 0;
        for (; b != 0; b >>= 1, a = Times2(a))
            if ((b & 1) != 0) r ^= a;
        return r;
    }

    public static Vector128<byte> Encrypt(Vector128<byte> state, Vector128<byte> key) =>
        MixColumns(SubBytes(ShiftRows(state), SBox)) ^ key;

    public static Vector128<byte> EncryptLast(Vector128<byte> state, Vector128<byte> key) =>
        SubBytes(ShiftRows(state), SBox) ^ key;

    public static Vector128<byte> Decrypt(Vector128<byte> state, Vector128<byte> key) =>
        InverseMixColumns(SubBytes(InverseShiftRows(state), InvSBox)) ^ key;

    public static Vector128<byte> DecryptLast(Vector128<byte> state, Vector128<byte> key) =>
        SubBytes(InverseShiftRows(state), InvSBox) ^ key;

    public static Vector128<byte> InverseMixColumns(Vector128<byte> s)
    {
        Span<byte> b = stackalloc byte[16];
        for (int c = 0; c < 4; c++)
        {
            byte a0 = s[4 * c], a1 = s[4 * c + 1], a2 = s[4 * c + 2], a3 = s[4 * c + 3];
            b[4 * c] = (byte)(Mul(a0, 14) ^ Mul(a1, 11) ^ Mul(a2, 13) ^ Mul(a3, 9));
            b[4 * c + 1] = (byte)(Mul(a0, 9) ^ Mul(a1, 14) ^ Mul(a2, 11) ^ Mul(a3, 13));
            b[4 * c + 2] = (byte)(Mul(a0, 13) ^ Mul(a1, 9) ^ Mul(a2, 14) ^ Mul(a3, 11));
            b[4 * c + 3] = (byte)(Mul(a0, 11) ^ Mul(a1, 13) ^ Mul(a2, 9) ^ Mul(a3, 14));
        }
        return Vector128.Create((ReadOnlySpan<byte>)b);
    }

    /// <summary>AESKEYGENASSIST: SubWord of dwords 1 and 3, each also rotated right by a byte and XORed with the constant.</summary>
    public static Vector128<byte> KeygenAssist(Vector128<byte> s, byte rcon)
    {
        var w = s.AsUInt32();
        uint x1 = SubWord(w[1]), x3 = SubWord(w[3]);
        return Vector128.Create(x1, uint.RotateRight(x1, 8) ^ rcon, x3, uint.RotateRight(x3, 8) ^ rcon).AsByte();
    }

    static uint SubWord(uint w) =>
        SBox[w & 0xff] | ((uint)SBox[(w >> 8) & 0xff] << 8) | ((uint)SBox[(w >> 16) & 0xff] << 16) | ((uint)SBox[w >> 24] << 24);

    static Vector128<byte> ShiftRows(Vector128<byte> s) =>
        Vector128.Shuffle(s, Vector128.Create((byte)0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11));

    static Vector128<byte> InverseShiftRows(Vector128<byte> s) =>
        Vector128.Shuffle(s, Vector128.Create((byte)0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3));

    static Vector128<byte> SubBytes(Vector128<byte> s, byte[] box)
    {
        Span<byte> b = stackalloc byte[16];
        for (int k = 0; k < 16; k++) b[k] = box[s[k]];
        return Vector128.Create((ReadOnlySpan<byte>)b);
    }

    static Vector128<byte> MixColumns(Vector128<byte> s)
    {
        Span<byte> b = stackalloc byte[16];
        for (int c = 0; c < 4; c++)
        {
            byte a0 = s[4 * c], a1 = s[4 * c + 1], a2 = s[4 * c + 2], a3 = s[4 * c + 3];
            b[4 * c] = (byte)(Mul(a0, 2) ^ Mul(a1, 3) ^ a2 ^ a3);
            b[4 * c + 1] = (byte)(a0 ^ Mul(a1, 2) ^ Mul(a2, 3) ^ a3);
            b[4 * c + 2] = (byte)(a0 ^ a1 ^ Mul(a2, 2) ^ Mul(a3, 3));
            b[4 * c + 3] = (byte)(Mul(a0, 3) ^ a1 ^ a2 ^ Mul(a3, 2));
        }
        return Vector128.Create((ReadOnlySpan<byte>)b);
    }
}
