using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;
using LegoEmu.Mem.Trace;

namespace LegoEmu.Mem.Cache;

/// <summary>
/// The processor component's software-managed virtual cache: virtually indexed and tagged,
/// set-associative, write-back, with per-line permissions and address-space ids. Line storage is
/// one native block so the per-thread front tables can hand out raw pointers on the hit path.
/// </summary>
public sealed unsafe class ExCache : ICoherenceTarget, IPipelinedTarget, IDisposable
{
    const ulong Invalid = ulong.MaxValue;

    readonly CacheConfig _config;
    readonly SlotStore _store;
    readonly byte* _data;
    readonly ulong[] _tags;
    readonly int[] _asids;
    readonly Protection[] _prot;
    readonly bool[] _dirty;
    /// <summary>Coherence state per slot: true = may be written (M, or the only cache there is), false = shared (S).</summary>
    readonly bool[] _exclusive;
    /// <summary>The slot's line was filled through the line directory, which must hear of its write-back.</summary>
    readonly bool[] _tracked;
    readonly long[] _stamp;
    /// <summary>
    /// CLOCK's count per slot: how many more times the set's hand passes the line before it may take it. A demand fill
    /// gives 1 (the missing access is a reference, as in textbook CLOCK), a prefetch 0 until its first use gives 1, and a
    /// look-up that finds the count run out gives <see cref="ClockChances"/>. A front-table hit sets nothing, so the hit
    /// path costs what FIFO's does; instead the hand removes from the front tables every line whose count it runs out, and
    /// the line's next access, whichever it is, comes to <see cref="Lookup"/>: no reference after that is missed.
    /// </summary>
    readonly byte[] _chances;
    /// <summary>
    /// The passes a line earns by being used after its count ran out. 1 is textbook CLOCK (a reference bit), but each
    /// reuse it sees costs a look-up, and one taken in translated code leaves the region (some hundred nanoseconds):
    /// on Phoenix 2's word_count at 25 % of its footprint that gave 2.4 extra look-ups per miss it saved and no time.
    /// With 16, a line shown to be reused is looked at again only every 16th pass: look-ups as FIFO's, and fewer misses
    /// than with 1 (word_count -29 % against FIFO, kmeans -41 %; with 64, lines no longer used stay too long).
    /// </summary>
    public const byte ClockChances = 16;
    /// <summary>Per set: FIFO's next victim, or CLOCK's hand.</summary>
    readonly int[] _fifoNext;
    readonly byte[] _victim;
    /// <summary>Per slot: 0, or a prefetch in flight (<see cref="FetchInFlight"/>), or a prefetched line not used yet (<see cref="FetchArrived"/>).</summary>
    readonly byte[] _fetch;
    /// <summary>The node an in-flight prefetch was sent to.</summary>
    readonly int[] _fetchNode;
    /// <summary>Per slot: the prefetched line came as a frame the node granted, mapped with no message (see <see cref="PrefetchThrottle"/>).</summary>
    readonly bool[] _fetchMapped;
    /// <summary>A prefetch whose node found no mapping for the line: the slot keeps its tag (so victims are chosen
    /// as a trace's replay chooses them) until it is looked up, evicted or dropped, and is never handed out.</summary>
    const byte FetchInFlight = 1, FetchArrived = 2, FetchUnmapped = 3;
    /// <summary>More prefetches in flight than this and no new ones are issued (the node's replies must fit its socket buffer).</summary>
    const int MaxPrefetchInFlight = 32;
    int _prefetchInFlight;
    /// <summary>
    /// Per slot: 0, or the address of the frame a same-host node granted for the slot's line, which the slot then uses
    /// in place of its own storage (a mapped slot): its fill copied nothing, and neither will its write-back, the
    /// guest's stores landing in the node's frame. Null until the first line is mapped.
    /// </summary>
    nint[]? _mapped;
    /// <summary>The node whose frame a mapped slot uses.</summary>
    int[]? _mappedNode;
    int _mappedCount;
    /// <summary>Fills may map granted frames (see <see cref="IPipelinedMemory.MapsFrames"/>): whole-page lines over such links.</summary>
    bool _mapFrames;
    readonly WriteBackQueue _queue;
    /// <summary>The line of a queued write-back the node could not store (no memory): the next miss faults there.</summary>
    ulong _writeBackFailed = Invalid;
    readonly int _ways;
    readonly int _lineShift;
    readonly ulong _setMask;
    readonly List<CacheView> _views = new();
    /// <summary>Null unless LEGOEMU_EXCACHE_POISON is set: then every line filled into a slot gets fresh storage (see <see cref="SlotRelocation"/>).</summary>
    readonly SlotRelocation? _relocation;
    /// <summary>Which chunks hold cached lines, so that a range flush skips the empty ones.</summary>
    readonly ChunkOccupancy _occupancy;
    readonly Random _random = new(0x1e90);
    long _clock;
    bool _disposed;

    public ExCache(CacheConfig config, IMemoryComponent component) : this(config, component, SlotRelocation.Enabled)
    {
    }

    /// <param name="relocateSlots">Every line filled into a slot gets fresh storage and the old one is retired, so stale host pointers fail
    /// (see <see cref="SlotRelocation"/>; LEGOEMU_EXCACHE_POISON=1 sets it for every cache of a run).</param>
    internal ExCache(CacheConfig config, IMemoryComponent component, bool relocateSlots)
    {
        if (config.Validate() is { } err) throw new ArgumentException(err);
        _config = config;
        Component = component;
        _store = SlotStore.Rent(config);
        _data = _store.Data;
        _tags = _store.Tags;
        _asids = _store.Asids;
        _prot = _store.Prot;
        _dirty = _store.Dirty;
        _exclusive = _store.Exclusive;
        _tracked = _store.Tracked;
        _stamp = _store.Stamp;
        _chances = _store.Chances;
        _fifoNext = _store.FifoNext;
        _victim = new byte[config.LineSize];
        _fetch = _store.Fetch;
        _fetchNode = _store.FetchNode;
        _fetchMapped = new bool[_tags.Length];
        _queue = new WriteBackQueue(config.LineSize);
        Attach(component);
        _ways = config.Ways;
        _lineShift = System.Numerics.BitOperations.Log2((uint)config.LineSize);
        _setMask = (ulong)config.Sets - 1;
        _occupancy = new ChunkOccupancy(_lineShift);
        CodeLines = new CodeLines(this);
        _throttle = new PrefetchThrottle(config.PrefetchDepth, Stats);
        if (relocateSlots) _relocation = new SlotRelocation(_tags.Length, config.LineSize);
    }

    /// <summary>
    /// Whether a disposed cache keeps its storage for the next cache this process makes (a component that runs one
    /// guest after another; see <see cref="SlotStore"/>).
    /// </summary>
    public static bool RecycleStorage { get => SlotStore.Recycle; set => SlotStore.Recycle = value; }

    /// <summary>Makes the storage of a cache of <paramref name="config"/> ahead of the cache (an idle component, for the guest it will be handed).</summary>
    public static void PrepareStorage(CacheConfig config)
    {
        if (config.Validate() == null) SlotStore.Prepare(config);
    }

    /// <summary>Lines holding decoded guest code, whose stores must invalidate that code (self-modifying code).</summary>
    public CodeLines CodeLines { get; }

    internal void RevokeWrite(ulong lineAddr)
    {
        foreach (var v in _views) v.RevokeWrite(lineAddr);
    }

    public CacheConfig Config => _config;

