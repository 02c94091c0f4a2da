using System.Net;
using System.Text;

namespace LegoEmu.Cluster.Trace;

/// <summary>One self-contained HTML file: the text report's tables plus the plots as inline SVG (no scripts, no external files).</summary>
public static class HtmlReport
{
    public static void Write(TraceReportModel m, string path)
    {
        var sb = new StringBuilder();
        var h = m.Header;
        string title = $"LegoEmu trace report: {Path.GetFileName(h.Program)}";
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title>\n<style>")
          .Append("body{font-family:sans-serif;margin:2em;max-width:1000px;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}")
          .Append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}td.l,th.l{text-align:left}")
          .Append(".lead{font-size:1.2em;background:#f4f7fb;padding:.6em;border-left:4px solid #4a7ab5}figure{margin:1em 0}</style></head><body>\n");
        sb.Append("<h1>").Append(E(title)).Append("</h1>\n");
        sb.Append("<p><code>").Append(E(string.Join(' ', h.Arguments))).Append("</code><br>level ").Append(E(h.Level));
        if (h.SampleRate < 1) sb.Append($", SHARDS sampling rate {h.SampleRate:G4}");
        sb.Append($"; ExCache {E(ReportFormat.Bytes(h.CacheSize))}, {h.CacheWays}-way, {h.LineSize} B lines, {E(h.Policy)}; ")
          .Append(h.MemoryNodes == 0 ? "in-process memory" : $"{h.MemoryNodes} memory nodes").Append("; recorded ").Append(E(h.StartedUtc)).Append("</p>\n");
        if (!m.Complete) sb.Append("<p><b>The trace was cut short</b>; figures cover what was recorded.</p>\n");
        if (m.Range != null) sb.Append("<p>Restricted to addresses ").Append(E(m.Range)).Append(".</p>\n");
        sb.Append($"<p>{m.Records:N0} records in {m.DurationSeconds:F3} s: {m.Reads:N0} reads, {m.Writes:N0} writes, {m.Fetches:N0} fetches, ")
          .Append($"{m.Fills:N0} fills, {m.Evictions:N0} evictions, {m.WriteBacks:N0} write-backs.</p>\n");
        sb.Append($"<p class=\"lead\">Footprint {E(ReportFormat.Bytes(m.FootprintBytes))} ({m.FootprintLines:N0} lines{(m.Estimated ? ", estimated" : "")}). ")
          .Append(E(m.CdfSentence)).Append("</p>\n");
        if (m.PredictedMissRatio is { } pred)
            sb.Append($"<p>Predicted miss ratio of a fully associative LRU cache the size of the configured ExCache ({m.ConfiguredCacheLines:N0} lines): ")
              .Append($"<b>{E(ReportFormat.Percent(pred))}</b>; the ExCache measured {E(ReportFormat.Percent(m.MeasuredMissRatio ?? 0))}.</p>\n");

        foreach (var (name, plotTitle, plot) in Plots.All(m))
        {
            sb.Append("<h2>").Append(E(plotTitle)).Append("</h2>\n<figure id=\"").Append(name).Append("\">");
            string svg = Plots.Svg(plot);
            // The SVG is inlined whole; drop an XML declaration if the library adds one.
            int start = svg.IndexOf("<svg", StringComparison.Ordinal);
            sb.Append(start >= 0 ? svg[start..] : svg).Append("</figure>\n");
        }

