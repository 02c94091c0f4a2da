using System.Buffers.Binary;

namespace LegoEmu.Tests.Fuzz;

/// <summary>
/// Seeded byte-level mutations of a valid input: single bytes changed, fields overwritten with the values
/// parsers trip on (zero, one, all ones, sign bits, sizes near limits), slices cut out, repeated or inserted,
/// and truncation. Positions can be steered towards the regions that matter (headers, length fields).
/// </summary>
public static class Mutator
{
    static readonly ulong[] Interesting =
    [
        0, 1, 2, 3, 4, 7, 8, 16, 56, 64, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0x1001, 0x7fff, 0x8000, 0xffff, 0x10000,
        0x100000, 0x100040, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 0x7fff_ffff_f000, 0x8000_0000_0000,
        0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, ulong.MaxValue, ulong.MaxValue - 0xfff,
    ];

    /// <summary>
    /// A mutant of <paramref name="input"/>. <paramref name="hot"/> lists (offset, length) ranges where most
    /// mutations land; the rest land anywhere.
    /// </summary>
    public static byte[] Mutate(byte[] input, Random rng, IReadOnlyList<(int Offset, int Length)>? hot = null)
    {
        var data = new List<byte>(input);
        int rounds = 1 + rng.Next(4);
        for (int i = 0; i < rounds && data.Count > 0; i++)
        {
            int at = Position(data.Count, rng, hot);
            switch (rng.Next(10))
            {
                case 0 or 1 or 2:
                    data[at] = (byte)rng.Next(256);
                    break;
                case 3 or 4 or 5:
                {
                    int width = 1 << rng.Next(4); // 1, 2, 4 or 8 bytes
                    ulong v = Interesting[rng.Next(Interesting.Length)];
                    if (rng.Next(4) == 0) v = (ulong)input.Length + (ulong)rng.Next(-16, 17);
                    Span<byte> b = stackalloc byte[8];
                    BinaryPrimitives.WriteUInt64LittleEndian(b, v);
                    for (int k = 0; k < width && at + k < data.Count; k++) data[at + k] = b[k];
                    break;
                }
                case 6:
                    data.RemoveRange(at, Math.Min(data.Count - at, 1 + rng.Next(16)));
                    break;
                case 7:
                {
                    int len = Math.Min(data.Count - at, 1 + rng.Next(32));
                    data.InsertRange(at, data.GetRange(at, len));
                    break;
                }
                case 8:
                {
                    var junk = new byte[1 + rng.Next(16)];
                    rng.NextBytes(junk);
                    data.InsertRange(at, junk);
                    break;
                }
                default:
                    data.RemoveRange(at, data.Count - at); // truncate
                    break;
            }
        }
        return data.ToArray();
    }

    static int Position(int count, Random rng, IReadOnlyList<(int Offset, int Length)>? hot)
    {
        if (hot is { Count: > 0 } && rng.Next(5) != 0)
        {
            var (o, l) = hot[rng.Next(hot.Count)];
            int p = o + rng.Next(Math.Max(1, l));
            if (p < count) return p;
        }
        return rng.Next(count);
    }
}
