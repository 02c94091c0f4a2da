namespace LegoEmu.Mem.Trace;

/// <summary>
/// Exact costs per guest instruction address for <c>run --profile</c>: instructions retired, data accesses,
/// ExCache misses, misses a memory component served, and write-backs of the victims a miss evicted. Misses
/// and write-backs are charged as they happen (to <see cref="Ip"/>, which the view sets before each miss);
/// instructions and accesses are counted per decoded block and per compiled region, which register a fold
/// that adds their counters in at the end, so the hit path pays nothing per access.
/// Not thread-safe except <see cref="OnFinish"/>: a processor component's guest threads share one host thread.
/// </summary>
public sealed class CodeProfile
{
    /// <summary>What one instruction was charged with.</summary>
    public sealed class Cost
    {
        public long Instructions, Accesses, Misses, MemoryFills, WriteBacks;
        /// <summary>Of <see cref="Misses"/>: those of instruction fetches (made when code is decoded) and those of system calls' copies.</summary>
        public long FetchMisses, KernelMisses;
    }

    readonly Dictionary<ulong, Cost> _byIp = new();
    readonly List<Action<CodeProfile>> _folds = new();
    ulong _lastIp = ulong.MaxValue;
    Cost? _last;
    bool _finished;

    /// <summary>The instruction whose miss the cache is serving now.</summary>
    public ulong Ip;

    /// <summary>Whether the access being served is an instruction fetch (at decode) or a system call's copy.</summary>
    public bool Fetch, Kernel;

    public Cost At(ulong ip)
    {
        if (ip == _lastIp) return _last!;
        if (!_byIp.TryGetValue(ip, out var c)) _byIp[ip] = c = new Cost();
        _lastIp = ip;
        _last = c;
        return c;
    }

    /// <summary>A lookup missed (whether or not the fill then succeeded: the cache counts it either way).</summary>
    public void Miss()
    {
        var c = At(Ip);
        c.Misses++;
        Totals.Misses++;
        if (Fetch) { c.FetchMisses++; Totals.FetchMisses++; }
        else if (Kernel) { c.KernelMisses++; Totals.KernelMisses++; }
    }

    /// <summary>The miss was served by a memory component (not a local zero fill).</summary>
    public void MemoryFill()
    {
        At(Ip).MemoryFills++;
        Totals.MemoryFills++;
    }

    public void WriteBack()
    {
        At(Ip).WriteBacks++;
        Totals.WriteBacks++;
    }

    /// <summary>
    /// What the misses, fills and write-backs charged so far add up to (instructions and accesses are not kept
    /// here: the CPU and the view count those), so a call can be charged what happened between it and its return.
    /// </summary>
    public readonly Cost Totals = new();

    /// <summary>Calls and calling contexts, when the CPU tracks calls (<c>run --profile</c> does).</summary>
    public readonly CallGraph Calls = new();

    /// <summary>Counters kept elsewhere (a block's, a region's) are added by <paramref name="fold"/> when the run ends.</summary>
    public void OnFinish(Action<CodeProfile> fold)
    {
        lock (_folds) _folds.Add(fold);
    }

    /// <summary>Folds every registered counter in (once) and returns the costs by instruction address.</summary>
    public IReadOnlyDictionary<ulong, Cost> Finish()
    {
        if (!_finished)
        {
            _finished = true;
            Action<CodeProfile>[] folds;
            lock (_folds) folds = _folds.ToArray();
            foreach (var f in folds) f(this);
        }
        return _byIp;
    }
}
