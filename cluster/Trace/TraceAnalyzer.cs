using System.Diagnostics;
using LegoEmu.Mem.Trace;

namespace LegoEmu.Cluster.Trace;

/// <summary>Options of one analysis.</summary>
/// <param name="DataOnly">Leave out records made by system calls and signal frames and those of decoding (fetches and the misses they made).</param>
public sealed record AnalysisOptions(ulong RangeStart = 0, ulong RangeEnd = ulong.MaxValue, int Windows = 60, int HeatRows = 64,
    int HotLines = 20, TextWriter? Progress = null, bool DataOnly = false);

/// <summary>
/// Two streaming passes over a trace. The first counts accesses per line, stack distances (the
/// miss-ratio curve) and traffic per node and vRegion; the second, knowing the duration and the set
/// of lines, fills the working-set windows and the heat map. Memory follows the footprint only (and
/// the code: costs are charged per instruction). The first pass also replays the configured ExCache.
/// </summary>
public sealed class TraceAnalyzer(string path, AnalysisOptions options)
{
    /// <summary>Per-line counts in arrays indexed by the stack's dense line ids: one hash lookup per record.</summary>
    sealed class LineTable(StackDistance ids)
    {
        public long[] Count = new long[1024];
        public long[] Fills = new long[1024];
        public StackDistance Ids => ids;
        public int Lines => ids.Lines;

        public void Fit(int id)
        {
            if (id < Count.Length) return;
            int n = Math.Max(Count.Length * 2, id + 1);
            Array.Resize(ref Count, n);
            Array.Resize(ref Fills, n);
        }
    }

    sealed class Traffic
    {
        public long Accesses, Fills, WriteBacks, BytesIn, BytesOut;
    }

    const int RegionShift = 30;

