namespace LegoEmu.Cluster.Cli;

/// <summary>Parses sizes like 16K, 64M, 1G (powers of 1024) or plain byte counts.</summary>
public static class SizeParser
{
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        text = text.Trim();
        if (text.Length == 0) return false;
        long mult = 1;
        char last = char.ToUpperInvariant(text[^1]);
        if (last == 'B' && text.Length > 1) { text = text[..^1]; last = char.ToUpperInvariant(text[^1]); }
        switch (last)
        {
            case 'K': mult = 1L << 10; break;
            case 'M': mult = 1L << 20; break;
            case 'G': mult = 1L << 30; break;
            case 'T': mult = 1L << 40; break;
        }
        if (mult != 1) text = text[..^1];
        if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n)) return false;
        if (n <= 0 || n > long.MaxValue / mult) return false;
        bytes = n * mult;
        return true;
    }
}