    /// <summary>Receives fills, evictions and write-backs (and sampled accesses through the views) when tracing.</summary>
    public MemoryTracer? Tracer
    {
        get => _tracer;
        set
        {
            _tracer = value;
            UpdateAttribution();
        }
    }
    MemoryTracer? _tracer;

    /// <summary>Receives each miss and write-back charged to the instruction that caused it (run --profile).</summary>
    public CodeProfile? Profile
    {
        get => _profile;
        set
        {
            _profile = value;
            UpdateAttribution();
        }
    }
    CodeProfile? _profile;

    void UpdateAttribution()
    {
        lock (_views)
            foreach (var v in _views) v.Attributing = _tracer != null || _profile != null;
    }

    int NodeOf(int asid, ulong addr) => Component is INodeLocator l ? l.NodeOf(asid, addr) : 0;
    public IMemoryComponent Component { get; private set; }

    /// <summary>The component's pipelined side, when it has one (memory nodes): prefetch and queued write-backs use it.</summary>
    IPipelinedMemory? _pipelined;

    void Attach(IMemoryComponent component)
    {
        _pipelined = component as IPipelinedMemory;
        if (_pipelined != null) _pipelined.Target = this;
        _mapFrames = _pipelined != null && _pipelined.MapsFrames && _config.LineSize == (int)PageMath.PageSize;
    }

    /// <summary>
    /// Serves this cache from another memory component from now on. Only an empty cache can move (after
    /// execve dropped the old image): a line from the old component must never be written back to the new one.
    /// </summary>
    public void Rehome(IMemoryComponent component)
    {
        if (_coherent != null) throw new InvalidOperationException("a coherent ExCache cannot move to another memory component");
        Drain();
        if (FirstValid(_tags, 0) >= 0)
            throw new InvalidOperationException("the ExCache still holds lines of its old memory component");
        Component = component;
        Attach(component);
        _plocal.Clear();
        _lastPLocal = null;
        _shared.Clear();
    }

    readonly Dictionary<int, SharedRanges> _shared = new();

    /// <summary>The MAP_SHARED ranges of one address space, whose lines other processes may cache too.</summary>
    public SharedRanges Shared(int asid)
    {
        if (!_shared.TryGetValue(asid, out var r)) _shared[asid] = r = new SharedRanges();
        return r;
    }

    /// <summary>True when some address space cached here has MAP_SHARED ranges.</summary>
    public bool HasShared
    {
        get
        {
            foreach (var r in _shared.Values)
                if (r.Count > 0) return true;
            return false;
        }
    }
    readonly Dictionary<int, PLocalTracker> _plocal = new();
    int _lastPLocalAsid;
    PLocalTracker? _lastPLocal;

    /// <summary>The p-local bookkeeping of one address space (fresh ranges are per space, like their VMAs).</summary>
    public PLocalTracker PLocal(int asid)
    {
        // Every miss asks, and nearly always of the space it asked last.
        if (_lastPLocal != null && _lastPLocalAsid == asid) return _lastPLocal;
        if (!_plocal.TryGetValue(asid, out var t)) _plocal[asid] = t = new PLocalTracker();
        _lastPLocalAsid = asid;
        _lastPLocal = t;
        return t;
    }
    public CacheStats Stats { get; } = new();
    public int LineSize => _config.LineSize;
    public int LineShift => _lineShift;

    internal void Register(CacheView view) { lock (_views) _views.Add(view); }

    /// <summary>
    /// A slot's bytes. Slots are numbered set-major (a set's ways side by side, as lookups scan them), but their
    /// data is laid out way-major: consecutive guest lines go to consecutive sets, so with the ways filled in
    /// order a guest array lands contiguous in host memory, and its host pages (and their page-table entries)
    /// are as dense as the guest's own.
    /// </summary>
    internal byte* SlotData(int slot) => _mappedCount != 0 && _mapped![slot] != 0 ? (byte*)_mapped[slot] : LocalData(slot);

    /// <summary>A slot's own storage, whether or not it maps a frame now: where a fill that copies puts the line.</summary>
    byte* LocalData(int slot) => _relocation == null ? _data + (((long)(slot % _ways) * _config.Sets + slot / _ways) << _lineShift) : _relocation.Current(slot);

    /// <summary>Makes a slot use its own storage again; the frame it mapped is left as it is.</summary>
    void Unmap(int slot)
    {
        _mapped![slot] = 0;
        _mappedCount--;
    }

    /// <summary>Lines that use a node's frame in place of their slot (see <see cref="_mapped"/>).</summary>
    public int MappedLines => _mappedCount;

    /// <summary>True when the line is cached in a slot that maps its node's frame (for tests).</summary>
    internal bool IsMapped(int asid, ulong lineAddr)
    {
        int first = (int)((lineAddr >> _lineShift) & _setMask) * _ways;
        for (int i = first; i < first + _ways; i++)
            if (_tags[i] == lineAddr && _asids[i] == asid) return _mappedCount != 0 && _mapped![i] != 0;
        return false;
    }

    void IPipelinedTarget.FramesRevoked(int node, int asid, ulong start, ulong end)
    {
        if (_mappedCount == 0) return;
        var mapped = _mapped!;
        // A few lines: looked up where they would be; else every slot is looked at (a fork, a brk of an unknown top).
        if (asid >= 0 && end > start && (end - start) >> _lineShift <= (ulong)Math.Min(_mappedCount, 4096))
        {
            ulong lineMask = (ulong)_config.LineSize - 1;
            for (ulong a = start & ~lineMask; a < end; a += (ulong)_config.LineSize)
            {
                int first = (int)((a >> _lineShift) & _setMask) * _ways;
                for (int i = first; i < first + _ways; i++)
                    if (mapped[i] != 0 && _tags[i] == a && _asids[i] == asid && _mappedNode![i] == node) KeepOwnCopy(i);
            }
            return;
        }
        for (int i = 0; i < mapped.Length && _mappedCount != 0; i++)
            if (mapped[i] != 0 && _mappedNode![i] == node && (asid < 0 || (_asids[i] == asid && _tags[i] >= start && _tags[i] < end)))
                KeepOwnCopy(i);
    }

    /// <summary>
    /// A mapped slot whose grant goes: its line's bytes are copied into the slot's own storage, where it goes on from
    /// (dirty or clean as it was: a dirty line is written back by message later), and the front tables forget the frame.
    /// </summary>
    void KeepOwnCopy(int slot)
    {
        LineBytes.Copy(new ReadOnlySpan<byte>((void*)_mapped![slot], _config.LineSize), new Span<byte>(LocalData(slot), _config.LineSize));
        Unmap(slot);
        Stats.MappedCopiedOut++;
        if (_tags[slot] != Invalid) InvalidateViews(_tags[slot]);
    }

    /// <summary>True when the policy needs to hear about every hit, including front-table hits.</summary>
    internal bool TracksRecency => _config.Policy == ReplacementPolicy.Lru;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void Touch(int slot) => _stamp[slot] = ++_clock;
    internal Protection SlotProt(int slot) => _prot[slot];
    internal void MarkDirty(int slot) => _dirty[slot] = true;
    internal bool IsDirty(int slot) => _dirty[slot];

    ICoherentMemory? _coherent;

    /// <summary>True when other processor components cache the same memory and a directory keeps the copies coherent.</summary>
    public bool Coherent => _coherent != null;

    /// <summary>Every line goes through the directory (threads over components), not only MAP_SHARED ones.</summary>
    bool _allCoherent;