    public TraceReportModel Analyze()
    {
        var stack = new StackDistance();
        var lines = new LineTable(stack);
        Traffic? lastRegion = null;
        ulong lastRegionId = ulong.MaxValue;
        var nodes = new SortedDictionary<int, Traffic>();
        var regions = new SortedDictionary<ulong, Traffic>();
        var mappings = new List<(ulong, ulong, string)>();
        TraceReportModel m;
        long lastNs = 0;
        long sampledFills = 0;
        using (var r = new TraceReader(path))
        {
            var h = r.Header;
            m = new TraceReportModel { Header = h };
            bool accessLevel = h.Level == "accesses";
            m.Basis = accessLevel ? "accesses" : "fills";
            int lineSize = h.LineSize;
            m.DataOnly = options.DataOnly;
            m.Attributed = r.Attributed;
            var code = new CodeAttribution();
            var sim = StartReplay(m, accessLevel);
            var progress = new ProgressLine(options.Progress, "pass 1/2", r);
            while (r.Next(out var e))
            {
                progress.Tick();
                if (e.Kind == TraceRecordKind.Mapping)
                {
                    mappings.Add((e.Line, e.End, e.Name ?? ""));
                    continue;
                }
                if (e.Kind == TraceRecordKind.Instructions)
                {
                    code.At(e.Ip).Instructions += e.Count;
                    m.RetiredInstructions += e.Count;
                    continue;
                }
                if (e.TimeNs > lastNs) lastNs = e.TimeNs;
                // The replay sees what the cache saw: every access, whatever the filters.
                if (sim != null)
                {
                    if (e.Kind is TraceRecordKind.Read or TraceRecordKind.Write or TraceRecordKind.Fetch) sim.Access(e.Line);
                    else if (e.Kind == TraceRecordKind.Drop) sim.Drop(e.Line);
                    else if (e.Kind == TraceRecordKind.PrefetchFill) sim.Prefetch(e.Line);
                }
                if (options.DataOnly && (e.Kind == TraceRecordKind.Fetch || e.Flags != TraceRecordFlags.None)) continue;
                if (e.Line < options.RangeStart || e.Line >= options.RangeEnd) continue;
                m.Records++;
                switch (e.Kind)
                {
                    case TraceRecordKind.Read:
                    case TraceRecordKind.Write:
                    case TraceRecordKind.Fetch:
                        if (e.Kind == TraceRecordKind.Read)
                        {
                            m.Reads++;
                            code.At(e.Ip).Reads++;
                        }
                        else if (e.Kind == TraceRecordKind.Write)
                        {
                            m.Writes++;
                            code.At(e.Ip).Writes++;
                        }
                        else m.Fetches++;
                        m.AccessRecords++;
                        int id = stack.Reference(e.Line);
                        lines.Fit(id);
                        lines.Count[id]++;
                        if (e.Line >> RegionShift != lastRegionId)
                        {
                            lastRegionId = e.Line >> RegionShift;
                            lastRegion = Region(regions, e.Line);
                        }
                        lastRegion!.Accesses++;
                        break;
                    case TraceRecordKind.Fill:
                    {
                        m.Fills++;
                        var charged = code.At(e.Ip);
                        charged.Misses++;
                        if (e.Node >= 0) charged.MemoryFills++;
                        int fid = stack.IdOf(e.Line);
                        lines.Fit(fid);
                        lines.Fills[fid]++;
                        if (!accessLevel) lines.Count[fid]++;
                        else sampledFills++;
                        var reg = Region(regions, e.Line);
                        reg.Fills++;
                        if (e.Node < 0) m.LocalZeroFills++;
                        else
                        {
                            var n = Node(nodes, e.Node);
                            n.Fills++;
                            n.BytesOut += lineSize;
                            reg.BytesOut += lineSize;
                        }
                        break;
                    }
                    case TraceRecordKind.PrefetchFill:
                    {
                        // Fetched ahead of the guest: bytes from its node, but no miss of any instruction.
                        m.PrefetchFills++;
                        var reg = Region(regions, e.Line);
                        reg.BytesOut += lineSize;
                        if (e.Node >= 0)
                        {
                            // The node served the line all the same: its traffic row counts it.
                            var n = Node(nodes, e.Node);
                            n.Fills++;
                            n.BytesOut += lineSize;
                        }
                        break;
                    }
                    case TraceRecordKind.WriteBack:
                    {
                        m.WriteBacks++;
                        code.At(e.Ip).WriteBacks++;
                        var reg = Region(regions, e.Line);
                        reg.WriteBacks++;
                        reg.BytesIn += lineSize;
                        if (e.Node >= 0)
                        {
                            var n = Node(nodes, e.Node);
                            n.WriteBacks++;
                            n.BytesIn += lineSize;
                        }
                        break;
                    }
                    case TraceRecordKind.Evict:
                        m.Evictions++;
                        break;
                    case TraceRecordKind.Drop:
                        m.Drops++;
                        break;
                }
            }
            progress.Done();
            m.Complete = r.Complete;
            m.GuestAccesses = r.TotalAccesses;
            m.GuestMisses = r.TotalMisses;
            m.KernelAccesses = r.KernelAccesses;
            FinishReplay(m, sim);
            if (r.Complete && r.DurationNs > lastNs) lastNs = r.DurationNs;
            m.DurationSeconds = lastNs / 1e9;
            if (options.RangeStart != 0 || options.RangeEnd != ulong.MaxValue)
                m.Range = $"0x{options.RangeStart:x}-0x{options.RangeEnd:x}";

            double rate = h.SampleRate;
            m.Estimated = rate < 1;
            m.FootprintLines = (long)Math.Round(lines.Lines / rate);
            m.FootprintBytes = m.FootprintLines * lineSize;
            BuildCdf(m, lines, rate, lineSize);
            m.ConfiguredCacheLines = h.CacheSize / lineSize;
            if (accessLevel && stack.References > 0)
            {
                // The guest's count covers data accesses only; sampled fetch records stand for themselves.
                long dataAccesses = options.DataOnly ? m.GuestAccesses - m.KernelAccesses : m.GuestAccesses;
                bool whole = m.Complete && m.Range == null && dataAccesses > 0;
                if (rate < 1 && whole)
                    stack.AdjustToExpected((long)Math.Round(dataAccesses * rate) + m.Fetches);
                long sampledRefs = m.AccessRecords;
                BuildMrc(m, stack, rate, lineSize);
                m.PredictedMissRatio = stack.MissRatio(m.ConfiguredCacheLines * rate);
                // A whole trace carries the ExCache's own miss count: the true ratio, not an estimate. Left to
                // data, the misses are those of the data records the trace holds.
                m.MeasuredMissRatio = !whole ? (double)sampledFills / sampledRefs
                    : options.DataOnly ? sampledFills / rate / dataAccesses
                    : m.GuestMisses / (m.GuestAccesses + m.Fetches / rate);
            }
            // A sampled trace holds the traffic of the sampled lines only: scale it up.
            long S(long v) => (long)Math.Round(v / rate);
            foreach (var (id, t) in nodes)
                m.Nodes.Add(new TrafficRow(id == 0 && h.MemoryNodes == 0 ? "in-process" : $"node {id}", S(t.Accesses), S(t.Fills), S(t.WriteBacks), S(t.BytesIn), S(t.BytesOut)));
            foreach (var (id, t) in regions)
                m.Regions.Add(new TrafficRow($"0x{id << RegionShift:x}", S(t.Accesses), S(t.Fills), S(t.WriteBacks), S(t.BytesIn), S(t.BytesOut)));
            var namer = new AddressNamer(h.Program, h.LoadBias, mappings);
            BuildHotLines(m, lines, namer, lineSize);
            if (m.Attributed) code.Build(m, new CodeSymbols(h.Program, h.LoadBias, mappings), rate, options.HotLines);
        }
        SecondPass(m, lines, lastNs);
        return m;
    }

