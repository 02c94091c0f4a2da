using System.Runtime.CompilerServices;

namespace LegoEmu.Mem.Trace;

/// <summary>
/// SHARDS-style spatial sampling (Waldspurger et al., FAST'15): a line is kept iff a hash of its
/// address falls under a threshold. Every access to a kept line is recorded and none to the others,
/// so reuse distances measured in the sample scale by 1/rate without bias.
/// </summary>
public readonly struct ShardsSampler
{
    const int HashBits = 24;
    readonly ulong _threshold;

    public ShardsSampler(double rate)
    {
        if (!(rate > 0 && rate <= 1)) throw new ArgumentOutOfRangeException(nameof(rate), "sampling rate must be in (0, 1]");
        Rate = rate;
        _threshold = (ulong)Math.Round(rate * (1UL << HashBits));
        if (_threshold == 0) _threshold = 1;
        KeepsAll = rate >= 1;
    }

    public double Rate { get; }
    public bool KeepsAll { get; }

    /// <summary>The rate actually applied, after rounding to the hash's resolution.</summary>
    public double EffectiveRate => KeepsAll ? 1 : (double)_threshold / (1UL << HashBits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Keeps(ulong lineIndex) => KeepsAll || (Mix(lineIndex) >> (64 - HashBits)) < _threshold;

    /// <summary>SplitMix64's finaliser: consecutive line numbers land far apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
