using System.Globalization;
using System.Text;

namespace LegoEmu.Mem;

/// <summary>
/// A file name or other untrusted text made safe for a one-line message: control characters, invisible
/// format characters and bytes that were not UTF-8 (the lone surrogates U+DC80..U+DCFF that guest text keeps them as) become <c>\xNN</c> or
/// <c>\u{N}</c>, and a backslash is doubled, so a hostile name can neither break the line nor pass for
/// something else.
/// </summary>
public static class PrintableName
{
    /// <summary>Longer names are cut with an ellipsis: a message stays readable whatever the input.</summary>
    public const int MaxChars = 512;

    public static string Escape(string text)
    {
        bool plain = text.Length <= MaxChars;
        foreach (char c in text)
            if (c < 0x20 || c >= 0x7f || c == '\\') { plain = false; break; }
        if (plain) return text;
        var sb = new StringBuilder(Math.Min(text.Length, MaxChars) + 8);
        for (int i = 0; i < text.Length; i++)
        {
            if (sb.Length >= MaxChars) { sb.Append("..."); break; }
            char c = text[i];
            if (c == '\\') sb.Append(@"\\");
            else if (c is >= '\uDC80' and <= '\uDCFF') sb.Append($"\\x{c - 0xDC00:x2}"); // an undecodable byte
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(c).Append(text[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(c) || c < 0x20 || c == 0x7f) sb.Append(c < 0x100 ? $"\\x{(int)c:x2}" : $"\\u{{{(int)c:x}}}");
            else
            {
                var cat = CharUnicodeInfo.GetUnicodeCategory(c);
                if (cat is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
                    sb.Append(c < 0x100 ? $"\\x{(int)c:x2}" : $"\\u{{{(int)c:x}}}");
                else sb.Append(c);
            }
        }
        return sb.ToString();
    }
}