    /// <summary>The configured ExCache's replay, when the trace holds every access of every line.</summary>
    static SetAssociativeSimulator? StartReplay(TraceReportModel m, bool accessLevel)
    {
        var h = m.Header;
        if (!accessLevel)
        {
            m.SimulationNote = "not replayed: a misses-only trace has no access stream (record with --trace-level accesses)";
            return null;
        }
        if (h.SampleRate < 1)
        {
            m.SimulationNote = "not replayed: the trace is sampled, and a set-associative cache's misses depend on every line, sampled or not";
            return null;
        }
        if (SetAssociativeSimulator.Unsupported(h.CacheSize, h.CacheWays, h.LineSize, h.Policy) is { } why)
        {
            m.SimulationNote = "not replayed: " + why;
            return null;
        }
        return new SetAssociativeSimulator(h.CacheSize, h.CacheWays, h.LineSize, h.Policy);
    }

    static void FinishReplay(TraceReportModel m, SetAssociativeSimulator? sim)
    {
        if (sim == null) return;
        m.SimulatedMisses = sim.Misses;
        m.SimulatedMissRatio = sim.Accesses == 0 ? 0 : (double)sim.Misses / sim.Accesses;
        m.SimulationNote = m.Complete
            ? "replayed from every access of the trace (system calls and decoding included, as the cache saw them)"
            : "replayed from what was recorded: the trace was cut short";
    }

    static Traffic Region(SortedDictionary<ulong, Traffic> regions, ulong line)
    {
        ulong id = line >> RegionShift;
        if (!regions.TryGetValue(id, out var t)) regions[id] = t = new Traffic();
        return t;
    }

    static Traffic Node(SortedDictionary<int, Traffic> nodes, int id)
    {
        if (!nodes.TryGetValue(id, out var t)) nodes[id] = t = new Traffic();
        return t;
    }

