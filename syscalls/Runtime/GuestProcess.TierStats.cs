namespace LegoEmu.Syscalls.Runtime;

public sealed partial class GuestProcess
{
    /// <summary>
    /// The instructions retired on this component (of <paramref name="instructions"/>, the process's total) and, when
    /// threads ran on other components, how many they retired there: the home's translator counts only what ran here,
    /// threads elsewhere have translators of their own.
    /// </summary>
    (long Here, long Elsewhere) InstructionsHere(long instructions)
    {
        long elsewhere = Components.Count == 0 ? 0 : InstructionsElsewhere();
        return (Math.Max(0, instructions - elsewhere), elsewhere);
    }

    /// <summary>
    /// The translator's figures of --stats as --stats-json writes them (an object "tier"): how much ran translated and
    /// interpreted on this component, region entries, regions compiled and what became of them, compile time, IL sizes.
    /// </summary>
    public void WriteTierStats(System.Text.Json.Utf8JsonWriter w, long instructions)
    {
        var (here, elsewhere) = InstructionsHere(instructions);
        w.WriteStartObject("tier");
        if (Interpreter.Translator is not { } t)
        {
            w.WriteString("mode", "interp");
            w.WriteNumber("translatedInstructions", 0);
            w.WriteNumber("interpretedInstructions", here);
            w.WriteNumber("instructionsOnOtherComponents", elsewhere);
            w.WriteEndObject();
            return;
        }
        var s = t.Stats;
        w.WriteString("mode", "auto");
        w.WriteNumber("threshold", t.Threshold);
        w.WriteNumber("translatedInstructions", s.TranslatedInstructions);
        w.WriteNumber("interpretedInstructions", Math.Max(0, here - s.TranslatedInstructions));
        w.WriteNumber("instructionsOnOtherComponents", elsewhere);
        w.WriteNumber("regionEntries", s.RegionEntries);
        w.WriteNumber("chainedEntries", s.ChainedEntries);
        w.WriteNumber("regionsCompiled", s.RegionsCompiled);
        w.WriteNumber("compileSeconds", s.CompileSeconds);
        w.WriteNumber("ilBytes", s.IlBytes);
        w.WriteNumber("liveRegions", s.LiveRegions);
        w.WriteNumber("liveIlBytes", s.LiveIlBytes);
        w.WriteNumber("regionsInvalidated", s.RegionsInvalidated);
        w.WriteNumber("regionsEvicted", s.RegionsEvicted);
        w.WriteNumber("regionsRecompiledForMisses", s.RegionsRecompiledWithMissCalls);
        w.WriteNumber("regionsWidened", s.RegionsWidened);
        w.WriteNumber("regionsGivenEntries", s.RegionsGivenEntries);
        w.WriteNumber("regionsFailed", s.RegionsFailed);
        w.WriteNumber("storesIntoCode", Blocks.CodeWrites);
        if (t.CodeCacheDirectory != null)
        {
            w.WriteNumber("codeCacheRegionsFound", s.CachedRegions);
            w.WriteNumber("codeCacheRegionsUsed", s.RegionsFromCache);
            w.WriteNumber("codeCacheRegionsStale", s.CachedRegionsStale);
            w.WriteNumber("codeCacheRegionsSaved", s.RegionsSaved);
        }
        w.WriteEndObject();
    }

    /// <summary>The translator's lines of --stats: regions, how much ran translated, compile time, code-cache size.</summary>
    void PrintTierStats(TextWriter w, long instructions)
    {
        if (Interpreter.Translator is not { } t)
        {
            w.WriteLine("legoemu: tier                 interpreter only (--tier interp)");
            return;
        }
        var s = t.Stats;
        var (here, elsewhere) = InstructionsHere(instructions);
        double share = here == 0 ? 0 : (double)s.TranslatedInstructions / here;
        string where = elsewhere == 0 ? "" : $" on the home component (threads elsewhere ran {elsewhere:N0}, counted by their own components)";
        w.WriteLine($"legoemu: tier                 auto, threshold {t.Threshold}: {s.TranslatedInstructions:N0} instructions translated ({share:P1}) in {s.RegionEntries:N0} region entries ({(s.RegionEntries == 0 ? 0 : s.TranslatedInstructions / (double)s.RegionEntries):F1} per entry; {s.ChainedEntries:N0} straight from another region), {here - s.TranslatedInstructions:N0} interpreted{where}");
        w.WriteLine($"legoemu: regions              {s.RegionsCompiled:N0} compiled in {s.CompileSeconds:F3} s ({s.IlBytes / 1024.0:F0} KiB IL), {s.LiveRegions:N0} live ({s.LiveIlBytes / 1024.0:F0} KiB), {s.RegionsInvalidated:N0} invalidated, {s.RegionsEvicted:N0} evicted, {s.RegionsRecompiledWithMissCalls:N0} recompiled for frequent misses, {s.RegionsWidened:N0} planned again wider, {s.RegionsGivenEntries:N0} compiled again with more entries, {s.RegionsFailed:N0} failed; {Blocks.CodeWrites:N0} stores into code");
        if (t.CodeCacheDirectory is { } dir)
        {
            string saved = s.RegionsSaved > 0 ? $"{s.RegionsSaved:N0} saved in {s.SaveTicks / (double)System.Diagnostics.Stopwatch.Frequency:F3} s" : "none saved";
            w.WriteLine($"legoemu: code cache           {dir}: {s.CachedRegions:N0} regions found, {s.RegionsFromCache:N0} used (bound in {s.BindTicks / (double)System.Diagnostics.Stopwatch.Frequency:F3} s), {s.CachedRegionsStale:N0} stale; {saved}");
        }
        PrintFallbacks(w);
    }

    /// <summary>The instructions translated code ran most often through the interpreter (no emitter yet).</summary>
    static void PrintFallbacks(TextWriter w)
    {
        var counts = LegoEmu.Cpu.Translate.TranslatedRuntime.FallbackCounts;
        var top = new List<(long Count, int Mnemonic)>();
        long total = 0;
        for (int m = 0; m < counts.Length; m++)
        {
            long n = Volatile.Read(ref counts[m]);
            if (n == 0) continue;
            total += n;
            top.Add((n, m));
        }
        if (total == 0) return;
        top.Sort((a, b) => b.Count.CompareTo(a.Count));
        var parts = new List<string>();
        for (int k = 0; k < top.Count && k < 8; k++) parts.Add($"{(Iced.Intel.Mnemonic)top[k].Mnemonic} {top[k].Count:N0}");
        w.WriteLine($"legoemu: fallbacks            {total:N0} from translated code: {string.Join(", ", parts)}");
    }
}
