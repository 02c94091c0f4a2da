using System.Xml.Linq;

namespace LegoEmu.Cluster.Regress;

/// <summary>Writes results as JUnit XML (one testsuite, a testcase per case and configuration), the format CI systems read.</summary>
public static class JUnitWriter
{
    public static void Write(string path, string suite, IReadOnlyList<CaseResult> results)
    {
        var cases = results.Select(r =>
        {
            var e = new XElement("testcase",
                new XAttribute("classname", $"{suite}.{r.Config}"),
                new XAttribute("name", r.Case),
                new XAttribute("time", r.EmulatedSeconds.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)));
            if (r.Verdict == Verdict.Mismatch) e.Add(new XElement("failure", new XAttribute("message", FirstLine(r.Detail)), Clean(r.Detail)));
            else if (r.Verdict == Verdict.Error) e.Add(new XElement("error", new XAttribute("message", FirstLine(r.Detail)), Clean(r.Detail)));
            e.Add(new XElement("system-out", Clean(
                $"native {r.NativeSeconds:F3} s, emulated {r.EmulatedSeconds:F3} s, slowdown {r.Slowdown:F2}x" +
                (r.MissRatio is { } m ? $", ExCache {r.ExCacheBytes} bytes, miss ratio {m:P4}" : ""))));
            return e;
        });
        var doc = new XDocument(new XElement("testsuites",
            new XElement("testsuite",
                new XAttribute("name", suite),
                new XAttribute("tests", results.Count),
                new XAttribute("failures", results.Count(r => r.Verdict == Verdict.Mismatch)),
                new XAttribute("errors", results.Count(r => r.Verdict == Verdict.Error)),
                new XAttribute("time", results.Sum(r => r.EmulatedSeconds).ToString("F3", System.Globalization.CultureInfo.InvariantCulture)),
                cases)));
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir != null) Directory.CreateDirectory(dir);
        // No byte-order mark: some CI parsers reject one before the XML declaration.
        using var w = System.Xml.XmlWriter.Create(path, new System.Xml.XmlWriterSettings { Encoding = new System.Text.UTF8Encoding(false), Indent = true });
        doc.Save(w);
    }

    static string FirstLine(string s) => Clean(s.Split('\n')[0]);

    /// <summary>XML 1.0 cannot carry most control characters, which a guest's output may contain.</summary>
    static string Clean(string s) => new(s.Select(ch => ch == '\n' || ch == '\t' || ch >= ' ' && !char.IsSurrogate(ch) && ch != '\uFFFE' && ch != '\uFFFF' ? ch : '?').ToArray());
}
