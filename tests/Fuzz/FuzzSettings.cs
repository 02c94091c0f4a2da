namespace LegoEmu.Tests.Fuzz;

/// <summary>
/// How much the fuzzers run. The normal test run does a few thousand cases in all (seconds);
/// <c>LEGOEMU_FUZZ_CASES=N</c> runs N cases in each fuzzer, and <c>LEGOEMU_FUZZ_SEED=S</c> another sequence.
/// A failure names the seed and case, so <c>LEGOEMU_FUZZ_SEED</c> with the same count replays it.
/// </summary>
public static class FuzzSettings
{
    public static int Cases(int normal) =>
        int.TryParse(Environment.GetEnvironmentVariable("LEGOEMU_FUZZ_CASES"), out int n) && n > 0 ? n : normal;

    public static int Seed =>
        int.TryParse(Environment.GetEnvironmentVariable("LEGOEMU_FUZZ_SEED"), out int s) ? s : 14;

    /// <summary>The generator of case <paramref name="index"/>: each case is reproducible on its own.</summary>
    public static Random For(int index) => new(HashCode.Combine(Seed, index));
}