    /// <summary>
    /// Other processes share this cache's MAP_SHARED memory: from now on lines of <see cref="Shared"/> ranges
    /// are filled and written back through <paramref name="directory"/>'s line directory, the rest as before.
    /// The caller has written back and dropped the shared lines cached so far, which the directory never saw.
    /// </summary>
    public void EnableSharedCoherence(ICoherentMemory directory)
    {
        if (_coherent != null) return;
        _coherent = directory;
    }

    /// <summary>
    /// Leaves the directory again (execve: the new image shares nothing yet): the shared lines are written
    /// back through it and dropped. Only a cache that joined for shared lines alone can leave.
    /// </summary>
    public void DisableSharedCoherence()
    {
        if (_coherent == null || _allCoherent) return;
        Drain();
        for (int i = NextValid(0); i >= 0; i = NextValid(i + 1))
            if (_tracked[i]) DropSlot(i, writeBack: true);
        foreach (var v in _views) v.InvalidateAll();
        _coherent = null;
    }

    bool TrackedLine(int asid, ulong lineAddr) =>
        _allCoherent || (_shared.TryGetValue(asid, out var r) && r.Contains(lineAddr));

    /// <summary>Invalidations and downgrades applied so far; an atomic operation retries its claim when this moves.</summary>
    public long RemoteApplied;

    /// <summary>
    /// Makes fills name the state they need (shared for reads, exclusive for writes). Fresh memory is no
    /// longer zero-filled locally: another component may have written it already.
    /// </summary>
    public void EnableCoherence()
    {
        _coherent = Component as ICoherentMemory ?? throw new InvalidOperationException("coherent caching needs memory-node processes");
        _allCoherent = true;
        Drain();
        // Lines cached so far were filled outside the directory: write them back and let them go.
        for (int i = NextValid(0); i >= 0; i = NextValid(i + 1))
            DropSlot(i, writeBack: true);
        Drain();
        foreach (var v in _views) v.InvalidateAll();
    }

    internal bool IsExclusive(int slot) => _exclusive[slot];

    /// <summary>Finds the slot holding the line, or -1.</summary>
    internal int Lookup(int asid, ulong lineAddr)
    {
        Stats.Lookups++;
        int set = (int)((lineAddr >> _lineShift) & _setMask);
        int i = Find(set * _ways, asid, lineAddr);
        if (i < 0) return -1;
        // A prefetched line's first use is the reference a demand fill's miss would have been: one pass.
        byte chances = ClockChances;
        if (_fetch[i] != 0)
        {
            chances = 1;
            // A prefetched line: its first use waits for it if it is still on its way.
            long waited = CompletePrefetch(i);
            if (_fetch[i] == FetchUnmapped)
            {
                // No mapping covered it: the slot empties now, and the access misses (and faults).
                Tracer?.Drop(lineAddr);
                Vacate(i);
                _fetch[i] = 0;
                Wasted(i);
                return -1;
            }
            _fetch[i] = 0;
            Stats.PrefetchUsed++;
            _throttle.Used(SavedFraction(waited), _fetchMapped[i]);
            PrefetchedUse = true;
        }
        Stats.Hits++;
        if (_config.Policy == ReplacementPolicy.Lru) _stamp[i] = ++_clock;
        // Only CLOCK reads it. Only a count that ran out is renewed: the reuses a front-table hit hides are those
        // of lines whose count has not, so a trace's replay, which sees every access, comes to the same counts.
        if (_chances[i] == 0) _chances[i] = chances;
        return i;
    }

    /// <summary>
    /// The slot of the set beginning at <paramref name="first"/> that holds the line, or -1: four tags to a compare, as
    /// in <see cref="FirstEmpty"/>, since every miss looks through its whole set first (64 to 127 ways in a sweep).
    /// </summary>
    int Find(int first, int asid, ulong lineAddr)
    {
        ref ulong t = ref MemoryMarshal.GetArrayDataReference(_tags);
        int i = first, end = first + _ways;
        if (Vector256.IsHardwareAccelerated)
        {
            var want = Vector256.Create(lineAddr);
            for (; i + 4 <= end; i += 4)
            {
                for (uint hit = Vector256.Equals(Vector256.LoadUnsafe(ref t, (nuint)i), want).ExtractMostSignificantBits(); hit != 0; hit &= hit - 1)
                {
                    int s = i + System.Numerics.BitOperations.TrailingZeroCount(hit);
                    if (_asids[s] == asid) return s;
                }
            }
        }
        for (; i < end; i++)
            if (Unsafe.Add(ref t, i) == lineAddr && _asids[i] == asid) return i;
        return -1;
    }

    /// <summary>Set by <see cref="Lookup"/> when the line it found had been prefetched and is used for the first time now.</summary>
    internal bool PrefetchedUse;

