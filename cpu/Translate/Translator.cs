using System.Collections.Concurrent;
using System.Diagnostics;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// Tier 1: turns hot blocks into compiled regions. A block that has run <see cref="TierOptions.Threshold"/>
/// times is planned into a region on the guest's thread (cheap) and compiled on a background thread,
/// while the guest keeps interpreting; the region is published to the head block when it is ready,
/// unless its code was invalidated meanwhile. With a threshold of 0 every block is translated, at once,
/// before it first runs. The code cache is bounded: past <see cref="MaxLiveRegions"/> the least-entered
/// half is dropped (and may be compiled again if it gets hot again).
/// </summary>
public sealed partial class Translator : IDisposable
{
    /// <summary>Live regions kept before the coldest half is evicted.</summary>
    public const int MaxLiveRegions = 8192;

    readonly BlockCache _blocks;
    readonly TierOptions _options;
    readonly object _sync = new();
    readonly List<Region> _live = new();
    readonly List<Job> _pending = new();
    // Newest first: what became hot last is what runs now; a burst of start-up code must not starve it.
    readonly BlockingCollection<Job> _queue = new(new ConcurrentStack<Job>());
    Thread? _worker;
    bool _disposed;

    sealed class Job(Block head, Block[] blocks, Region? replaces = null)
    {
        public readonly Block Head = head;
        public readonly Block[] Blocks = blocks;
        /// <summary>For a wider plan of a live region: the region it takes the place of.</summary>
        public readonly Region? Replaces = replaces;
        public bool Cancelled;
        /// <summary>Blocks past the head to compile as entries (under the lock until <see cref="Started"/>).</summary>
        public HashSet<ulong> Entries = new();
        /// <summary>Set under the lock when the compile takes <see cref="Entries"/>; later arrivals wait in <see cref="Late"/>.</summary>
        public bool Started;
        public List<Block>? Late;
        /// <summary>For a region compiled again for an added entry: how many times that has been done, this one included.</summary>
        public int Recompiles;
        /// <summary>Planned with the wide limits (a widening, or another entry for a region planned so).</summary>
        public bool Wide;
        /// <summary>How many wide plans the region's head has had, this one included.</summary>
        public int Widenings;
        /// <summary>Compiled again because the region it replaces left at front-table misses too often.</summary>
        public bool ForMisses;
    }

    /// <summary>
    /// Times a region is planned wide. A wide region entered often still leaves for hot code it lacks: a bytecode
    /// interpreter's handlers that had not run, or not exited through a link, when the dispatch was first planned wide.
    /// </summary>
    const int MaxWidenings = 8;

    /// <summary>Times a region is compiled again for one more entry before an arrival gets a region of its own.</summary>
    const int MaxEntryRecompiles = 3;

    /// <summary>The job waiting for the JIT that holds each block (past its head), under the lock.</summary>
    readonly Dictionary<Block, Job> _pendingMember = new();

    /// <summary>Entries after which a region is planned again with the wide limits (<see cref="RegionPlanner.WideMaxBlocks"/>).</summary>
    public const long WidenEntries = 100_000;

    /// <summary>
    /// The entries a region must have had, per instruction of its wider plan, before that plan is compiled. A wide
    /// region saves the transitions between its parts, a few tens of nanoseconds an entry, and costs the JIT
    /// tens of microseconds an instruction, on the guest's second core: widened as soon as it was entered
    /// 100 000 times, xz -T1 of 300 KB compiled 12 wide regions of up to 512 instructions in its 0.8 s, most
    /// of them too late to pay back, while a region entered millions of times (gzip's hot loop over 30 MB)
    /// still widens early in its run.
    /// </summary>
    const long EntriesPerWideInstruction = 2000;

