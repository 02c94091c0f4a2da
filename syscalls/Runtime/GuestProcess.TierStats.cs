namespace LegoEmu.Syscalls.Runtime;

public sealed partial class GuestProcess
{
    /// <summary>The translator's lines of --stats: regions, how much ran translated, compile time, code-cache size.</summary>
    void PrintTierStats(TextWriter w, long instructions)
    {
        if (Interpreter.Translator is not { } t)
        {
            w.WriteLine("legoemu: tier                 interpreter only (--tier interp)");
            return;
        }
        var s = t.Stats;
        // The home's translator counts only what ran here; threads on other components have translators of their own.
        long elsewhere = Components.Count == 0 ? 0 : InstructionsElsewhere();
        long here = Math.Max(0, instructions - elsewhere);
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
