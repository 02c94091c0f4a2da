using System.Diagnostics;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.Translate.CodeCache;

namespace LegoEmu.Cpu.Translate;

/// <summary>The translator's side of the code cache (<c>run --code-cache DIR</c>): binding saved regions, saving a program's.</summary>
public sealed partial class Translator
{
    ProgramCache? _cache;
    string? _cacheKey;
    bool _saveAtEnd;
    /// <summary>Regions compiled by the JIT since the program started: a program whose cache entry lacks many saves a new one.</summary>
    long _compiledAtOpen;

    /// <summary>Blocks that ran at least this often interpreted are saved as region heads too when a program ends.</summary>
    const long LukewarmRuns = 500;
    /// <summary>At most this many regions go into one cache entry (each costs compile time once, when saved).</summary>
    const int MaxSavedRegions = 2048;
    /// <summary>A program with a cache entry saves a new one when it compiled at least this many regions itself.</summary>
    const int NewRegionsWorthSaving = 32;

    /// <summary>
    /// A new program image (<paramref name="program"/>, with <paramref name="interpreter"/> as its dynamic linker)
    /// starts: with <c>--code-cache</c>, its saved regions are found and their heads marked for binding.
    /// </summary>
    /// <param name="saveAtEnd">False for a forked child: it uses its parent's entry, and leaves saving to the image's own runs.</param>
    public void OpenCodeCache(string program, string? interpreter, bool saveAtEnd = true)
    {
        _cache = null;
        _cacheKey = null;
        _deferred = null;
        _forksMarker = null;
        CodeCacheSaysForks = false;
        _saveAtEnd = saveAtEnd;
        if (_options.CodeCache is null || Eager) return;
        var view = _blocks.View;
        // Profiles count per block inside the code, and traces see the cache as its code does: neither is saved.
        if (view.Cache.Profile != null || view.Cache.Tracer != null) return;
        // A forked child mostly calls execve within microseconds of guest time: reading its parent's index and loading
        // the parent's assembly (milliseconds, a cc1's 7 MB) would be thrown away. It opens them when code gets hot.
        if (!saveAtEnd) _deferred = (program, interpreter);
        else Open(program, interpreter);
    }

    (string Program, string? Interpreter)? _deferred;

    void Open(string program, string? interpreter)
    {
        if (_options.CodeCache is not { } dir) return;
        var view = _blocks.View;
        long t0 = Stopwatch.GetTimestamp();
        _cacheKey = CacheKey.For(program, interpreter, view);
        _cache = ProgramCache.Open(dir, _cacheKey);
        _forksMarker = ForksMarker(dir, program);
        CodeCacheSaysForks = _cache != null && File.Exists(_forksMarker);
        _compiledAtOpen = Stats.RegionsCompiled;
        if (_cache != null)
        {
            Stats.CachedRegions += _cache.Count;
            _blocks.HotHeads = new HashSet<ulong>(_cache.Heads);
        }
        Stats.BindTicks += Stopwatch.GetTimestamp() - t0;
    }

    /// <summary>
    /// The program's last run with this entry forked: its process may start a component for its forks at once instead
    /// of after a while (a compiler driver forks within 30 ms of guest time, before a component started then is ready).
    /// </summary>
    public bool CodeCacheSaysForks { get; private set; }

    /// <summary>
    /// The program image ends: whether it forked is kept beside its entry for the next run (a marker file, present
    /// while the last run forked). Only an image's own run says so, not a forked child's.
    /// </summary>
    public void RecordForks(bool forked)
    {
        if (_cacheKey == null || _forksMarker is not { } marker || !_saveAtEnd || _options.CodeCache is not { } dir || forked == CodeCacheSaysForks) return;
        try
        {
            if (forked)
            {
                // The first run's save, which makes the directory, comes after this.
                Directory.CreateDirectory(dir);
                File.WriteAllBytes(marker, []);
            }
            else File.Delete(marker);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only a hint: the next run then starts its component later, as without one.
        }
    }

    string? _forksMarker;

    /// <summary>Keyed by the program file alone (<see cref="CacheKey.ForProgram"/>), so a run can read it before its guest exists.</summary>
    static string ForksMarker(string dir, string program) => Path.Combine(dir, CacheKey.ForProgram(program) + ".forks");

