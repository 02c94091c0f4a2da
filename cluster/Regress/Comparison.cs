namespace LegoEmu.Cluster.Regress;

/// <summary>How an emulated run compares with the native one.</summary>
public enum Verdict { Pass, Mismatch, Error }

/// <summary>One row of the result table: a case in one configuration.</summary>
public sealed record CaseResult(string Case, string Config, Verdict Verdict, string Detail, double NativeSeconds, double EmulatedSeconds, double? MissRatio, long ExCacheBytes)
{
    public double Slowdown => NativeSeconds > 0 ? EmulatedSeconds / NativeSeconds : 0;
}

/// <summary>Compares an emulated run with the native run of the same case: exit status, filtered stdout, optionally stderr, output files.</summary>
public static class Comparison
{
    /// <summary>Null when they agree, else a one-paragraph description of the first difference.</summary>
    public static (Verdict, string) Compare(RegressCase c, RunOutcome native, RunOutcome emulated)
    {
        if (native.StartError != null) return (Verdict.Error, $"native run: {native.StartError}");
        if (native.TimedOut) return (Verdict.Error, $"native run timed out after {c.TimeoutSeconds:F0} s");
        if (emulated.StartError != null) return (Verdict.Error, $"emulated run: {emulated.StartError}");
        if (emulated.TimedOut) return (Verdict.Mismatch, $"emulated run timed out after {c.TimeoutSeconds:F0} s");
        if (native.ExitCode != emulated.ExitCode)
            return (Verdict.Mismatch, $"exit status: native {native.ExitCode}, emulated {emulated.ExitCode}\n{Tail(emulated.Stderr)}");
        if (Diff("stdout", c.Filter.Apply(native.Stdout), c.Filter.Apply(emulated.Stdout)) is { } d) return (Verdict.Mismatch, d);
        if (c.CompareStderr && Diff("stderr", c.Filter.Apply(native.Stderr), c.Filter.Apply(emulated.Stderr)) is { } e) return (Verdict.Mismatch, e);
        foreach (var o in c.Outputs)
        {
            var a = native.OutputFiles.GetValueOrDefault(o);
            var b = emulated.OutputFiles.GetValueOrDefault(o);
            if (a == null && b == null) continue;
            if (a == null || b == null) return (Verdict.Mismatch, $"output file {o}: written only by the {(a == null ? "emulated" : "native")} run");
            if (!a.AsSpan().SequenceEqual(b)) return (Verdict.Mismatch, $"output file {o} differs ({a.Length} bytes native, {b.Length} emulated)");
        }
        return (Verdict.Pass, "");
    }

    /// <summary>The first differing line, with its number, from both sides.</summary>
    static string? Diff(string what, string native, string emulated)
    {
        if (native == emulated) return null;
        var a = native.Split('\n');
        var b = emulated.Split('\n');
        int i = 0;
        while (i < a.Length && i < b.Length && a[i] == b[i]) i++;
        string At(string[] lines) => i < lines.Length ? Clip(lines[i]) : "(end of output)";
        return $"{what} differs at line {i + 1}:\n  native:   {At(a)}\n  emulated: {At(b)}";
    }

    static string Clip(string s) => s.Length > 200 ? s[..200] + "…" : s;

    static string Tail(byte[] stderr)
    {
        var lines = System.Text.Encoding.UTF8.GetString(stderr).TrimEnd('\n').Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 5)).Select(l => "  " + Clip(l)));
    }
}
