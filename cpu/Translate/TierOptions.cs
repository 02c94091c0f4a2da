namespace LegoEmu.Cpu.Translate;

/// <summary>Which execution tiers run guest code: the interpreter alone, or the translator for hot code too.</summary>
public sealed record TierOptions(bool Translate, int Threshold, string? CodeCache = null)
{
    /// <summary>Interpreted executions of a block before its region is compiled.</summary>
    public const int DefaultThreshold = 10000;

    public static readonly TierOptions Default = new(true, DefaultThreshold);
    public static readonly TierOptions InterpreterOnly = new(false, DefaultThreshold);

    /// <summary>The procnode/run arguments that reproduce these options in a forked child.</summary>
    public IEnumerable<string> ToArguments()
    {
        yield return "--tier";
        yield return Translate ? "auto" : "interp";
        yield return "--translate-threshold";
        yield return Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (CodeCache != null)
        {
            yield return "--code-cache";
            yield return CodeCache;
        }
    }
}
