using System.Globalization;

namespace LegoEmu.Cluster.Trace;

/// <summary>The plain-text report printed by <c>legoemu trace report</c>.</summary>
public static class TextReport
{
    public static void Write(TraceReportModel m, TextWriter w)
    {
        var h = m.Header;
        var ic = CultureInfo.InvariantCulture;
        w.WriteLine($"trace of {h.Program} {string.Join(' ', h.Arguments.Skip(1))}".TrimEnd());
        w.WriteLine($"  level {h.Level}{(h.SampleRate < 1 ? $", SHARDS sampling rate {h.SampleRate.ToString("G4", ic)}" : "")}; " +
            $"ExCache {ReportFormat.Bytes(h.CacheSize)}, {h.CacheWays}-way, {h.LineSize} B lines, {h.Policy}; " +
            (h.MemoryNodes == 0 ? "in-process memory" : $"{h.MemoryNodes} memory nodes"));
        if (!m.Complete) w.WriteLine("  note: the trace was cut short (the guest was killed or the file is truncated); figures cover what was recorded");
        if (m.Range != null) w.WriteLine($"  restricted to addresses {m.Range}");
        w.WriteLine($"  {m.Records:N0} records in {m.DurationSeconds:F3} s: {m.Reads:N0} reads, {m.Writes:N0} writes, {m.Fetches:N0} fetches, " +
            $"{m.Fills:N0} fills ({m.LocalZeroFills:N0} local zero fills), {m.PrefetchFills:N0} prefetch fills, {m.Evictions:N0} evictions, {m.Drops:N0} lines dropped, {m.WriteBacks:N0} write-backs");
        if (m.RetiredInstructions > 0) w.WriteLine($"  the guest retired {m.RetiredInstructions:N0} instructions");
        if (m.GuestAccesses > 0) w.WriteLine($"  the guest made {m.GuestAccesses:N0} data accesses in all ({m.KernelAccesses:N0} of them by system calls and signal frames); the ExCache missed {m.GuestMisses:N0} times");
        if (m.DataOnly) w.WriteLine("  data only: records made by system calls, signal frames and instruction decoding are left out");
        w.WriteLine();
        w.WriteLine($"footprint: {m.FootprintLines:N0} lines, {ReportFormat.Bytes(m.FootprintBytes)} ({m.FootprintBytes:N0} bytes){(m.Estimated ? ", estimated from the sample" : "")}");
        if (m.Cdf.Count > 0)
        {
            w.WriteLine(m.CdfSentence);
            w.WriteLine();
            w.WriteLine($"  {"share of " + m.Basis,-20} {"hottest lines",14} {"bytes",10} {"of footprint",13}");
            foreach (var c in m.Cdf)
                w.WriteLine($"  {ReportFormat.Percent(c.AccessShare),-20} {c.Lines,14:N0} {ReportFormat.Bytes(c.Bytes),10} {ReportFormat.Percent(c.FootprintShare),13}");
        }
        w.WriteLine();
        if (m.Mrc.Count > 0)
        {
            w.WriteLine($"miss-ratio curve (fully associative LRU, from stack distances{(m.Estimated ? ", SHARDS-scaled" : ", exact")}):");
            w.WriteLine($"  {"cache lines",12} {"bytes",10} {"miss ratio",11}");
            long last = -1;
            foreach (var p in m.Mrc)
            {
                // Powers of two and the configured size; the quarter steps are for the plots.
                bool pow2 = (p.Lines & (p.Lines - 1)) == 0;
                if (!pow2 && p.Lines != m.ConfiguredCacheLines && p.Lines != m.FootprintLines) continue;
                if (p.Lines == last) continue;
                last = p.Lines;
                string mark = p.Lines == m.ConfiguredCacheLines ? "  <- configured ExCache" : p.Lines == m.FootprintLines ? "  <- footprint" : "";
                w.WriteLine($"  {p.Lines,12:N0} {ReportFormat.Bytes(p.Bytes),10} {ReportFormat.Percent(p.MissRatio),11}{mark}");
            }
            if (m.PredictedMissRatio is { } pred)
                w.WriteLine($"  predicted miss ratio at the configured {m.ConfiguredCacheLines:N0} lines: {ReportFormat.Percent(pred)}; " +
                    $"the ExCache ({h.CacheWays}-way {h.Policy}) measured {ReportFormat.Percent(m.MeasuredMissRatio ?? 0)}");
        }
        else w.WriteLine("miss-ratio curve: needs a trace recorded with --trace-level accesses");
        w.WriteLine();
        if (m.SimulatedMisses is { } simulated)
            w.WriteLine($"set-associative replay of the configured ExCache ({h.CacheWays}-way {h.Policy}): {simulated:N0} misses " +
                $"({ReportFormat.Percent(m.SimulatedMissRatio ?? 0)} of the accesses replayed); the ExCache measured {m.GuestMisses:N0}. {m.SimulationNote}. " +
                "The curve above is a fully associative LRU cache; the replay is the configured one, conflicts within its sets included");
        else w.WriteLine($"set-associative replay: {m.SimulationNote}");
        w.WriteLine();
        if (m.WorkingSet.Count > 0)
        {
            w.WriteLine($"working set per window of {m.WorkingSet[0].EndSeconds - m.WorkingSet[0].StartSeconds:F3} s:");
            long peak = m.WorkingSet.Max(x => x.Bytes);
            int step = Math.Max(1, m.WorkingSet.Count / 12);
            for (int i = 0; i < m.WorkingSet.Count; i += step)
            {
                var p = m.WorkingSet[i];
                int bar = peak == 0 ? 0 : (int)Math.Round(30.0 * p.Bytes / peak);
                w.WriteLine($"  {p.StartSeconds,9:F3} s {ReportFormat.Bytes(p.Bytes),10} {new string('#', bar)}");
            }
            w.WriteLine($"  peak {ReportFormat.Bytes(peak)}");
            w.WriteLine();
        }
        string est = m.Estimated ? ", estimated from the sample" : "";
        WriteTraffic(w, $"traffic per memory node{est}:", m.Nodes);
        WriteTraffic(w, $"traffic per vRegion (1 GiB){est}:", m.Regions);
        WriteCode(w, m);
        if (m.HotLines.Count > 0)
        {
            w.WriteLine($"hottest lines (by {m.Basis}):");
            w.WriteLine($"  {"address",18} {m.Basis,12} {"share",8} {"fills",8}  where");
            foreach (var l in m.HotLines)
                w.WriteLine($"  0x{l.Address,-16:x} {l.Accesses,12:N0} {ReportFormat.Percent(l.Share),8} {l.Fills,8:N0}  {l.Where}");
        }
    }

