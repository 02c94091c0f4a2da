using System.CommandLine;
using LegoEmu.Cpu.Translate;

namespace LegoEmu.Cluster.Cli;

/// <summary>The --tier and --translate-threshold options, shared by run and procnode (forked children get them too).</summary>
public sealed class TierArguments
{
    readonly Option<string> _tier = new("--tier")
    {
        Description = "interp: only the interpreter; auto: hot code is translated to .NET IL and compiled",
        DefaultValueFactory = _ => "auto",
        HelpName = "interp|auto",
    };

    readonly Option<int> _threshold = new("--translate-threshold")
    {
        Description = "Interpreted executions of a block before its region is translated; 0 translates every block before it first runs",
        DefaultValueFactory = _ => TierOptions.DefaultThreshold,
        HelpName = "N",
    };

    readonly Option<string> _codeCache = new("--code-cache")
    {
        Description = "Keep compiled regions of each program in DIR, compiled ahead of time when the program ends, and use them from its next run on; off: none (default: LEGOEMU_CODE_CACHE, else off)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(CodeCacheVariable) is { Length: > 0 } dir ? dir : "off",
        HelpName = "DIR|off",
    };

    public TierArguments() => _tier.AcceptOnlyFromAmong("interp", "auto");

    /// <summary>Sets the default of --code-cache.</summary>
    public const string CodeCacheVariable = "LEGOEMU_CODE_CACHE";

    /// <summary>
    /// The tiers of a run without options (the fast path that skips the option parser): the defaults, with the code
    /// cache <see cref="CodeCacheVariable"/> names; null and an error for a file in its place.
    /// </summary>
    public static TierOptions? Defaults(out string? error) => Checked(TierOptions.Default, Environment.GetEnvironmentVariable(CodeCacheVariable) ?? "off", out error);

    static TierOptions? Checked(TierOptions tier, string codeCache, out string? error)
    {
        error = null;
        string? cache = codeCache is "off" or "" ? null : Path.GetFullPath(codeCache);
        if (cache != null && File.Exists(cache))
        {
            error = $"bad --code-cache {cache}: a file, not a directory";
            return null;
        }
        return tier with { CodeCache = cache };
    }

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(_tier);
        cmd.Options.Add(_threshold);
        cmd.Options.Add(_codeCache);
    }

    /// <summary>The chosen options, or an error message for a bad threshold.</summary>
    public TierOptions? Parse(ParseResult pr, out string? error)
    {
        int threshold = pr.GetValue(_threshold);
        error = threshold < 0 ? $"bad --translate-threshold {threshold}: a count of 0 or more" : null;
        if (error != null) return null;
        return Checked(new TierOptions(pr.GetValue(_tier) != "interp", threshold), pr.GetValue(_codeCache) ?? "off", out error);
    }
}
