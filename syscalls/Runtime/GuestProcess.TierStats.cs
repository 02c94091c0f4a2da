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
        double share = instructions == 0 ? 0 : (double)s.TranslatedInstructions / instructions;
        w.WriteLine($"legoemu: tier                 auto, threshold {t.Threshold}: {s.TranslatedInstructions:N0} instructions translated ({share:P1}), {instructions - s.TranslatedInstructions:N0} interpreted");
        w.WriteLine($"legoemu: regions              {s.RegionsCompiled:N0} compiled in {s.CompileSeconds:F3} s ({s.IlBytes / 1024.0:F0} KiB IL), {s.LiveRegions:N0} live ({s.LiveIlBytes / 1024.0:F0} KiB), {s.RegionsInvalidated:N0} invalidated, {s.RegionsEvicted:N0} evicted, {s.RegionsFailed:N0} failed; {Blocks.CodeWrites:N0} stores into code");
    }
}