    /// <summary>Whether <paramref name="program"/>'s last run with the code cache in <paramref name="dir"/> forked (see <see cref="RecordForks"/>).</summary>
    public static bool LastRunForked(string dir, string program) => File.Exists(ForksMarker(dir, program));

    /// <summary>A forked child's first hot block: the parent's entry is opened now (see <see cref="OpenCodeCache"/>).</summary>
    void OpenDeferred()
    {
        if (_deferred is not var (program, interpreter)) return;
        _deferred = null;
        Open(program, interpreter);
    }

    bool BindCached(Block head)
    {
        long t0 = Stopwatch.GetTimestamp();
        try
        {
            var region = _cache!.Bind(head, _blocks.TryGet);
            if (region == null)
            {
                Stats.CachedRegionsStale++;
                return false;
            }
            region.WidenAt = region.Wide ? long.MaxValue : WidenEntries;
            lock (_sync)
            {
                if (_disposed) return false;
                Stats.RegionsFromCache++;
                Publish(head, region);
            }
            return true;
        }
        finally
        {
            Stats.BindTicks += Stopwatch.GetTimestamp() - t0;
        }
    }

    /// <summary>
    /// The program image ends (exit or execve): with <c>--code-cache</c>, its regions are saved for the next run
    /// when it had no cache entry, or compiled many regions of its own: those live now, and lukewarm code as
    /// regions of its own. Runs on the guest's thread; the ReadyToRun compilation makes the first run end later.
    /// </summary>
    public void SaveCodeCache()
    {
        if (_cacheKey is not { } key || _options.CodeCache is not { } dir) return;
        _cacheKey = null;
        if (!_saveAtEnd) return;
        long compiled = Stats.RegionsCompiled - _compiledAtOpen;
        if (_cache != null && compiled < NewRegionsWorthSaving) return;
        long t0 = Stopwatch.GetTimestamp();
        var plans = new List<CacheWriter.Plan>();
        var covered = new HashSet<ulong>();
        lock (_sync)
        {
            var live = new List<Region>(_live);
            live.Sort((a, b) => b.Entries.CompareTo(a.Entries));
            foreach (var r in live)
            {
                if (plans.Count == MaxSavedRegions) break;
                if (!covered.Add(r.Head)) continue;
                // A region condemned for its misses runs on until its replacement is compiled: saved as the replacement will be.
                plans.Add(new CacheWriter.Plan(r.Blocks, r.MissCalls || r.Blocks[0].MissCalls, r.Wide));
            }
            // Hot code still waiting for the JIT (a short program ends before its queue drains) is saved too.
            foreach (var job in _pending)
            {
                if (plans.Count == MaxSavedRegions) break;
                if (job.Cancelled || job.Replaces != null || !covered.Add(job.Head.Start)) continue;
                plans.Add(new CacheWriter.Plan(job.Blocks, job.Head.MissCalls, false));
            }
        }
        foreach (var p in plans)
            foreach (var b in p.Blocks) covered.Add(b.Start);
        var lukewarm = new List<Block>();
        foreach (var b in _blocks.All)
            if (!b.Compiled && b.Region == null && b.ExecCount >= LukewarmRuns && b.ExecCount < BlockCache.PresetHot && b.Insns.Length > 0 && !covered.Contains(b.Start))
                lukewarm.Add(b);
        lukewarm.Sort((a, b) => b.ExecCount.CompareTo(a.ExecCount));
        foreach (var head in lukewarm)
        {
            if (plans.Count == MaxSavedRegions) break;
            if (covered.Contains(head.Start)) continue;
            var blocks = RegionPlanner.Plan(head, _blocks.Peek, null, LukewarmRuns / 4);
            foreach (var b in blocks) covered.Add(b.Start);
            plans.Add(new CacheWriter.Plan(blocks, head.MissCalls, false));
        }
        if (plans.Count == 0) return;
        if (Crossgen.Locate(out string? why) is not { } compiler)
        {
            Stats.CacheNote = why;
            return;
        }
        Stats.CacheNote = CacheWriter.Save(dir, key, plans, _blocks.View, compiler, out int saved);
        Stats.RegionsSaved += saved;
        Stats.SaveTicks += Stopwatch.GetTimestamp() - t0;
    }
}
