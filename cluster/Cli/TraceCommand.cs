using System.CommandLine;
using System.Globalization;
using LegoEmu.Cluster.Trace;
using LegoEmu.Mem.Trace;

namespace LegoEmu.Cluster.Cli;

/// <summary><c>legoemu trace report FILE</c>: analysis of a trace recorded by <c>run --trace</c>.</summary>
public static class TraceCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "A trace written by 'legoemu run --trace FILE'" };
        var json = new Option<bool>("--json") { Description = "Print the whole report as JSON instead of text" };
        var html = new Option<string?>("--html") { Description = "Also write a self-contained HTML report with plots", HelpName = "OUT.html" };
        var png = new Option<string?>("--png") { Description = "Also write the plots as PNG files into DIR", HelpName = "DIR" };
        var top = new Option<int>("--top") { Description = "How many of the hottest lines to list", DefaultValueFactory = _ => 20, HelpName = "N" };
        var windows = new Option<int>("--windows") { Description = "Time windows for the working set and the heat map", DefaultValueFactory = _ => 60, HelpName = "N" };
        var dataOnly = new Option<bool>("--data-only") { Description = "Leave out what system calls, signal frames and instruction decoding recorded: only the guest's own loads and stores, and the misses they made" };
        var callgrind = new Option<string?>("--callgrind") { Description = "Also write the per-instruction costs in callgrind's format (callgrind_annotate, KCachegrind)", HelpName = "OUT" };
        var folded = new Option<string?>("--folded") { Description = "Also write folded stacks (object;function count) for flame-graph tools", HelpName = "OUT" };
        var foldedBy = new Option<string>("--folded-by") { Description = "What the folded stacks count: accesses or misses", DefaultValueFactory = _ => "accesses", HelpName = "accesses|misses" };
        var range = new Option<string?>("--range") { Description = "Only addresses in START-END or START:+LENGTH (hex with 0x, or decimal; K/M/G for a length)", HelpName = "RANGE" };

        var report = new Command("report", "Footprint, access CDF, miss-ratio curve, working set, traffic and hottest lines of a trace");
        report.Arguments.Add(file);
        report.Options.Add(json);
        report.Options.Add(html);
        report.Options.Add(png);
        report.Options.Add(top);
        report.Options.Add(windows);
        report.Options.Add(range);
        report.Options.Add(dataOnly);
        report.Options.Add(callgrind);
        report.Options.Add(folded);
        report.Options.Add(foldedBy);
        report.SetAction(pr =>
        {
            ulong lo = 0, hi = ulong.MaxValue;
            if (pr.GetValue(range) is { } rtext && !TryParseRange(rtext, out lo, out hi))
                return Fail($"bad --range '{rtext}': use START-END or START:+LENGTH, e.g. 0x200000000:+64M", 2);
            if (pr.GetValue(top) < 0 || pr.GetValue(windows) < 1 || pr.GetValue(windows) > 10_000)
                return Fail("--top must be >= 0 and --windows between 1 and 10000", 2);
            if (pr.GetValue(foldedBy) is not ("accesses" or "misses"))
                return Fail($"bad --folded-by '{pr.GetValue(foldedBy)}': use accesses or misses", 2);
            var options = new AnalysisOptions(lo, hi, pr.GetValue(windows), 64, pr.GetValue(top), Console.Error, pr.GetValue(dataOnly));
            TraceReportModel m;
            try { m = new TraceAnalyzer(pr.GetValue(file)!, options).Analyze(); }
            catch (TraceFormatException e) { return Fail(e.Message, 1); }
            catch (IOException e) { return Fail(e.Message, 1); }
            if (pr.GetValue(json)) JsonReport.Write(m, Console.Out);
            else TextReport.Write(m, Console.Out);
            try
            {
                if (pr.GetValue(html) is { } htmlPath)
                {
                    HtmlReport.Write(m, htmlPath);
                    Console.Error.WriteLine($"legoemu: wrote {htmlPath}");
                }
                if ((pr.GetValue(callgrind) != null || pr.GetValue(folded) != null) && !m.Attributed)
                    return Fail("this trace (format version 1) does not say which instructions made its records; record it again for --callgrind or --folded", 1);
                if (pr.GetValue(callgrind) is { } cg)
                {
                    using (var w = new StreamWriter(cg)) CallgrindWriter.Write(m, w);
                    Console.Error.WriteLine($"legoemu: wrote {cg}");
                }
                if (pr.GetValue(folded) is { } fo)
                {
                    using (var w = new StreamWriter(fo)) FoldedWriter.Write(m, w, pr.GetValue(foldedBy) == "misses");
                    Console.Error.WriteLine($"legoemu: wrote {fo}");
                }
                if (pr.GetValue(png) is { } dir)
                {
                    Directory.CreateDirectory(dir);
                    foreach (var (name, _, plot) in Plots.All(m))
                    {
                        string p = Path.Combine(dir, name + ".png");
                        Plots.SavePng(plot, p);
                        Console.Error.WriteLine($"legoemu: wrote {p}");
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail(e.Message, 1);
            }
            return 0;
        });

        var cmd = new Command("trace", "Analyse memory traces recorded with 'legoemu run --trace'");
        cmd.Subcommands.Add(report);
        return cmd;
    }

    static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"legoemu: {message}");
        return code;
    }

    /// <summary>START-END or START:+LENGTH; numbers are hex with 0x or decimal, a length may carry K/M/G.</summary>
    public static bool TryParseRange(string text, out ulong start, out ulong end)
    {
        start = end = 0;
        int plus = text.IndexOf(":+", StringComparison.Ordinal);
        if (plus > 0)
        {
            if (!TryNumber(text[..plus], out start)) return false;
            string len = text[(plus + 2)..];
            ulong length;
            if (len.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) { if (!TryNumber(len, out length)) return false; }
            else if (SizeParser.TryParse(len, out long l) && l > 0) length = (ulong)l;
            else return false;
            end = start + length;
            return end > start;
        }
        int dash = text.IndexOf('-');
        if (dash <= 0) return false;
        return TryNumber(text[..dash], out start) && TryNumber(text[(dash + 1)..], out end) && end > start;
    }

    static bool TryNumber(string s, out ulong v)
    {
        s = s.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v);
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
    }
}