    static readonly Lazy<bool> Prepared = new(() =>
    {
        TranslatedRuntime.Prepare();
        // The tables every compile reads, made here on the compiler's thread before its first job.
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(RegionEmitter).TypeHandle);
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(EmitSseFloat).TypeHandle);
        return true;
    });

    public Translator(BlockCache blocks, TierOptions options)
    {
        _blocks = blocks;
        _options = options;
        blocks.Invalidated += OnInvalidated;
    }

    public TranslatorStats Stats { get; } = new();
    public int Threshold => _options.Threshold;
    /// <summary>The code cache's directory (run --code-cache), or null without one.</summary>
    public string? CodeCacheDirectory => _options.CodeCache;
    /// <summary>The interpreted runs that make a successor worth planning into a region with its head.</summary>
    long HotEnough => Math.Max(1, _options.Threshold / 4);
    bool Eager => _options.Threshold == 0;

    /// <summary>
    /// The runs of a block at which the compiler's thread is started, ahead of the first request: preparing it (the
    /// exit stub's and the runtime helpers' JIT, the emitters' tables) costs about 10 ms of its CPU, which the first
    /// region, the one a short program waits for while it interprets its hot loop, paid on top of its own compile.
    /// A block a sixteenth of the way to the threshold is likely to get there, once the guest has run
    /// <see cref="WarmUpInstructions"/>: a program that ends before (a hello, static or dynamic) starts no thread.
    /// </summary>
    long WarmUpAt => Math.Max(1, _options.Threshold / 16);

    /// <summary>Guest instructions retired before a warm block starts the compiler's thread (a dynamic hello runs 115 000).</summary>
    const long WarmUpInstructions = 300_000;

    /// <summary>
    /// The runs at which a long block (<see cref="EarlyBlockInstructions"/> or more) is asked for early: a quarter of the
    /// threshold, reached within the run's first <see cref="EarlyInstructions"/>. Straight-line code that is that hot so
    /// soon is an unrolled loop body doing the program's work (a hash's block function: sha256sum's rounds, 128-instruction
    /// blocks, got to the threshold after 1 100 calls, 3.7 M instructions interpreted, and to a quarter of it after 280),
    /// not start-up code. Lower thresholds made gcc slower (its compilers' code is warm everywhere and hot nowhere), and
    /// so did this rule for short blocks too: cc1 of a hello compiled 25 regions instead of 13, in 3 times the JIT's time
    /// (its start-up loops); with long blocks only, 13 (python3 -c pass: 3 regions more, of 35). The window bounds what
    /// is compiled early to what got that hot in the run's first few milliseconds.
    /// </summary>
    long EarlyAt => Math.Max(1, _options.Threshold / 4);

    /// <summary>The window of <see cref="EarlyAt"/>: guest instructions retired since the run started.</summary>
    const long EarlyInstructions = 3_000_000;

    /// <summary>The instructions a block needs for <see cref="EarlyAt"/> (the decoder cuts blocks at 128).</summary>
    const int EarlyBlockInstructions = 64;

    /// <summary>
    /// The runs of a block at which the dispatcher next asks the translator about it (<see cref="Early"/>), <paramref name="retired"/>
    /// guest instructions into the run: the count at which the compiler's thread should start getting ready
    /// (<see cref="WarmUpAt"/>), then the early mark while the run is young (<see cref="EarlyAt"/>), then the threshold.
    /// Only blocks that reach the mark ask again, so the common case stays one comparison.
    /// </summary>
    /// <param name="warm">Asked by a block that reached the mark: the compiler's thread is started if the run is long enough.</param>
    public long Due(long retired, bool warm = false)
    {
        long threshold = _options.Threshold;
        if (Eager || _disposed) return threshold;
        if (_worker == null)
        {
            if (retired < WarmUpInstructions || !warm) return Math.Min(threshold, WarmUpAt);
            StartWorker();
        }
        return retired < EarlyInstructions ? Math.Min(threshold, EarlyAt) : threshold;
    }

    /// <summary>Whether block <paramref name="b"/>, short of the threshold, is asked for now (see <see cref="EarlyAt"/>).</summary>
    public bool Early(Block b, long retired) =>
        b.Count >= EarlyBlockInstructions && b.ExecCount >= EarlyAt && retired >= WarmUpInstructions && retired < EarlyInstructions && !Eager;

    void StartWorker()
    {
        if (_worker != null || _disposed) return;
        // Below the guest's priority where the runtime applies thread priorities (on Linux it does not: the thread runs
        // at the guest's nice value).
        _worker = new Thread(Work) { IsBackground = true, Name = "legoemu translator", Priority = ThreadPriority.BelowNormal };
        _worker.Start();
    }

    /// <summary>Called by the interpreter on the guest's thread when <paramref name="head"/> became hot.</summary>
    public void Request(Block head)
    {
        head.TranslationRequested = true;
        if (head.Insns.Length == 0) return;
        OpenDeferred();
        if (_cache != null && head.ExecCount >= BlockCache.PresetHot)
        {
            // Hot because the code cache holds its region, not because it ran: bind that, or count it from zero.
            if (BindCached(head)) return;
            head.ExecCount = 0;
            head.TranslationRequested = false;
            return;
        }
        // Decoded before the entry was opened (a forked child's), so not marked: its saved region serves it all the same.
        if (_cache != null && _cache.Holds(head.Start) && BindCached(head)) return;
        if (!Eager && JoinHolder(head)) return;
        // Successors are planned in when they ran a quarter of the head's runs, as at the threshold (HotEnough): a block
        // asked for early (see EarlyAt) would otherwise get a region of its own, its unrolled successors not yet that hot.
        long hotEnough = Math.Min(HotEnough, Math.Max(1, head.ExecCount / 4));
        var blocks = RegionPlanner.Plan(head, _blocks.Peek, Eager ? _blocks.TryGet : null, hotEnough);
        Submit(new Job(head, blocks));
    }

    /// <summary>
    /// A hot block that a region already holds (compiled, or waiting for the JIT) becomes an entry of that region
    /// instead of the head of a new one: a loop's blocks all get hot within a few iterations of each other, and the
    /// dispatcher arrives in the middle of a region after every side exit, so regions of their own copied the same
    /// blocks over and over (bzip2: 20 790 instructions compiled for 3 337 distinct ones), and the JIT's time goes
    /// with the instructions compiled. False when the block should get a region of its own.
    /// </summary>
    bool JoinHolder(Block head)
    {
        lock (_sync)
        {
            if (_pendingMember.TryGetValue(head, out var job) && !job.Cancelled)
            {
                if (!job.Started) job.Entries.Add(head.Start);
                else (job.Late ??= new()).Add(head);
                return true;
            }
            if (head.HeldBy is not { } holder || holder.Blocks[0].Region != holder || holder.EntryRecompiles >= MaxEntryRecompiles) return false;
            var entries = new HashSet<ulong>(holder.AddedEntries) { head.Start };
            Stats.RegionsGivenEntries++;
            // Later arrivals in its blocks join the new job's entries (its blocks are pending members now).
            Submit(new Job(holder.Blocks[0], holder.Blocks, holder) { Entries = entries, Recompiles = holder.EntryRecompiles + 1, Wide = holder.Wide, Widenings = holder.Widenings });
            return true;
        }
    }

    /// <summary>
    /// Called on the guest's thread when <paramref name="region"/> reached <see cref="Region.WidenAt"/> entries: its
    /// head is planned again with the wide limits, and the wider region, once compiled, takes its place.
    /// </summary>
    public void Widen(Region region)
    {
        region.WidenAt = long.MaxValue;
        var head = region.Blocks[0];
        if (head.Region != region) return;
        Block[] blocks;
        lock (_sync) blocks = RegionPlanner.Plan(head, _blocks.Peek, null, HotEnough, wide: true, exclude: (b, hinted) => (hinted || IsDispatch(b)) && InOtherWide(b, region));
        // Nothing hot beyond what the region holds: compiling it again would only cost JIT time.
        if (blocks.Length <= region.Blocks.Length) return;
        int instructions = 0;
        foreach (var b in blocks) instructions += b.Insns.Length;
        // Not yet entered often enough to pay for compiling that much: asked again when it has been (planned
        // again then, with what has got hot meanwhile).
        long due = instructions * EntriesPerWideInstruction;
        if (region.Entries < due)
        {
            region.WidenAt = due;
            return;
        }
        Stats.RegionsWidened++;
        Submit(new Job(head, blocks, region) { Entries = new HashSet<ulong>(region.AddedEntries), Recompiles = region.EntryRecompiles, Wide = true, Widenings = region.Widenings + 1 });
    }

    /// <summary>
    /// Called by the dispatcher when it links a region's exit that an indirect JMP or CALL of block <paramref name="from"/>
    /// took to <paramref name="to"/>: the block learns the target for its next wide plan. A bytecode interpreter's
    /// dispatch jumps to dozens of handlers; with only the two targets the interpreter saw last, nearly every bytecode
    /// left the region and entered the next one (jq: 8 instructions per region entry, a third of its time in the exit's
    /// look-up and the next region's loads of the registers).
    /// </summary>
    public void NoteIndirect(ulong from, ulong to)
    {
        if (_blocks.Peek(from) is not { } b || b.Insns[^1].I.Code is not (Iced.Intel.Code.Jmp_rm64 or Iced.Intel.Code.Call_rm64)) return;
        var hints = b.IndirectHints ?? Array.Empty<ulong>();
        if (hints.Length >= MaxIndirectHints || Array.IndexOf(hints, to) >= 0) return;
        // A new array each time: the translator's thread reads the field once per plan.
        var more = new ulong[hints.Length + 1];
        hints.CopyTo(more, 0);
        more[^1] = to;
        b.IndirectHints = more;
    }

    /// <summary>At most this many indirect targets are remembered per block (a region has as many link slots).</summary>
    const int MaxIndirectHints = Region.LinkSlots;

    /// <summary>
    /// Whether <paramref name="b"/> belongs to a wide region other than <paramref name="region"/>, compiled or on its way
    /// (under the lock). A wide plan takes neither a dispatch nor its learnt targets from such a region: the handlers of
    /// a bytecode interpreter all get hot at once, and each one's region planned wide would take the dispatch and every
    /// other handler, one copy per handler; it leaves for the region that has them instead.
    /// </summary>
    bool InOtherWide(Block b, Region region)
    {
        if (b.Region is { Wide: true } r && r != region) return true;
        if (b.HeldBy is { Wide: true } h && h != region && h.Blocks[0].Region == h) return true;
        if (_pendingMember.TryGetValue(b, out var job) && job.Wide && !job.Cancelled && job.Replaces != region) return true;
        foreach (var p in _pending)
            if (p.Head == b && p.Wide && !p.Cancelled && p.Replaces != region) return true;
        return false;
    }

    /// <summary>More learnt targets than this make an indirect jump or call a dispatch.</summary>
    const int DispatchTargets = 4;

    /// <summary>
    /// A block that jumps to many places through a register or memory, as an interpreter's dispatch does (a PLT
    /// stub's jump has one target, a call through a function pointer a few: xz's match finders).
    /// </summary>
    static bool IsDispatch(Block b) => b.IndirectHints is { Length: > DispatchTargets };

    void Submit(Job job)
    {
        if (Eager)
        {
            Compile(job);
            return;
        }
        lock (_sync)
        {
            _pending.Add(job);
            for (int k = 1; k < job.Blocks.Length; k++) _pendingMember[job.Blocks[k]] = job;
        }
        StartWorker();
        _queue.Add(job);
        if (_helper == null && _queue.Count >= HelperQueued && Stats.RegionsCompiled < HelperRegions && Environment.ProcessorCount > 1) StartHelper();
    }

    /// <summary>
    /// Jobs waiting for the compiler's thread at which a second one is started. A straight-line loop body gets hot all at
    /// once and is compiled as several regions, each 7-14 ms of JIT (sha256sum: six of 512 instructions, asked for within
    /// 10 ms), while the guest interprets it: a second thread shares them out. Thread priorities do not apply on Linux
    /// (both threads run at the guest's), so on a busy machine a second runnable thread is also a second share of the
    /// cores for the compiles. sha256sum of 3 MB, 15 alternating runs at load 6.5 to 8: 192 ms wall and 202 ms CPU
    /// against 209 and 213 (medians), 8.7 M guest instructions interpreted against 11 M.
    /// </summary>
    const int HelperQueued = 2;

    /// <summary>
    /// Regions compiled after which no second thread is started, and it helps for one burst only: later on the guest runs
    /// mostly translated code and the two threads would compete with it for the cores (xz -T1 of 3 MB, whose regions keep
    /// coming for seconds, took 5.4 s of wall time with a second thread that stayed against 3.8 s without, for the same
    /// CPU).
    /// </summary>
    const int HelperRegions = 4;

    Thread? _helper;

    void StartHelper()
    {
        lock (_sync)
        {
            if (_helper != null || _disposed) return;
            _helper = new Thread(Help) { IsBackground = true, Name = "legoemu translator 2" };
        }
        _helper.Start();
    }

    void Work()
    {
        try
        {
            _ = Prepared.Value;
            foreach (var job in _queue.GetConsumingEnumerable()) Run(job);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>The second compiler thread: takes jobs while the first burst lasts, then ends.</summary>
    void Help()
    {
        try
        {
            _ = Prepared.Value;
            while (_queue.TryTake(out var job)) Run(job);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    void Run(Job job)
    {
        bool skip;
        // A head that became an entry of a region compiled meanwhile needs no region of its own.
        lock (_sync) skip = job.Cancelled || (job.Replaces == null ? job.Head.Region != null : job.Head.Region != job.Replaces);
        if (!skip) Compile(job);
        lock (_sync)
        {
            _pending.Remove(job);
            Forget(job);
        }
    }

    /// <summary>The job no longer holds its blocks; arrivals that came too late to be its entries may ask again (under the lock).</summary>
    void Forget(Job job)
    {
        for (int k = 1; k < job.Blocks.Length; k++)
            if (_pendingMember.TryGetValue(job.Blocks[k], out var j) && j == job) _pendingMember.Remove(job.Blocks[k]);
        if (job.Late == null) return;
        foreach (var b in job.Late)
            if (b.Region == null)
            {
                b.ExecCount = 0;
                b.TranslationRequested = false;
            }
        job.Late = null;
    }

    void Compile(Job job)
    {
        // Before the first region can run (and off the guest's thread, unless translating eagerly).
        _ = Prepared.Value;
        long t0 = Stopwatch.GetTimestamp();
        Region region;
        HashSet<ulong> entries;
        lock (_sync)
        {
            job.Started = true;
            entries = job.Entries;
        }
        try
        {
            bool groupsAlone;
            lock (_sync) groupsAlone = _groupsAlone.Contains(job.Head.Start) || HoldsLeftGroups(job.Blocks);
            region = RegionCompiler.Compile(job.Blocks, _blocks.View, job.Head.MissCalls, entries, groupsAlone);
            region.EntryRecompiles = job.Recompiles;
            region.Wide = job.Wide;
            region.Widenings = job.Widenings;
            if (region.Widenings < MaxWidenings) region.WidenAt = WidenEntries;
            // The warm-up call (no CPU) makes the JIT compile it here, off the guest's time, and
            // surfaces an emitter bug as an exception now rather than in the guest.
            region.Code(null!, 0);
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref Stats.RegionsFailed);
            if (Environment.GetEnvironmentVariable("LEGOEMU_DEBUG") == "1")
                Console.Error.WriteLine($"legoemu: region at 0x{job.Head.Start:x} not translated: {e}");
            return;
        }
        finally
        {
            Interlocked.Add(ref Stats.CompileTicks, Stopwatch.GetTimestamp() - t0);
        }
        lock (_sync)
        {
            if (job.Cancelled || _disposed) return;
            // Two compiler threads: a head that got a region from the other one meanwhile keeps it.
            if (!Eager && job.Replaces == null && job.Head.Region != null) return;
            if (job.Replaces is { } old)
            {
                // The narrow region goes; the wide one takes its head and entries (unless the old one went meanwhile).
                if (job.Head.Region != old) return;
                Drop(old);
                _live.Remove(old);
            }
            Stats.RegionsCompiled++;
            Stats.IlBytes += region.IlBytes;
            Publish(job.Head, region);
        }
    }

    /// <summary>Makes <paramref name="region"/> the code run at its head and its other entries (under the lock).</summary>
    void Publish(Block head, Region region)
    {
        // Its first window of miss exits (NoteMissExit) weighs the ExCache's hits and fills from now, not from the run's start.
        var cache = _blocks.View.Cache.Stats;
        region.HitsAtMissWindow = cache.Hits;
        region.FillsAtMissWindow = cache.Misses;
        Stats.LiveIlBytes += region.IlBytes;
        _live.Add(region);
        Stats.LiveRegions = _live.Count;
        head.Region = region;
        foreach (var b in region.Blocks) b.Compiled = true;
        // The other entry blocks run here too unless they have regions of their own (or get them later). A wide region
        // that holds a dispatch takes the entries of smaller regions: an interpreter's loop head is an entry of every
        // handler's region that reached it, and the guest should come back to the one holding most handlers.
        var blocks = region.Blocks;
        bool dispatches = false;
        if (region.Wide)
            foreach (var b in blocks) dispatches |= IsDispatch(b);
        for (int k = 1; k < blocks.Length; k++)
            if (!region.EntryBlocks[k]) blocks[k].HeldBy = region;
            else if (blocks[k].Region is not { } other || dispatches && other.Blocks.Length < blocks.Length) blocks[k].Region = region;
        if (_live.Count > MaxLiveRegions) EvictColdHalf();
    }

    /// <summary>
    /// A miss exit costs the exit, the interpreter running the rest of the block and the re-entry: a few hundred
    /// nanoseconds. A region that pays it more than about once per this many instructions is compiled again:
    /// with address groups that carry on past a range not in one line when it has groups that leave there (a frame
    /// crossing a line boundary), else with calls to the slow path (two streams that collide in the front table,
    /// accesses across lines).
    /// The rate is judged over windows of <see cref="MissWindow"/> exits. When most of the window's ExCache
    /// lookups needed a fill, the fill costs more than the exit and the slow path would pay it too (a loop's
    /// first pass over new memory), so only a far higher rate (<see cref="InstructionsPerFillingMissExit"/>)
    /// condemns the region: a small ExCache thrashing on an in-process memory component.
    /// </summary>
    const long InstructionsPerMissExit = 2048, InstructionsPerFillingMissExit = 256, MissWindow = 1024;

    /// <summary>
    /// A first, shorter window of miss exits, for a region that leaves nearly at once (fewer than
    /// <see cref="InstructionsPerEarlyMissExit"/> instructions per exit, the ExCache hitting): an address group over a
    /// frame that crosses a line boundary at the stack depth of the moment leaves at its first access on every entry.
    /// Such a region ran 1 024 entries as an exit and an interpreted block each before it was condemned (a CPython loop:
    /// 20 of its regions, each of them 1 024 to 3 000 entries).
    /// </summary>
    const long FirstMissWindow = 64, InstructionsPerEarlyMissExit = 256;

    /// <summary>Called by the dispatcher after <paramref name="region"/> left at a front-table miss.</summary>
    public void NoteMissExit(Region region, LegoEmu.Mem.Cache.CacheStats cache)
    {
        long exits = region.MissExits;
        if (region.MissCalls) return;
        bool first = exits == FirstMissWindow;
        if (!first && exits % MissWindow != 0) return;
        long run = region.InstructionsRun - region.InstructionsAtMissWindow;
        long hits = cache.Hits - region.HitsAtMissWindow, fills = cache.Misses - region.FillsAtMissWindow;
        if (first)
        {
            // The long window goes on counting from the region's start unless this one condemns it.
            if (run > FirstMissWindow * InstructionsPerEarlyMissExit || hits < 2 * fills) return;
        }
        else
        {
            region.InstructionsAtMissWindow = region.InstructionsRun;
            region.HitsAtMissWindow = cache.Hits;
            region.FillsAtMissWindow = cache.Misses;
            if (run > MissWindow * (hits >= 2 * fills ? InstructionsPerMissExit : InstructionsPerFillingMissExit)) return;
        }
        lock (_sync)
        {
            var head = region.Blocks[0];
            if (head.Region != region || _disposed) return;
            // Already being compiled again for its misses: it leaves meanwhile, as it did.
            foreach (var p in _pending)
                if (p.Replaces == region && p.ForMisses && !p.Cancelled) return;
            // Its address groups may be what left: their ranges crossing a line boundary at the frames' addresses of the
            // moment. Compiled again with groups that carry on past that first; with slow-path calls if it still leaves.
            if (!region.LeavingGroups || !_groupsAlone.Add(head.Start)) head.MissCalls = true;
            else
                foreach (var b in region.Blocks) _leftAtGroups.Add(b.Start);
            Stats.RegionsRecompiledWithMissCalls++;
            // Compiled again from the same plan, and run as it is until then: dropped, it ran interpreted until its head
            // got to the threshold again (a CPython loop: about 10 ms each time), and a wide region came back narrow.
            Submit(new Job(head, region.Blocks, region)
            {
                Entries = new HashSet<ulong>(region.AddedEntries), Recompiles = region.EntryRecompiles, Wide = region.Wide,
                Widenings = region.Widenings, ForMisses = true,
            });
        }
    }

    /// <summary>
    /// Heads whose regions are compiled with <see cref="RegionEmitter.GroupsAlone"/>: their address groups left too often
    /// (under the lock). By address, so that the set holds no block.
    /// </summary>
    readonly HashSet<ulong> _groupsAlone = new();

    /// <summary>
    /// The blocks of the regions whose address groups left too often (under the lock, by address). Another region holding
    /// one of them, a wider plan of the same code above all, is compiled with <see cref="RegionEmitter.GroupsAlone"/> from
    /// the start: the frames that crossed a line at some stack depth are still there. In a CPython loop, 8 of the 14 wide
    /// plans holding such blocks left at their groups and were compiled again within milliseconds (5-20 ms of the JIT
    /// each); compiled so at once, a region's IL is about a fifth larger.
    /// </summary>
    readonly HashSet<ulong> _leftAtGroups = new();

    bool HoldsLeftGroups(Block[] blocks)
    {
        foreach (var b in blocks)
            if (_leftAtGroups.Contains(b.Start)) return true;
        return false;
    }

    void EvictColdHalf()
    {
        _live.Sort((a, b) => a.Entries.CompareTo(b.Entries));
        int drop = _live.Count / 2;
        for (int k = 0; k < drop; k++) Drop(_live[k]);
        _live.RemoveRange(0, drop);
        Stats.RegionsEvicted += drop;
        Stats.LiveRegions = _live.Count;
        foreach (var r in _live) r.Entries = 0; // recency restarts, so old heat does not pin a region forever
    }

    void Drop(Region r)
    {
        var blocks = r.Blocks;
        for (int k = 0; k < blocks.Length; k++)
        {
            var b = blocks[k];
            if (b.HeldBy == r) b.HeldBy = null;
            if (k == 0 || (r.EntryBlocks[k] && b.Region == r))
            {
                if (b.Region == r) b.Region = null;
                b.ExecCount = 0;
                b.TranslationRequested = false;
            }
        }
        Stats.LiveIlBytes -= r.IlBytes;
    }

    void OnInvalidated(ulong start, ulong end)
    {
        lock (_sync)
        {
            foreach (var job in _pending)
                if (!job.Cancelled && Overlaps(job.Blocks, start, end)) job.Cancelled = true;
            int kept = 0;
            for (int k = 0; k < _live.Count; k++)
            {
                var r = _live[k];
                if (r.Overlaps(start, end))
                {
                    Drop(r);
                    Stats.RegionsInvalidated++;
                }
                else _live[kept++] = r;
            }
            _live.RemoveRange(kept, _live.Count - kept);
            Stats.LiveRegions = _live.Count;
        }
    }

    static bool Overlaps(Block[] blocks, ulong start, ulong end)
    {
        foreach (var b in blocks)
            if (b.Start < end && b.End > start) return true;
        return false;
    }

    public void Dispose()
    {
        lock (_sync) _disposed = true;
        _queue.CompleteAdding();
    }
}