    /// <summary>Brings a line in, evicting a victim of its set. Throws <see cref="MemoryFault"/> when unmapped.</summary>
    internal int Miss(int asid, ulong lineAddr, ulong faultAddr, AccessKind access)
    {
        ThrowIfWriteBackFailed();
        if (_coherent != null && TrackedLine(asid, lineAddr)) return MissCoherent(asid, lineAddr, faultAddr, access);
        Stats.Misses++;
        _profile?.Miss();
        long t0 = Stopwatch.GetTimestamp();
        bool behindPrefetches = _prefetchInFlight > 0;
        long queueFills = Stats.QueueFills;
        int set = (int)((lineAddr >> _lineShift) & _setMask);
        CheckPollution(set, asid, lineAddr);
        int slot = ChooseVictim(set);
        // An unused prefetched victim is no line the guest lost: it is not remembered among the set's victims.
        bool prefetchedVictim = _fetch[slot] != 0;
        SettlePrefetch(slot);
        var line = new Span<byte>(LocalData(slot), _config.LineSize);
        ulong victimAddr = 0;
        bool dirtyVictim = false;
        // Before the bookkeeping below, so that a one-sided fill's and write-back's grant look-ups find their entries loaded.
        _pipelined?.AnticipateMiss(asid, lineAddr, _asids[slot],
            _tags[slot] != Invalid && _dirty[slot] && (_mappedCount == 0 || _mapped![slot] == 0) ? _tags[slot] : 0);
        if (_tags[slot] != Invalid)
        {
            Stats.Evictions++;
            victimAddr = _tags[slot];
            if (!prefetchedVictim) _ghosts?.Evicted(set, _asids[slot], victimAddr);
            Tracer?.Evict(victimAddr);
            InvalidateViews(victimAddr);
            dirtyVictim = _dirty[slot];
        }
        if (_mappedCount != 0 && _mapped![slot] != 0)
        {
            // The victim's bytes are in its node's frame already: a dirty one is written back by being left there.
            if (dirtyVictim)
            {
                _pipelined!.MappedWriteBack(_mappedNode![slot], _config.LineSize);
                CountWriteBack(_asids[slot], victimAddr, granted: true);
                _dirty[slot] = false;
                dirtyVictim = false;
            }
            Unmap(slot);
        }

        FillStatus status;
        Protection prot;
        bool plocal = false;
        byte* frame = null;
        int frameNode = 0;
        if (lineAddr >= VmaSet.TaskSize)
        {
            // Nothing there is ever mapped (an access wrapping past the top of the user address space): unmapped as an
            // in-process component says, without a request, which a memory node would take as a protocol error.
            if (dirtyVictim) WriteBackSlot(slot);
            _tracked[slot] = false;
            prot = Protection.None;
            status = FillStatus.Unmapped;
        }
        else if (_mapFrames && !_queue.Contains(asid, lineAddr)
                 && (frame = _pipelined!.MapGranted(asid, lineAddr, _config.LineSize, out prot, out frameNode)) != null)
        {
            // The node granted the line's frame: the slot uses it in place, with no copy (a local dirty victim goes first,
            // one-sided into its own frame or queued). Asked before p-local freshness: a granted page has a frame at its
            // node, so it is not fresh, and most misses of a cache smaller than the guest's data are of such pages (the
            // range look-up and the written-line set cost a tenth of such a miss). Never a line whose write-back is in
            // flight (none is granted meanwhile; the queue serves it below).
            // The access that missed reads the frame as soon as this returns, and a frame last touched a miss cycle ago is
            // out of the host's caches and TLB: its load starts now, behind the victim's eviction and the slot's set-up
            // (word_count at 25 %: the read after the miss was 230 of the guest thread's ~5 700 samples, 98 with this).
            if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(frame + (faultAddr & (ulong)(_config.LineSize - 1)));
            if (dirtyVictim) WriteBackSlot(slot);
            _tracked[slot] = false;
            status = FillStatus.Data;
            Stats.RemoteFills++;
            Stats.MappedFills++;
            Stats.BytesFilled += _config.LineSize;
        }
        else if (PLocal(asid).IsFresh(lineAddr, out prot))
        {
            plocal = true;
            // The write-back waits in the link's batch: it leaves with the next request to its node, or once the batch is large.
            if (dirtyVictim) WriteBackSlot(slot);
            _tracked[slot] = false;
            LineBytes.Zero(line);
            Stats.PLocalFills++;
            status = FillStatus.Zero;
        }
        else if (_queue.TryGet(asid, lineAddr, out var queued, out prot))
        {
            // Evicted a moment ago and its write-back still in flight: the bytes are here already.
            if (dirtyVictim) WriteBackSlot(slot);
            // The queue may have been full and drained by that write-back: look again.
            if (_queue.TryGet(asid, lineAddr, out queued, out prot))
            {
                LineBytes.Copy(queued, line);
                Stats.QueueFills++;
                status = FillStatus.Data;
            }
            else
            {
                status = Component.Fill(asid, lineAddr, line, out prot);
                if (status != FillStatus.Unmapped)
                {
                    Stats.RemoteFills++;
                    Stats.BytesFilled += _config.LineSize;
                }
            }
            _tracked[slot] = false;
        }
        else if (dirtyVictim && !_tracked[slot] && QueuesWriteBacks
                 && _pipelined!.WriteBackInPlace(_asids[slot], victimAddr, new ReadOnlySpan<byte>(SlotData(slot), _config.LineSize)))
        {
            // Copied into the frame a same-host node lent: done before the fill overwrites the slot, with no queue entry.
            CountWriteBack(_asids[slot], victimAddr, granted: true);
            _dirty[slot] = false;
            _tracked[slot] = false;
            status = Component.Fill(asid, lineAddr, line, out prot);
            if (status != FillStatus.Unmapped)
            {
                Stats.RemoteFills++;
                Stats.BytesFilled += _config.LineSize;
            }
        }
        else if (dirtyVictim && !_tracked[slot] && QueuesWriteBacks)
        {
            int victimAsid = _asids[slot];
            int token = EnqueueWriteBack(slot);
            _queue.TryGet(victimAsid, victimAddr, out var victim, out _);
            status = _pipelined!.FillThenWriteBack(asid, lineAddr, line, out prot, victimAsid, victimAddr, victim, token, out bool sent);
            if (sent)
            {
                Stats.QueuedWriteBacks++;
                CountWriteBack(victimAsid, victimAddr);
            }
            else _queue.Acknowledge(token);
            _dirty[slot] = false;
            _tracked[slot] = false;
            if (status != FillStatus.Unmapped)
            {
                Stats.RemoteFills++;
                Stats.BytesFilled += _config.LineSize;
            }
        }
        else if (dirtyVictim)
        {
            // The victim's bytes are still in the slot: hand them over before the fill overwrites them.
            new ReadOnlySpan<byte>(SlotData(slot), _config.LineSize).CopyTo(_victim);
            ReadOnlySpan<byte> victim = _victim;
            int victimAsid = _asids[slot];
            if (_tracked[slot])
            {
                // A shared line goes back through the directory, which counts it off its holders.
                _coherent!.WriteBack(victimAsid, victimAddr, victim);
                CountWriteBack(victimAsid, victimAddr);
                status = Component.Fill(asid, lineAddr, line, out prot);
            }
            else if (victimAsid == asid)
            {
                status = Component.WriteBackAndFill(asid, victimAddr, victim, lineAddr, line, out prot, out bool combined);
                CountWriteBack(victimAsid, victimAddr);
                if (combined) Stats.PiggybackedWriteBacks++;
            }
            else
            {
                Component.WriteBack(victimAsid, victimAddr, victim);
                CountWriteBack(victimAsid, victimAddr);
                status = Component.Fill(asid, lineAddr, line, out prot);
            }
            _dirty[slot] = false;
            if (status != FillStatus.Unmapped)
            {
                Stats.RemoteFills++;
                Stats.BytesFilled += _config.LineSize;
            }
        }
        else
        {
            status = Component.Fill(asid, lineAddr, line, out prot);
            if (status != FillStatus.Unmapped)
            {
                Stats.RemoteFills++;
                Stats.BytesFilled += _config.LineSize;
            }
        }
        Vacate(slot);
        long ticks = Stopwatch.GetTimestamp() - t0;
        Stats.MissTicks += ticks;
        if (status == FillStatus.Unmapped)
        {
            Stats.Faults++;
            throw new MemoryFault(faultAddr, access, FaultReason.Unmapped);
        }
        // Only round trips to a node: a fill from fresh memory or from the write-back queue says nothing of the link.
        if (!plocal && Stats.QueueFills == queueFills && Prefetching) _throttle.DemandMiss(ticks, behindPrefetches);
        Tracer?.Fill(lineAddr, plocal ? -1 : NodeOf(asid, lineAddr));
        if (!plocal) _profile?.MemoryFill();
        ThrowIfWriteBackFailed();
        Install(slot, lineAddr, asid, prot, exclusive: true);
        if (frame != null) Map(slot, frame, frameNode);
        return slot;
    }

    void Map(int slot, byte* frame, int node)
    {
        if (_mapped == null)
        {
            _mapped = new nint[_tags.Length];
            _mappedNode = new int[_tags.Length];
        }
        _mapped[slot] = (nint)frame;
        _mappedNode![slot] = node;
        _mappedCount++;
    }

    /// <summary>Write-backs of untracked lines go through the queue: memory nodes serve this cache and the queue is on.</summary>
    bool QueuesWriteBacks => _pipelined != null && _config.QueueWriteBacks;

    /// <summary>A queued write-back the node refused for want of memory: the guest faults at the next miss, on that line.</summary>
    void ThrowIfWriteBackFailed()
    {
        if (_writeBackFailed == Invalid) return;
        ulong line = _writeBackFailed;
        _writeBackFailed = Invalid;
        throw new MemoryFault(line, AccessKind.Write, FaultReason.NoMemory);
    }

    /// <summary>Copies a dirty slot's bytes into the write-back queue (waiting for acknowledgements first when it is full).</summary>
    int EnqueueWriteBack(int slot)
    {
        if (_queue.Full) Drain();
        return _queue.Add(_asids[slot], _tags[slot], _prot[slot], new ReadOnlySpan<byte>(SlotData(slot), _config.LineSize));
    }

    /// <summary>Waits for every prefetch and queued write-back in flight.</summary>
    public void Drain()
    {
        if (_pipelined == null || (_queue.Count == 0 && _prefetchInFlight == 0)) return;
        _pipelined.DrainAll();
    }

