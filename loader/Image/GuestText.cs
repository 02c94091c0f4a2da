using System.Buffers;
using System.Text;

namespace LegoEmu.Loader.Image;

/// <summary>
/// Guest byte strings (paths, arguments, environment) as .NET strings that keep every byte. Valid UTF-8
/// decodes as usual; each byte of an invalid sequence becomes the lone surrogate U+DC80+byte (the
/// "surrogateescape" rule), and encoding turns those back into the same bytes. A file name with a 0xff
/// byte therefore reaches the host unchanged instead of as the three bytes of U+FFFD.
/// </summary>
public static class GuestText
{
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (Ascii.IsValid(bytes)) return Encoding.ASCII.GetString(bytes);
        var sb = new StringBuilder(bytes.Length);
        Span<char> pair = stackalloc char[2];
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out int used) == OperationStatus.Done)
            {
                sb.Append(pair[..rune.EncodeToUtf16(pair)]);
                bytes = bytes[used..];
            }
            else
            {
                sb.Append((char)(0xDC00 + bytes[0]));
                bytes = bytes[1..];
            }
        }
        return sb.ToString();
    }

    /// <summary>The bytes <paramref name="text"/> came from, with a terminating NUL when <paramref name="nul"/>.</summary>
    public static byte[] Encode(string text, bool nul = false)
    {
        bool plain = true;
        foreach (char c in text)
            if (char.IsSurrogate(c)) { plain = false; break; }
        if (plain) return Encoding.UTF8.GetBytes(nul ? text + "\0" : text);
        var output = new List<byte>(text.Length + 4);
        Span<byte> utf8 = stackalloc byte[4];
        ReadOnlySpan<char> rest = text;
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out var rune, out int used) == OperationStatus.Done)
            {
                int n = rune.EncodeToUtf8(utf8);
                for (int i = 0; i < n; i++) output.Add(utf8[i]);
                rest = rest[used..];
            }
            else
            {
                char c = rest[0];
                // An escaped byte comes back as itself; any other lone surrogate cannot have come from bytes.
                if (c is >= '\uDC80' and <= '\uDCFF') output.Add((byte)(c - 0xDC00));
                else output.AddRange([0xEF, 0xBF, 0xBD]);
                rest = rest[1..];
            }
        }
        if (nul) output.Add(0);
        return output.ToArray();
    }
}