        if (m.Cdf.Count > 0)
        {
            sb.Append("<h2>Access CDF</h2><table><tr><th>share of ").Append(E(m.Basis)).Append("</th><th>hottest lines</th><th>bytes</th><th>of footprint</th></tr>\n");
            foreach (var c in m.Cdf)
                sb.Append($"<tr><td>{E(ReportFormat.Percent(c.AccessShare))}</td><td>{c.Lines:N0}</td><td>{E(ReportFormat.Bytes(c.Bytes))}</td><td>{E(ReportFormat.Percent(c.FootprintShare))}</td></tr>\n");
            sb.Append("</table>\n");
        }
        if (m.SimulatedMisses is { } simulated)
            sb.Append($"<p>Set-associative replay of the configured ExCache ({h.CacheWays}-way {E(h.Policy)}): <b>{simulated:N0}</b> misses ")
              .Append($"({E(ReportFormat.Percent(m.SimulatedMissRatio ?? 0))}); the ExCache measured {m.GuestMisses:N0}. {E(m.SimulationNote)}</p>\n");
        else sb.Append("<p>Set-associative replay: ").Append(E(m.SimulationNote)).Append("</p>\n");
        if (m.Functions.Count > 0)
        {
            sb.Append("<h2>Top functions</h2><table><tr><th>instructions</th><th>data accesses</th><th>reads</th><th>writes</th><th>misses</th><th>from memory</th><th>write-backs</th><th class=\"l\">function</th><th class=\"l\">object</th></tr>\n");
            foreach (var f in m.Functions)
                sb.Append($"<tr><td>{f.Instructions:N0}</td><td>{f.Accesses:N0}</td><td>{f.Reads:N0}</td><td>{f.Writes:N0}</td><td>{f.Misses:N0}</td><td>{f.MemoryFills:N0}</td><td>{f.WriteBacks:N0}</td><td class=\"l\"><code>{E(f.Function)}</code></td><td class=\"l\">{E(Path.GetFileName(f.Object))}</td></tr>\n");
            sb.Append("</table>\n");
        }
        if (m.SourceLines.Count > 0)
        {
            sb.Append("<h2>Top source lines</h2><table><tr><th>instructions</th><th>data accesses</th><th>misses</th><th>from memory</th><th>write-backs</th><th class=\"l\">line</th><th class=\"l\">function</th></tr>\n");
            foreach (var l in m.SourceLines)
                sb.Append($"<tr><td>{l.Instructions:N0}</td><td>{l.Accesses:N0}</td><td>{l.Misses:N0}</td><td>{l.MemoryFills:N0}</td><td>{l.WriteBacks:N0}</td><td class=\"l\">{E(l.File)}:{l.Line}</td><td class=\"l\"><code>{E(l.Function)}</code></td></tr>\n");
            sb.Append("</table>\n");
        }
        Traffic(sb, "Traffic per memory node", m.Nodes);
        Traffic(sb, "Traffic per vRegion (1 GiB)", m.Regions);
        if (m.HotLines.Count > 0)
        {
            sb.Append("<h2>Hottest lines</h2><table><tr><th class=\"l\">address</th><th>").Append(E(m.Basis)).Append("</th><th>share</th><th>fills</th><th class=\"l\">where</th></tr>\n");
            foreach (var l in m.HotLines)
                sb.Append($"<tr><td class=\"l\"><code>0x{l.Address:x}</code></td><td>{l.Accesses:N0}</td><td>{E(ReportFormat.Percent(l.Share))}</td><td>{l.Fills:N0}</td><td class=\"l\">{E(l.Where)}</td></tr>\n");
            sb.Append("</table>\n");
        }
        sb.Append("</body></html>\n");
        File.WriteAllText(path, sb.ToString());
    }

    static void Traffic(StringBuilder sb, string title, List<TrafficRow> rows)
    {
        if (rows.Count == 0) return;
        sb.Append("<h2>").Append(E(title)).Append("</h2><table><tr><th class=\"l\"></th><th>accesses</th><th>fills</th><th>write-backs</th><th>bytes in</th><th>bytes out</th></tr>\n");
        foreach (var r in rows)
            sb.Append($"<tr><td class=\"l\">{E(r.Name)}</td><td>{r.Accesses:N0}</td><td>{r.Fills:N0}</td><td>{r.WriteBacks:N0}</td><td>{E(ReportFormat.Bytes(r.BytesIn))}</td><td>{E(ReportFormat.Bytes(r.BytesOut))}</td></tr>\n");
        sb.Append("</table>\n");
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
