using ScottPlot;

namespace LegoEmu.Cluster.Trace;

/// <summary>The report's four plots, drawn with ScottPlot: as SVG for the HTML report and as PNG files.</summary>
public static class Plots
{
    public const int Width = 900;
    public const int Height = 420;

    public static IEnumerable<(string Name, string Title, Plot Plot)> All(TraceReportModel m)
    {
        if (m.Mrc.Count > 0) yield return ("mrc", "Miss-ratio curve", MissRatioCurve(m));
        if (m.Cdf.Count > 0) yield return ("cdf", "Access CDF", AccessCdf(m));
        if (m.WorkingSet.Count > 0) yield return ("working-set", "Working set over time", WorkingSet(m));
        if (m.HeatMap != null && m.HeatMap.RowStart.Length > 0) yield return ("heatmap", "Time x address heat map", HeatMap(m));
    }

    static Plot MissRatioCurve(TraceReportModel m)
    {
        var plt = new Plot();
        double[] xs = m.Mrc.Select(p => Math.Log2(p.Bytes)).ToArray();
        double[] ys = m.Mrc.Select(p => p.MissRatio * 100).ToArray();
        var line = plt.Add.Scatter(xs, ys);
        line.LegendText = m.Estimated ? "predicted (SHARDS)" : "predicted (exact)";
        line.LineWidth = 2;
        double configured = Math.Log2(Math.Max(1, m.ConfiguredCacheLines) * (double)m.Header.LineSize);
        // A configured cache far beyond the footprint would squash the curve into a corner.
        if (m.PredictedMissRatio != null && m.ConfiguredCacheLines > 0 && configured <= xs.Max() + 1)
        {
            xs = [.. xs, configured];
            var v = plt.Add.VerticalLine(Math.Log2(m.ConfiguredCacheLines * (double)m.Header.LineSize));
            v.LegendText = $"configured ExCache ({ReportFormat.Bytes(m.ConfiguredCacheLines * (double)m.Header.LineSize)})";
            v.LinePattern = LinePattern.Dashed;
        }
        plt.ShowLegend();
        LogBytesAxis(plt, xs);
        plt.Axes.SetLimitsX(xs.Min() - 0.3, xs.Max() + 0.3);
        plt.Title("Miss-ratio curve (fully associative LRU)");
        plt.XLabel("cache size");
        plt.YLabel("miss ratio (%)");
        plt.Axes.SetLimitsY(0, Math.Max(1, ys.Max() * 1.05));
        return plt;
    }

    static Plot AccessCdf(TraceReportModel m)
    {
        var plt = new Plot();
        var s = plt.Add.Scatter(m.CdfCurve.Select(p => p[0] * 100).ToArray(), m.CdfCurve.Select(p => p[1] * 100).ToArray());
        s.LineWidth = 2;
        s.MarkerSize = 0;
        var marks = plt.Add.ScatterPoints(m.Cdf.Select(c => c.FootprintShare * 100).ToArray(), m.Cdf.Select(c => c.AccessShare * 100).ToArray());
        marks.MarkerSize = 8;
        marks.LegendText = "50, 75, 90, 95, 99, 100 % of " + m.Basis;
        plt.ShowLegend(Alignment.LowerRight);
        plt.Title($"Share of {m.Basis} vs share of the footprint ({ReportFormat.Bytes(m.FootprintBytes)})");
        plt.XLabel("hottest part of the footprint (%)");
        plt.YLabel($"share of {m.Basis} (%)");
        plt.Axes.SetLimits(0, 100, 0, 101);
        return plt;
    }

    static Plot WorkingSet(TraceReportModel m)
    {
        var plt = new Plot();
        double[] xs = m.WorkingSet.Select(p => (p.StartSeconds + p.EndSeconds) / 2).ToArray();
        double[] ys = m.WorkingSet.Select(p => p.Bytes / 1048576.0).ToArray();
        var s = plt.Add.Scatter(xs, ys);
        s.LineWidth = 2;
        plt.Title($"Working set per {m.WorkingSet[0].EndSeconds - m.WorkingSet[0].StartSeconds:F3} s window");
        plt.XLabel("time (s)");
        plt.YLabel("distinct bytes touched (MiB)");
        plt.Axes.SetLimitsY(0, Math.Max(1e-3, ys.Max() * 1.1));
        return plt;
    }

    static Plot HeatMap(TraceReportModel m)
    {
        var hm = m.HeatMap!;
        int rows = hm.Cells.Length, cols = hm.Cells[0].Length;
        var data = new double[rows, cols];
        // Row 0 is drawn at the top: put the highest addresses there.
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                data[rows - 1 - r, c] = Math.Log10(1 + hm.Cells[r][c]);
        var plt = new Plot();
        var heat = plt.Add.Heatmap(data);
        heat.Colormap = new ScottPlot.Colormaps.Turbo();
        heat.Extent = new CoordinateRect(0, cols * hm.WindowSeconds, 0, rows);
        var bar = plt.Add.ColorBar(heat);
        bar.Label = $"log10(1 + {m.Basis})";
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        int step = Math.Max(1, rows / 8);
        for (int r = 0; r < rows; r += step) ticks.AddMajor(r + 0.5, $"0x{hm.RowStart[r]:x}");
        plt.Axes.Left.TickGenerator = ticks;
        plt.Title("Accesses by time and address band (bands hold equal numbers of touched lines)");
        plt.XLabel("time (s)");
        plt.YLabel("address band starting at");
        return plt;
    }

    static void LogBytesAxis(Plot plt, double[] log2Bytes)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        int lo = (int)Math.Floor(log2Bytes.Min()), hi = (int)Math.Ceiling(log2Bytes.Max());
        int step = Math.Max(1, (hi - lo + 7) / 8);
        for (int e = lo; e <= hi; e += step) ticks.AddMajor(e, ReportFormat.Bytes(Math.Pow(2, e)));
        plt.Axes.Bottom.TickGenerator = ticks;
    }

    public static string Svg(Plot p) => p.GetSvgXml(Width, Height);

    public static void SavePng(Plot p, string path) => p.SavePng(path, Width, Height);
}