    void IPipelinedTarget.WriteBackAcknowledged(int token, bool failed)
    {
        ulong line = _queue.Acknowledge(token);
        if (failed) _writeBackFailed = line;
    }

    void IPipelinedTarget.PrefetchArrived(int token, FillStatus status, Protection prot, ReadOnlySpan<byte> data)
    {
        int slot = token;
        if (_fetch[slot] != FetchInFlight) throw new InvalidOperationException("a prefetched line arrived for a slot that did not wait for it");
        _prefetchInFlight--;
        if (status == FillStatus.Unmapped)
        {
            _prot[slot] = Protection.None;
            _fetch[slot] = FetchUnmapped;
            PLocal(_asids[slot]).MarkUnmapped(_tags[slot]);
            return;
        }
        var line = new Span<byte>(SlotData(slot), _config.LineSize);
        if (status == FillStatus.Data) LineBytes.Copy(data, line);
        else LineBytes.Zero(line);
        _prot[slot] = prot;
        _fetch[slot] = FetchArrived;
        Stats.RemoteFills++;
        Stats.BytesFilled += _config.LineSize;
    }

    bool IPipelinedTarget.PrefetchMapped(int token, Protection prot, nint frame, int node)
    {
        int slot = token;
        if (!_mapFrames) return false;
        if (_fetch[slot] != FetchInFlight) throw new InvalidOperationException("a prefetched line arrived for a slot that did not wait for it");
        _prefetchInFlight--;
        Map(slot, (byte*)frame, node);
        _prot[slot] = prot;
        _fetch[slot] = FetchArrived;
        _fetchMapped[slot] = true;
        Stats.RemoteFills++;
        Stats.MappedFills++;
        Stats.BytesFilled += _config.LineSize;
        return true;
    }

    /// <summary>How far ahead prefetch may run, from what its lines became (see <see cref="PrefetchThrottle"/>).</summary>
    readonly PrefetchThrottle _throttle;

    /// <summary>The prefetch depth the throttle allows now (0: stopped until a trial).</summary>
    public int PrefetchDepthNow => _throttle.Depth;

    void Wasted(int slot)
    {
        Stats.PrefetchWasted++;
        _throttle.Wasted(_fetchMapped[slot]);
    }

    /// <summary>Each set's last victims, once this cache has prefetched: which demand misses prefetches caused.</summary>
    EvictionGhosts? _ghosts;

    /// <summary>A demand miss in <paramref name="set"/>: counted against prefetch when an unused prefetched line holds the slot the missing line would still have.</summary>
    void CheckPollution(int set, int asid, ulong lineAddr)
    {
        if (_ghosts == null) return;
        int unused = 0, first = set * _ways, i = first, end = first + _ways;
        ref byte f = ref MemoryMarshal.GetArrayDataReference(_fetch);
        if (Vector256.IsHardwareAccelerated)
        {
            // 32 ways to a compare: every demand miss looks, and nearly always finds none.
            var inFlight = Vector256.Create(FetchInFlight);
            var arrived = Vector256.Create(FetchArrived);
            for (; i + 32 <= end; i += 32)
            {
                var v = Vector256.LoadUnsafe(ref f, (nuint)i);
                uint hit = (Vector256.Equals(v, inFlight) | Vector256.Equals(v, arrived)).ExtractMostSignificantBits();
                unused += System.Numerics.BitOperations.PopCount(hit);
            }
        }
        for (; i < end; i++)
            if (Unsafe.Add(ref f, i) is FetchInFlight or FetchArrived) unused++;
        if (unused > 0 && _ghosts.TakeRecent(set, asid, lineAddr, unused)) _throttle.Polluted();
    }

    /// <summary>Waits until the prefetch into <paramref name="slot"/> has arrived; returns the ticks it waited.</summary>
    long CompletePrefetch(int slot)
    {
        if (_fetch[slot] != FetchInFlight) return 0;
        long t0 = Stopwatch.GetTimestamp();
        while (_fetch[slot] == FetchInFlight) _pipelined!.ReceiveOne(_fetchNode[slot]);
        long waited = Stopwatch.GetTimestamp() - t0;
        Stats.PrefetchWaitTicks += waited;
        return waited;
    }

    /// <summary>
    /// The part of a miss a prefetched line saved, its first use having waited <paramref name="waited"/> ticks for it:
    /// 1 when it was there, less as the wait nears a mean miss (a line still on its way may have arrived already,
    /// unread: that costs only the read).
    /// </summary>
    double SavedFraction(long waited)
    {
        if (waited == 0 || Stats.Misses == 0) return 1;
        double meanMiss = (double)Stats.MissTicks / Stats.Misses;
        return meanMiss <= 0 ? 0 : Math.Clamp(1 - waited / meanMiss, 0, 1);
    }

    /// <summary>Before a slot is reused or dropped: a prefetch into it is completed, and one never used counts as wasted.</summary>
    void SettlePrefetch(int slot)
    {
        if (_fetch[slot] == 0) return;
        CompletePrefetch(slot);
        if (_fetch[slot] is FetchArrived or FetchUnmapped)
        {
            _fetch[slot] = 0;
            Wasted(slot);
        }
    }

    /// <summary>
    /// True when misses of this cache may fetch lines ahead: memory nodes serve it and lines are not all coherent.
    /// A traced cache with random replacement does not: a prefetch that gives up after drawing its victim would
    /// draw a number the trace's replay cannot know of.
    /// </summary>
    internal bool Prefetching => _pipelined != null && _config.Prefetch != PrefetchMode.Off && !_allCoherent
        && (_tracer == null || _config.Policy != ReplacementPolicy.Random);

    /// <summary>
    /// After a demand miss (or the first use of a prefetched line) at <paramref name="lineAddr"/>: fetches the
    /// lines ahead along the stream's stride, pipelined, into slots chosen as for any miss.
    /// </summary>
    internal void PrefetchAfter(PrefetchStreams streams, int asid, ulong lineAddr, bool use, int protectedSlot)
    {
        long stride = _config.Prefetch == PrefetchMode.Next ? 1 : streams.Observe((long)(lineAddr >> _lineShift), use);
        if (stride == 0) return;
        // A cache too small for what the guest reuses (lines fetched ahead only push out lines it needs), or a link so
        // slow that lines arrive late: the throttle shortens the depth, down to none for a while.
        int depth = _throttle.DepthForStream();
        if (depth == 0) return;
        // A use tops the stream up only once half the depth is missing, so lines go out (and come back) in batches
        // of that many: one send and about one receive for several lines instead of one each.
        // A stream ends where a prefetch found no mapping: the lines beyond are not looked for.
        var plocal = PLocal(asid);
        if (use)
        {
            int missing = 0;
            for (int k = 1; k <= depth; k++)
            {
                long target = (long)(lineAddr >> _lineShift) + stride * k;
                if (target < 0 || target >= (long)(VmaSet.TaskSize >> _lineShift) || plocal.KnownUnmapped((ulong)target << _lineShift)) break;
                if (!Holds(asid, (ulong)target << _lineShift)) missing++;
            }
            if (missing < (depth + 1) / 2) return;
        }
        bool issued = false;
        for (int k = 1; k <= depth; k++)
        {
            long target = (long)(lineAddr >> _lineShift) + stride * k;
            if (target < 0 || target >= (long)(VmaSet.TaskSize >> _lineShift)) break;
            if (_prefetchInFlight >= MaxPrefetchInFlight || plocal.KnownUnmapped((ulong)target << _lineShift)) break;
            issued |= IssuePrefetch(asid, (ulong)target << _lineShift, protectedSlot);
        }
        if (issued) _pipelined!.FlushQueued();
    }

