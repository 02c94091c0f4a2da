using System.Globalization;

namespace LegoEmu.Cluster.Cli;

/// <summary>Parses a positive fraction written as "12.5%" or "0.125" (invariant culture); callers bound it.</summary>
public static class FractionParser
{
    public static bool TryParse(string text, out double value)
    {
        text = text.Trim();
        bool percent = text.EndsWith('%');
        if (!double.TryParse(percent ? text[..^1] : text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !(value > 0))
            return false;
        if (percent) value /= 100;
        return true;
    }
}
