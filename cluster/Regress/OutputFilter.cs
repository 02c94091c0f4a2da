using System.Text;
using System.Text.RegularExpressions;

namespace LegoEmu.Cluster.Regress;

/// <summary>
/// What is removed from a case's stdout (and stderr, when compared) before native and emulated runs
/// are compared: lines matching a pattern (timings), replacements (addresses, PIDs), optional sorting
/// (programs whose line order is not defined).
/// </summary>
public sealed class OutputFilter
{
    readonly Regex[] _drop;
    readonly (Regex Pattern, string With)[] _replace;
    readonly bool _sort;

    public static readonly OutputFilter None = new([], [], false);

    public OutputFilter(IEnumerable<string> dropLines, IEnumerable<(string Pattern, string With)> replace, bool sortLines)
    {
        _drop = dropLines.Select(p => new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5))).ToArray();
        _replace = replace.Select(r => (new Regex(r.Pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5)), r.With)).ToArray();
        _sort = sortLines;
    }

    public bool IsIdentity => _drop.Length == 0 && _replace.Length == 0 && !_sort;

    /// <summary>The filtered text, line by line; bytes that are not UTF-8 survive as replacement characters on both sides alike.</summary>
    public string Apply(byte[] output)
    {
        string text = Encoding.UTF8.GetString(output);
        if (IsIdentity) return text;
        var lines = new List<string>();
        foreach (var raw in text.Split('\n'))
        {
            if (_drop.Any(r => r.IsMatch(raw))) continue;
            string line = raw;
            foreach (var (pattern, with) in _replace) line = pattern.Replace(line, with);
            lines.Add(line);
        }
        if (_sort) lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }
}