    /// <summary>True when the line is cached or on its way.</summary>
    bool Holds(int asid, ulong lineAddr) => Find((int)((lineAddr >> _lineShift) & _setMask) * _ways, asid, lineAddr) >= 0;

    bool IssuePrefetch(int asid, ulong lineAddr, int protectedSlot)
    {
        int set = (int)((lineAddr >> _lineShift) & _setMask);
        if (Holds(asid, lineAddr)) return false;
        // Fresh memory costs nothing on demand; a line in the write-back queue is served from it; directory lines are demand-only.
        if (_queue.Contains(asid, lineAddr) || PLocal(asid).IsFresh(lineAddr, out _) || (_coherent != null && TrackedLine(asid, lineAddr))) return false;
        // Look before choosing: a prefetch that gives up leaves the policy's state (FIFO's pointer) as it was, so a
        // trace's replay, which sees only the prefetches made, chooses the same victims.
        // Only regions already placed: a prefetch never asks another component where a region lives.
        if (NodeOf(asid, lineAddr) < 0) return false;
        int slot = PeekVictim(set, out bool advance);
        if (slot == protectedSlot || _fetch[slot] == FetchInFlight || (_tags[slot] != Invalid && _tracked[slot])) return false; // a directory line leaves through the synchronous path only
        if (advance) Advance(set, slot);
        bool prefetchedVictim = _fetch[slot] != 0;
        SettlePrefetch(slot);
        _ghosts ??= new EvictionGhosts(_config.Sets, _ways);
        if (_tags[slot] != Invalid)
        {
            Stats.Evictions++;
            Tracer?.Evict(_tags[slot]);
            InvalidateViews(_tags[slot]);
            if (_dirty[slot]) WriteBackSlot(slot);
            if (!prefetchedVictim) _ghosts.Evicted(set, _asids[slot], _tags[slot]);
            Vacate(slot);
        }
        int node = _pipelined!.QueuePrefetch(asid, lineAddr, _config.LineSize, slot);
        if (node < 0) return false;
        Tracer?.PrefetchFill(lineAddr, node);
        Install(slot, lineAddr, asid, Protection.None, exclusive: true);
        // No pass until the guest uses it (its first use is a look-up: fetched lines enter no front table): CLOCK's hand
        // takes an unused one before any line the guest went back to.
        _chances[slot] = 0;
        _fetch[slot] = FetchInFlight;
        _fetchNode[slot] = node;
        _fetchMapped[slot] = false;
        _prefetchInFlight++;
        Stats.PrefetchIssued++;
        return true;
    }

    /// <summary>Empties a slot's tag; every line leaves the cache through here, so the chunk counts stay exact.</summary>
    void Vacate(int slot)
    {
        if (_mappedCount != 0 && _mapped![slot] != 0) Unmap(slot);
        if (_tags[slot] == Invalid) return;
        _occupancy.Remove(_asids[slot], _tags[slot]);
        _tags[slot] = Invalid;
    }

    /// <summary>A filled slot becomes the line's: clean, in the coherence state it was granted.</summary>
    int Install(int slot, ulong lineAddr, int asid, Protection prot, bool exclusive, bool tracked = false)
    {
        _store.Touch(slot / _ways);
        Vacate(slot);
        // Here rather than where the old line left: a coherent miss's wait may apply an invalidation of its own victim,
        // whose storage the fill is about to write.
        _relocation?.Move(slot);
        _tags[slot] = lineAddr;
        _asids[slot] = asid;
        _occupancy.Add(asid, lineAddr);
        _prot[slot] = prot;
        _dirty[slot] = false;
        _exclusive[slot] = exclusive;
        _tracked[slot] = tracked;
        _stamp[slot] = ++_clock;
        // The access that missed is the line's first reference: one pass of CLOCK's hand.
        _chances[slot] = 1;
        return slot;
    }

    /// <summary>
    /// A miss of a coherent cache. The slot is emptied before the request goes out: invalidations applied
    /// while the fill waits must not find the victim, whose bytes already travel with the request.
    /// </summary>
    int MissCoherent(int asid, ulong lineAddr, ulong faultAddr, AccessKind access)
    {
        Stats.Misses++;
        _profile?.Miss();
        long t0 = Stopwatch.GetTimestamp();
        int set = (int)((lineAddr >> _lineShift) & _setMask);
        int slot = ChooseVictim(set);
        SettlePrefetch(slot);
        // The victim's bytes (its frame's when mapped), then the slot's own storage for the fill.
        var line = new Span<byte>(SlotData(slot), _config.LineSize);
        bool dirtyVictim = false;
        ulong victimAddr = _tags[slot];
        int victimAsid = _asids[slot];
        if (victimAddr != Invalid)
        {
            Stats.Evictions++;
            Tracer?.Evict(victimAddr);
            InvalidateViews(victimAddr);
            dirtyVictim = _dirty[slot];
            if (dirtyVictim) line.CopyTo(_victim);
        }
        Vacate(slot);
        line = new Span<byte>(LocalData(slot), _config.LineSize);
        _dirty[slot] = false;
        bool exclusive = access == AccessKind.Write;
        FillStatus status;
        Protection prot;
        if (lineAddr >= VmaSet.TaskSize)
        {
            // Never mapped (see Miss): the victim goes back alone.
            if (dirtyVictim)
            {
                _coherent!.WriteBack(victimAsid, victimAddr, _victim);
                CountWriteBack(victimAsid, victimAddr);
            }
            prot = Protection.None;
            status = FillStatus.Unmapped;
        }
        else if (dirtyVictim)
        {
            status = _coherent!.WriteBackAndFillCoherent(victimAsid, victimAddr, _victim, asid, lineAddr, line, exclusive, out prot, out bool combined);
            CountWriteBack(victimAsid, victimAddr);
            if (combined) Stats.PiggybackedWriteBacks++;
        }
        else status = _coherent!.FillCoherent(asid, lineAddr, line, exclusive, out prot);
        Stats.MissTicks += Stopwatch.GetTimestamp() - t0;
        if (status == FillStatus.Unmapped)
        {
            Stats.Faults++;
            throw new MemoryFault(faultAddr, access, FaultReason.Unmapped);
        }
        Stats.RemoteFills++;
        Stats.BytesFilled += _config.LineSize;
        Tracer?.Fill(lineAddr, NodeOf(asid, lineAddr));
        _profile?.MemoryFill();
        return Install(slot, lineAddr, asid, prot, exclusive, tracked: true);
    }

    /// <summary>A store to a line held shared: ask for it exclusive. The fresh bytes replace the copy, which may have been invalidated meanwhile.</summary>
    internal int Upgrade(int slot, int asid, ulong lineAddr, ulong faultAddr)
    {
        Stats.Upgrades++;
        long t0 = Stopwatch.GetTimestamp();
        InvalidateViews(lineAddr);
        Vacate(slot);
        byte chances = _chances[slot];
        var line = new Span<byte>(SlotData(slot), _config.LineSize);
        var status = _coherent!.FillCoherent(asid, lineAddr, line, exclusive: true, out var prot);
        Stats.MissTicks += Stopwatch.GetTimestamp() - t0;
        if (status == FillStatus.Unmapped)
        {
            Stats.Faults++;
            throw new MemoryFault(faultAddr, AccessKind.Write, FaultReason.Unmapped);
        }
        Install(slot, lineAddr, asid, prot, exclusive: true, tracked: true);
        // The same line, still in use: CLOCK's count goes on.
        _chances[slot] = Math.Max(chances, (byte)1);
        return slot;
    }

