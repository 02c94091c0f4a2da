using LegoEmu.Mem.Cache;

namespace LegoEmu.Cluster.Trace;

/// <summary>
/// The configured ExCache replayed from a trace's access records: same sets, ways, slot order and victim
/// choice as <c>ExCache</c> (the first empty way, else FIFO's round-robin pointer, LRU's oldest stamp, CLOCK's
/// hand and counts, or random's generator with the cache's seed, drawn at the same misses), and lines dropped where
/// the trace says the cache dropped them. On a complete trace its misses are the ExCache's, CLOCK's included: the
/// ExCache renews a line's count only at a use after the count ran out, and sees every such use (its hand removes
/// from the front tables each line whose count it runs out), so counting every access here comes to the same counts.
/// </summary>
public sealed class SetAssociativeSimulator
{
    /// <summary>Beyond this many lines the replay would need more memory than the analysis is worth.</summary>
    public const long MaxSlots = 8 << 20;
    /// <summary>The ExCache's seed for random replacement (mem/Cache/ExCache.cs).</summary>
    const int RandomSeed = 0x1e90;
    const ulong Invalid = ulong.MaxValue;

    readonly ulong[] _tags;
    readonly long[] _stamp;
    /// <summary>CLOCK's counts (passes of the hand left), and which lines were prefetched and not used yet; <see cref="_fifo"/> is its hand.</summary>
    readonly byte[] _chances;
    readonly bool[] _unused;
    readonly int[] _fifo;
    readonly int _ways, _lineShift;
    readonly ulong _setMask;
    readonly string _policy;
    readonly Random? _random;
    long _clock;

    public SetAssociativeSimulator(long cacheBytes, int ways, int lineSize, string policy)
    {
        long sets = cacheBytes / ((long)lineSize * ways);
        _ways = ways;
        _lineShift = System.Numerics.BitOperations.Log2((uint)lineSize);
        _setMask = (ulong)sets - 1;
        _policy = policy;
        _tags = new ulong[sets * ways];
        Array.Fill(_tags, Invalid);
        _stamp = policy == "lru" ? new long[_tags.Length] : [];
        _chances = policy == "clock" ? new byte[_tags.Length] : [];
        _unused = policy == "clock" ? new bool[_tags.Length] : [];
        _fifo = new int[sets];
        if (policy == "random") _random = new Random(RandomSeed);
    }

    /// <summary>Whether a cache of this geometry can be replayed here.</summary>
    public static string? Unsupported(long cacheBytes, int ways, int lineSize, string policy)
    {
        if (ways < 1 || lineSize < 1 || cacheBytes < (long)ways * lineSize) return "the trace's header has no usable ExCache geometry";
        long sets = cacheBytes / ((long)lineSize * ways);
        if ((sets & (sets - 1)) != 0) return "the trace's ExCache does not have a power-of-two number of sets";
        if (sets * ways > MaxSlots) return $"the configured ExCache holds more than {MaxSlots:N0} lines";
        if (policy is not ("fifo" or "lru" or "random" or "clock")) return $"unknown replacement policy '{policy}'";
        return null;
    }

    public long Accesses { get; private set; }
    public long Misses { get; private set; }

    public void Access(ulong line)
    {
        Accesses++;
        int first = (int)((line >> _lineShift) & _setMask) * _ways;
        for (int i = first; i < first + _ways; i++)
        {
            if (_tags[i] != line) continue;
            if (_stamp.Length != 0) _stamp[i] = ++_clock;
            if (_chances.Length != 0)
            {
                // As the ExCache's look-up: a count that ran out is renewed, by one pass at a prefetched line's first use.
                if (_chances[i] == 0) _chances[i] = _unused[i] ? (byte)1 : ExCache.ClockChances;
                _unused[i] = false;
            }
            return;
        }
        Misses++;
        int slot = Victim(first);
        _tags[slot] = line;
        if (_stamp.Length != 0) _stamp[slot] = ++_clock;
        if (_chances.Length != 0)
        {
            _chances[slot] = 1;
            _unused[slot] = false;
        }
    }

    /// <summary>A line the cache fetched ahead of the guest: it takes a slot as a miss would, but is not a miss.</summary>
    public void Prefetch(ulong line)
    {
        int first = (int)((line >> _lineShift) & _setMask) * _ways;
        for (int i = first; i < first + _ways; i++)
            if (_tags[i] == line) return;
        int slot = Victim(first);
        _tags[slot] = line;
        if (_stamp.Length != 0) _stamp[slot] = ++_clock;
        // No pass of the hand until the guest's first use of it.
        if (_chances.Length != 0)
        {
            _chances[slot] = 0;
            _unused[slot] = true;
        }
    }

    public void Drop(ulong line)
    {
        int first = (int)((line >> _lineShift) & _setMask) * _ways;
        for (int i = first; i < first + _ways; i++)
            if (_tags[i] == line) _tags[i] = Invalid;
    }

    int Victim(int first)
    {
        for (int i = first; i < first + _ways; i++)
            if (_tags[i] == Invalid) return i;
        switch (_policy)
        {
            case "lru":
            {
                int best = first;
                for (int i = first + 1; i < first + _ways; i++)
                    if (_stamp[i] < _stamp[best]) best = i;
                return best;
            }
            case "random":
                return first + _random!.Next(_ways);
            case "clock":
            {
                // The first line from the hand whose count ran out, else the smallest count (the hand going round
                // until one runs out); the hand takes a pass from each count it went by and stops past the victim.
                int set = first / _ways, hand = _fifo[set], victim = -1, bestKey = int.MaxValue;
                for (int k = 0; k < _ways && bestKey != 0; k++)
                {
                    int i = first + (hand + k) % _ways;
                    int key = _chances[i] == 0 ? 0 : _chances[i] * _ways + k;
                    if (key < bestKey || victim < 0)
                    {
                        bestKey = key;
                        victim = i;
                    }
                }
                int turns = _chances[victim], at = victim - first, before = (at - hand + _ways) % _ways;
                for (int k = 0; k < _ways; k++)
                {
                    int i = first + (hand + k) % _ways;
                    if (i == victim) continue;
                    int d = turns + (k < before ? 1 : 0);
                    _chances[i] = (byte)Math.Max(0, _chances[i] - d);
                }
                _fifo[set] = (at + 1) % _ways;
                return victim;
            }
            default:
            {
                int set = first / _ways;
                int v = _fifo[set];
                _fifo[set] = (v + 1) % _ways;
                return first + v;
            }
        }
    }
}