    static void BuildCdf(TraceReportModel m, LineTable lines, double rate, int lineSize)
    {
        var counts = new List<long>(lines.Lines);
        long total = 0;
        for (int id = 0; id < lines.Lines; id++)
        {
            long c = lines.Count[id];
            if (c == 0) continue;
            counts.Add(c);
            total += c;
        }
        if (total == 0) return;
        counts.Sort((a, b) => b.CompareTo(a));
        int every = Math.Max(1, counts.Count / 400);
        long cumulative = 0;
        m.CdfCurve.Add([0, 0]);
        for (int i = 0; i < counts.Count; i++)
        {
            cumulative += counts[i];
            if ((i + 1) % every == 0 || i == counts.Count - 1)
                m.CdfCurve.Add([(double)(i + 1) / counts.Count, (double)cumulative / total]);
        }
        double[] shares = [0.5, 0.75, 0.9, 0.95, 0.99, 1.0];
        long running = 0;
        int k = 0;
        for (int i = 0; i < counts.Count && k < shares.Length; i++)
        {
            running += counts[i];
            while (k < shares.Length && running >= shares[k] * total - 1e-9)
            {
                long n = (long)Math.Round((i + 1) / rate);
                m.Cdf.Add(new CdfPoint(shares[k], n, n * lineSize, m.FootprintLines == 0 ? 0 : (double)n / m.FootprintLines));
                k++;
            }
        }
        string of = $"{ReportFormat.Bytes(m.FootprintBytes)} footprint";
        var p90 = m.Cdf.First(c => c.AccessShare == 0.9);
        var p95 = m.Cdf.First(c => c.AccessShare == 0.95);
        string what = m.Basis == "fills" ? "ExCache fills" : "accesses";
        m.CdfSentence = $"90 % of {what} go to {ReportFormat.Bytes(p90.Bytes)} of a {of} ({p90.FootprintShare:P2}); " +
            $"95 % to {ReportFormat.Bytes(p95.Bytes)} ({p95.FootprintShare:P2}).";
    }

    static void BuildMrc(TraceReportModel m, StackDistance stack, double rate, int lineSize)
    {
        long footprint = Math.Max(1, m.FootprintLines);
        var sizes = new SortedSet<long>();
        for (long c = 1; c <= footprint * 2; c *= 2) sizes.Add(c);
        // Denser points where the curve usually bends: quarter steps between powers of two.
        for (long c = 4; c <= footprint * 2; c *= 2)
            for (int q = 1; q < 4; q++) sizes.Add(c + c * q / 4);
        sizes.Add(footprint);
        if (m.ConfiguredCacheLines > 0 && m.ConfiguredCacheLines <= footprint * 4) sizes.Add(m.ConfiguredCacheLines);
        foreach (long c in sizes)
            m.Mrc.Add(new MrcPoint(c, c * lineSize, stack.MissRatio(c * rate)));
    }

    void BuildHotLines(TraceReportModel m, LineTable lines, AddressNamer namer, int lineSize)
    {
        long total = 0;
        for (int id = 0; id < lines.Lines; id++) total += lines.Count[id];
        var top = new PriorityQueue<int, long>();
        for (int id = 0; id < lines.Lines; id++)
        {
            if (lines.Count[id] == 0) continue;
            top.Enqueue(id, lines.Count[id]);
            if (top.Count > options.HotLines) top.Dequeue();
        }
        var list = new List<HotLine>();
        while (top.TryDequeue(out int id, out _))
        {
            ulong line = lines.Ids.LineOf(id);
            list.Add(new HotLine(line, lines.Count[id], lines.Fills[id], total == 0 ? 0 : (double)lines.Count[id] / total, namer.Name(line, lineSize)));
        }
        list.Reverse();
        m.HotLines = list;
    }