    /// <summary>Applies one invalidation or downgrade a memory node's directory pushed (see <see cref="ICoherenceTarget"/>).</summary>
    public int ApplyRemote(int asid, ulong lineAddr, InvalidateMode mode, Span<byte> data, out bool kept)
    {
        RemoteApplied++;
        kept = false;
        int set = (int)((lineAddr >> _lineShift) & _setMask);
        int slot = -1;
        for (int i = set * _ways; i < (set + 1) * _ways; i++)
            if (_tags[i] == lineAddr && _asids[i] == asid) { slot = i; break; }
        // Only a line the directory granted is the directory's to take. It may name a line this cache no longer holds
        // under that name (a clean one dropped at munmap, which the directory never hears of): the address can hold a
        // private line by now, whose dirty bytes were taken away and then, p-local, zero-filled again on the next miss.
        if (slot < 0 || !_tracked[slot]) return 0;
        int n = 0;
        if (_dirty[slot] && data.Length == _config.LineSize)
        {
            new ReadOnlySpan<byte>(SlotData(slot), _config.LineSize).CopyTo(data);
            n = _config.LineSize;
        }
        InvalidateViews(lineAddr);
        _dirty[slot] = false;
        // Another component takes the line to write it: code decoded from it may be about to change.
        if (mode != InvalidateMode.Downgrade) CodeLines.OnWrite(asid, lineAddr);
        if (mode == InvalidateMode.Downgrade)
        {
            Stats.Downgrades++;
            _exclusive[slot] = false;
            kept = true;
        }
        else
        {
            Stats.Invalidations++;
            Tracer?.Drop(lineAddr);
            Vacate(slot);
        }
        return n;
    }

    /// <summary>Drops the tracked lines a failed directory node kept (see <see cref="ICoherenceTarget.DropMoved"/>).</summary>
    public void DropMoved(Func<int, ulong, bool> moved, LineSink dirty)
    {
        for (int i = NextValid(0); i >= 0; i = NextValid(i + 1))
        {
            if (!_tracked[i] || !moved(_asids[i], _tags[i])) continue;
            ulong lineAddr = _tags[i];
            if (_dirty[i]) dirty(_asids[i], lineAddr, new ReadOnlySpan<byte>(SlotData(i), _config.LineSize));
            InvalidateViews(lineAddr);
            _dirty[i] = false;
            Tracer?.Drop(lineAddr);
            Vacate(i);
        }
    }

    /// <summary>
    /// The slot <see cref="ChooseVictim"/> would pick, without moving FIFO's pointer or CLOCK's hand: <paramref name="advance"/>
    /// says whether taking it must move them (<see cref="Advance"/>). Random replacement draws its number here already.
    /// </summary>
    int PeekVictim(int set, out bool advance)
    {
        advance = false;
        int first = set * _ways;
        int empty = FirstEmpty(first);
        if (empty >= 0) return empty;
        switch (_config.Policy)
        {
            case ReplacementPolicy.Lru:
            {
                int best = first;
                for (int i = first + 1; i < first + _ways; i++)
                    if (_stamp[i] < _stamp[best]) best = i;
                return best;
            }
            case ReplacementPolicy.Random:
                return first + _random.Next(_ways);
            case ReplacementPolicy.Clock:
                advance = true;
                return ClockVictim(first, _fifoNext[set]);
            default:
                advance = true;
                return first + _fifoNext[set];
        }
    }

    int ChooseVictim(int set)
    {
        int victim = PeekVictim(set, out bool advance);
        if (advance) Advance(set, victim);
        return victim;
    }

    /// <summary>
    /// CLOCK: the first slot from the hand on whose count has run out. When none has, the hand would go round and round,
    /// taking one pass from each count, until one runs out: the slot with the smallest count, the first from the hand
    /// among equals.
    /// </summary>
    int ClockVictim(int first, int hand)
    {
        // The search for a count of 0 is a vector compare (the hand often goes by many lines in use).
        var counts = new ReadOnlySpan<byte>(_chances, first, _ways);
        int z = counts[hand..].IndexOf((byte)0);
        if (z >= 0) return first + hand + z;
        z = counts[..hand].IndexOf((byte)0);
        if (z >= 0) return first + z;
        int best = hand;
        for (int k = hand + 1; k < _ways; k++)
            if (counts[k] < counts[best]) best = k;
        for (int k = 0; k < hand; k++)
            if (counts[k] < counts[best]) best = k;
        return first + best;
    }

    /// <summary>
    /// Takes <paramref name="victim"/> from a full set as <see cref="PeekVictim"/> chose it. FIFO's pointer moves past
    /// it. CLOCK's hand moves past it too, taking a pass from each count it went by (one more from those before the
    /// victim, when it went round): a line whose count runs out leaves the front tables, so that its next use is seen.
    /// </summary>
    void Advance(int set, int victim)
    {
        _store.Touch(set);
        int first = set * _ways, hand = _fifoNext[set], at = victim - first;
        if (_config.Policy == ReplacementPolicy.Clock)
        {
            int turns = _chances[victim];
            if (turns == 0)
            {
                // The victim is the first line from the hand whose count had run out: each line before it loses a pass.
                if (at >= hand) PassBy(first + hand, at - hand);
                else
                {
                    PassBy(first + hand, _ways - hand);
                    PassBy(first, at);
                }
            }
            else
            {
                // No count had run out: the hand went round `turns` times before the victim's did, and passed the lines
                // from the hand to the victim once more.
                int before = (at - hand + _ways) % _ways;
                for (int k = 0, i = hand; k < _ways; k++, i = i + 1 == _ways ? 0 : i + 1)
                {
                    int s = first + i;
                    if (s == victim) continue;
                    int c = _chances[s], d = turns + (k < before ? 1 : 0);
                    _chances[s] = (byte)(c > d ? c - d : 0);
                    if (c <= d) InvalidateViews(_tags[s]);
                }
                _chances[victim] = 0;
            }
        }
        _fifoNext[set] = at + 1 == _ways ? 0 : at + 1;
    }

    /// <summary>
    /// The first empty slot of the set beginning at <paramref name="first"/>, or -1: four tags to a compare, since a
    /// full set (every miss of a full cache) is looked through to its end.
    /// </summary>
    int FirstEmpty(int first)
    {
        ref ulong t = ref MemoryMarshal.GetArrayDataReference(_tags);
        int i = first, end = first + _ways;
        if (Vector256.IsHardwareAccelerated)
        {
            var invalid = Vector256.Create(Invalid);
            for (; i + 4 <= end; i += 4)
            {
                uint hit = Vector256.Equals(Vector256.LoadUnsafe(ref t, (nuint)i), invalid).ExtractMostSignificantBits();
                if (hit != 0) return i + System.Numerics.BitOperations.TrailingZeroCount(hit);
            }
        }
        for (; i < end; i++)
            if (Unsafe.Add(ref t, i) == Invalid) return i;
        return -1;
    }