    static void WriteCode(TextWriter w, TraceReportModel m)
    {
        if (!m.Attributed)
        {
            w.WriteLine("functions: this trace (format version 1) does not name the instructions that made its records");
            w.WriteLine();
            return;
        }
        string est = m.Header.SampleRate < 1 ? ", estimated from the sample" : "";
        if (m.Functions.Count > 0)
        {
            string by = m.Header.Level == "accesses" ? "data accesses" : "ExCache misses (a misses-only trace has no accesses)";
            w.WriteLine($"functions by {by} (each access, miss and write-back charged to the instruction that made it{est}):");
            w.WriteLine($"  {"instructions",14} {"accesses",12} {"reads",12} {"writes",12} {"misses",10} {"from memory",12} {"write-backs",12}  function (object)");
            foreach (var f in m.Functions)
                w.WriteLine($"  {f.Instructions,14:N0} {f.Accesses,12:N0} {f.Reads,12:N0} {f.Writes,12:N0} {f.Misses,10:N0} {f.MemoryFills,12:N0} {f.WriteBacks,12:N0}  {f.Function} ({Path.GetFileName(f.Object)})");
            w.WriteLine();
        }
        if (m.SourceLines.Count > 0)
        {
            w.WriteLine($"source lines by data accesses (DWARF line tables{est}):");
            w.WriteLine($"  {"instructions",14} {"accesses",12} {"misses",10} {"from memory",12} {"write-backs",12}  file:line (function)");
            foreach (var l in m.SourceLines)
                w.WriteLine($"  {l.Instructions,14:N0} {l.Accesses,12:N0} {l.Misses,10:N0} {l.MemoryFills,12:N0} {l.WriteBacks,12:N0}  {l.File}:{l.Line} ({l.Function})");
            w.WriteLine();
        }
    }

    static void WriteTraffic(TextWriter w, string title, List<TrafficRow> rows)
    {
        if (rows.Count == 0) return;
        w.WriteLine(title);
        w.WriteLine($"  {"",-20} {"accesses",12} {"fills",10} {"write-backs",12} {"bytes in",10} {"bytes out",10}");
        foreach (var r in rows)
            w.WriteLine($"  {r.Name,-20} {r.Accesses,12:N0} {r.Fills,10:N0} {r.WriteBacks,12:N0} {ReportFormat.Bytes(r.BytesIn),10} {ReportFormat.Bytes(r.BytesOut),10}");
        w.WriteLine();
    }
}