    void SecondPass(TraceReportModel m, LineTable lines, long durationNs)
    {
        int windows = Math.Max(1, options.Windows);
        long windowNs = Math.Max(1, (durationNs + windows) / windows);
        // Bands hold equal numbers of touched lines, in address order; each line's band is looked up by id.
        int count = lines.Lines;
        var order = new int[count];
        var keys = new ulong[count];
        for (int id = 0; id < count; id++) { order[id] = id; keys[id] = lines.Ids.LineOf(id); }
        Array.Sort(keys, order);
        int rows = Math.Max(1, Math.Min(options.HeatRows, count));
        var rowOf = new int[count];
        var rowStart = new ulong[rows];
        for (int rank = 0, previous = -1; rank < count; rank++)
        {
            int row = (int)((long)rank * rows / count);
            rowOf[order[rank]] = row;
            if (row != previous) rowStart[row] = keys[rank];
            previous = row;
        }
        var cells = new double[rows][];
        for (int i = 0; i < rows; i++) cells[i] = new double[windows];
        var wsCounts = new long[windows];
        var wsAccesses = new long[windows];
        // The window in which each line was last counted: distinct lines per window without a set.
        var lastWindow = new int[count];
        Array.Fill(lastWindow, -1);
        bool accessLevel = m.Header.Level == "accesses";
        double rate = m.Header.SampleRate;
        using (var r = new TraceReader(path))
        {
            var progress = new ProgressLine(options.Progress, "pass 2/2", r);
            while (r.Next(out var e))
            {
                progress.Tick();
                if (options.DataOnly && (e.Kind == TraceRecordKind.Fetch || e.Flags != TraceRecordFlags.None)) continue;
                bool counts = accessLevel
                    ? e.Kind is TraceRecordKind.Read or TraceRecordKind.Write or TraceRecordKind.Fetch
                    : e.Kind == TraceRecordKind.Fill;
                if (!counts || e.Line < options.RangeStart || e.Line >= options.RangeEnd) continue;
                int w = (int)Math.Min(windows - 1, e.TimeNs / windowNs);
                int id = lines.Ids.IdOf(e.Line);
                if (id >= count) continue; // not seen in pass 1: the file changed under us
                if (lastWindow[id] != w)
                {
                    lastWindow[id] = w;
                    wsCounts[w]++;
                }
                wsAccesses[w]++;
                cells[rowOf[id]][w]++;
            }
            progress.Done();
        }
        int lineSize = m.Header.LineSize;
        for (int w = 0; w < windows; w++)
        {
            long n = (long)Math.Round(wsCounts[w] / rate);
            m.WorkingSet.Add(new WindowPoint(w * windowNs / 1e9, (w + 1) * windowNs / 1e9, (long)Math.Round(wsAccesses[w] / rate), n, n * lineSize));
        }
        m.HeatMap = new HeatMapData { Cells = cells, RowStart = rowStart, WindowSeconds = windowNs / 1e9 };
    }
}

/// <summary>A "pass 1/2: 40 %" line on stderr every 5 s, for analyses that take a while.</summary>
sealed class ProgressLine(TextWriter? w, string what, TraceReader reader)
{
    readonly long _start = Stopwatch.GetTimestamp();
    long _next = Stopwatch.GetTimestamp() + 2 * Stopwatch.Frequency;
    int _ticks;
    bool _shown;

    public void Tick()
    {
        if (w == null || (++_ticks & 0xffff) != 0) return;
        long now = Stopwatch.GetTimestamp();
        if (now < _next) return;
        _next = now + 5 * Stopwatch.Frequency;
        _shown = true;
        double pct = reader.CompressedLength == 0 ? 100 : 100.0 * reader.CompressedPosition / reader.CompressedLength;
        w.WriteLine($"legoemu: trace report: {what}: {pct:F0} % ({(now - _start) / (double)Stopwatch.Frequency:F0} s)");
    }

    public void Done()
    {
        if (_shown) w!.WriteLine($"legoemu: trace report: {what}: done");
    }
}