    /// <summary>Writes a dirty slot back: queued and unwaited when it can be (the caller flushes), else at once.</summary>
    void WriteBackSlot(int slot)
    {
        ulong lineAddr = _tags[slot];
        int asid = _asids[slot];
        if (_mappedCount != 0 && _mapped![slot] != 0)
        {
            // A mapped line's bytes are in its node's frame already.
            _pipelined!.MappedWriteBack(_mappedNode![slot], _config.LineSize);
            CountWriteBack(asid, lineAddr, granted: true);
        }
        else if (!_tracked[slot] && QueuesWriteBacks && _pipelined!.WriteBackInPlace(asid, lineAddr, new ReadOnlySpan<byte>(SlotData(slot), _config.LineSize)))
            CountWriteBack(asid, lineAddr, granted: true);
        else if (!_tracked[slot] && QueuesWriteBacks)
        {
            int token = EnqueueWriteBack(slot);
            if (_pipelined!.QueueWriteBack(asid, lineAddr, new ReadOnlySpan<byte>(SlotData(slot), _config.LineSize), token))
            {
                Stats.QueuedWriteBacks++;
                CountWriteBack(asid, lineAddr);
            }
            else _queue.Acknowledge(token);
        }
        else
        {
            (_tracked[slot] ? _coherent! : Component).WriteBack(asid, lineAddr, new ReadOnlySpan<byte>(SlotData(slot), _config.LineSize));
            CountWriteBack(asid, lineAddr);
        }
        _dirty[slot] = false;
    }

    /// <param name="granted">
    /// The line's page is a frame its node granted (a mapped slot, or one written back into the frame): a granted page
    /// has a frame at its node, which a never-written p-local line has not, so the line is noted as written already or
    /// lies in no p-local range, and noting it again (a hash-set insertion per write-back) is skipped.
    /// </param>
    void CountWriteBack(int asid, ulong lineAddr, bool granted = false)
    {
        Tracer?.WriteBack(lineAddr, NodeOf(asid, lineAddr));
        _profile?.WriteBack();
        if (!granted) PLocal(asid).MarkWritten(lineAddr);
        Stats.WriteBacks++;
        Stats.BytesWrittenBack += _config.LineSize;
    }

    /// <summary>
    /// CLOCK's hand goes by <paramref name="count"/> slots from <paramref name="start"/>, each with a count left: one pass
    /// off each (32 at a time), and the lines whose count runs out leave the front tables.
    /// </summary>
    void PassBy(int start, int count)
    {
        ref byte c = ref MemoryMarshal.GetArrayDataReference(_chances);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 32 <= count; i += 32)
            {
                var v = Vector256.LoadUnsafe(ref c, (nuint)(start + i)) - Vector256<byte>.One;
                v.StoreUnsafe(ref c, (nuint)(start + i));
                for (uint ran = Vector256.Equals(v, Vector256<byte>.Zero).ExtractMostSignificantBits(); ran != 0; ran &= ran - 1)
                    InvalidateViews(_tags[start + i + System.Numerics.BitOperations.TrailingZeroCount(ran)]);
            }
        }
        for (; i < count; i++)
            if (--Unsafe.Add(ref c, start + i) == 0) InvalidateViews(_tags[start + i]);
    }

    void InvalidateViews(ulong lineAddr)
    {
        // Copying avoids holding the lock while views run; views are added rarely (one per guest thread).
        foreach (var v in _views) v.InvalidateLine(lineAddr);
    }

    /// <summary>
    /// Drops every cached line of [start,end) of one address space, writing dirty ones back first
    /// when <paramref name="writeBack"/> is set (mprotect) and discarding them otherwise (munmap).
    /// </summary>
    /// <summary>Raised after every <see cref="FlushRange"/>: other components caching the same space must follow.</summary>
    public event Action<int, ulong, ulong, bool>? RangeFlushed;

    public void FlushRange(int asid, ulong start, ulong end, bool writeBack)
    {
        // munmap, mmap over a range, mprotect, msync: what is in flight lands first, so nothing queued outlives the mapping.
        Drain();
        ulong lineMask = (ulong)_config.LineSize - 1;
        ulong first = start & ~lineMask;
        ulong lines = (end - first + lineMask) >> _lineShift;
        if (lines <= (ulong)_tags.Length)
        {
            // Chunk by chunk: one that holds no line of this space costs one count, whatever its sets hold. A front
            // table entry always names a cached line (every line leaves through DropSlot or an eviction, both of
            // which drop its entries), so the views need the chunks that hold lines only.
            ulong chunk = 1UL << _occupancy.Shift;
            for (ulong c = first & ~(chunk - 1); c < end; c += chunk)
            {
                if (!_occupancy.MayHold(asid, c)) continue;
                ulong lo = Math.Max(c, first), hi = Math.Min(c + chunk, end);
                for (ulong a = lo; a < hi; a += (ulong)_config.LineSize)
                {
                    int set = (int)((a >> _lineShift) & _setMask);
                    for (int i = set * _ways; i < (set + 1) * _ways; i++)
                        if (_tags[i] == a && _asids[i] == asid) DropSlot(i, writeBack);
                }
                foreach (var v in _views) v.InvalidateRange(Math.Max(c, start), hi);
            }
        }
        else
        {
            for (int i = NextValid(0); i >= 0; i = NextValid(i + 1))
                if (_asids[i] == asid && _tags[i] >= first && _tags[i] < end) DropSlot(i, writeBack);
            foreach (var v in _views) v.InvalidateRange(start, end);
        }
        Drain();
        RangeFlushed?.Invoke(asid, start, end, writeBack);
    }

    /// <summary>The first slot from <paramref name="from"/> on that holds a line, or -1: a vector scan, since a large cache is mostly empty.</summary>
    int NextValid(int from) => FirstValid(_tags, from);

    /// <summary>
    /// The first index from <paramref name="from"/> on whose tag is not <see cref="Invalid"/>, or -1. Written out
    /// rather than <c>IndexOfAnyExcept</c>: that generic instantiation is not precompiled, and the JIT compiled it
    /// on the guest's thread at the first fork, execve or exit of every process.
    /// </summary>
    static int FirstValid(ulong[] tags, int from)
    {
        ref ulong t = ref MemoryMarshal.GetArrayDataReference(tags);
        int i = from;
        if (Vector256.IsHardwareAccelerated)
        {
            var invalid = Vector256.Create(Invalid);
            for (; i + 4 <= tags.Length; i += 4)
                if (!Vector256.EqualsAll(Vector256.LoadUnsafe(ref t, (nuint)i), invalid)) break;
        }
        for (; i < tags.Length; i++)
            if (Unsafe.Add(ref t, i) != Invalid) return i;
        return -1;
    }

    void DropSlot(int slot, bool writeBack)
    {
        SettlePrefetch(slot);
        if (_tags[slot] == Invalid) return;
        if (writeBack && _dirty[slot]) WriteBackSlot(slot);
        InvalidateViews(_tags[slot]);
        Tracer?.Drop(_tags[slot]);
        Vacate(slot);
        _dirty[slot] = false;
    }

    /// <summary>Writes every dirty line back, keeping the lines cached but clean.</summary>
    public void WriteBackAll()
    {
        // No prefetched line may be on its way while a burst of write-backs goes out (both directions must keep moving).
        Drain();
        for (int i = NextValid(0); i >= 0; i = NextValid(i + 1))
        {
            if (_dirty[i]) WriteBackSlot(i);
            // A coherent write-back gives the line up at the directory, so the copy must go too.
            if (_tracked[i] && _tags[i] != Invalid) DropSlot(i, writeBack: false);
        }
        // Views may hold write permission for lines that are now clean; they must fault again to re-dirty.
        foreach (var v in _views) v.InvalidateAll();
        Drain();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // Queued write-backs land before the memory links close (a shared line another process reads next).
        try { Drain(); }
        catch (MemoryNodeFailure) { }
        // A cache some directory still reaches (its callbacks may still arrive) lets its storage go with it.
        bool keep = _coherent == null && SlotStore.Recycle;
        _store.Return(keep);
        _relocation?.Dispose();
        if (keep)
            lock (_views)
                if (_views.Count > 0) _views[0].ReleaseTable();
    }
}
