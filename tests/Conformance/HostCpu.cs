using Iced.Intel;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// Which instruction-set extensions the host can run, from the kernel's view in /proc/cpuinfo: a form
/// the host cannot execute has no reference result and is reported as such instead of failing.
/// </summary>
public static class HostCpu
{
    static readonly Lazy<HashSet<string>> Flags = new(ReadFlags);

    /// <summary>Iced feature → /proc/cpuinfo flag; features of every x86-64 CPU map to null.</summary>
    static readonly Dictionary<CpuidFeature, string?> FlagOf = new()
    {
        [CpuidFeature.INTEL8086] = null, [CpuidFeature.INTEL186] = null, [CpuidFeature.INTEL286] = null,
        [CpuidFeature.INTEL386] = null, [CpuidFeature.INTEL486] = null, [CpuidFeature.X64] = null,
        [CpuidFeature.MULTIBYTENOP] = null, [CpuidFeature.PAUSE] = null,
        [CpuidFeature.FPU] = "fpu", [CpuidFeature.FPU287] = "fpu", [CpuidFeature.FPU387] = "fpu",
        [CpuidFeature.CMOV] = "cmov", [CpuidFeature.CX8] = "cx8", [CpuidFeature.CMPXCHG16B] = "cx16",
        [CpuidFeature.FXSR] = "fxsr", [CpuidFeature.CLFSH] = "clflush", [CpuidFeature.CLFLUSHOPT] = "clflushopt",
        [CpuidFeature.SSE] = "sse", [CpuidFeature.SSE2] = "sse2", [CpuidFeature.SSE3] = "pni",
        [CpuidFeature.SSSE3] = "ssse3", [CpuidFeature.SSE4_1] = "sse4_1", [CpuidFeature.SSE4_2] = "sse4_2",
        [CpuidFeature.SSE4A] = "sse4a", [CpuidFeature.POPCNT] = "popcnt", [CpuidFeature.LZCNT] = "abm",
        [CpuidFeature.BMI1] = "bmi1", [CpuidFeature.BMI2] = "bmi2",
        [CpuidFeature.AVX] = "avx", [CpuidFeature.AVX2] = "avx2", [CpuidFeature.FMA] = "fma", [CpuidFeature.F16C] = "f16c", [CpuidFeature.MOVBE] = "movbe", [CpuidFeature.ADX] = "adx",
        [CpuidFeature.AES] = "aes", [CpuidFeature.PCLMULQDQ] = "pclmulqdq", [CpuidFeature.SHA] = "sha_ni",
        [CpuidFeature.MMX] = "mmx", [CpuidFeature.RDTSCP] = "rdtscp", [CpuidFeature.TSC] = "tsc",
        [CpuidFeature.PREFETCHW] = "3dnowprefetch", [CpuidFeature.CLWB] = "clwb", [CpuidFeature.CET_IBT] = "ibt",
    };

    public static bool Supports(CpuidFeature feature) =>
        FlagOf.TryGetValue(feature, out var flag) && (flag is null || Flags.Value.Contains(flag));

    /// <summary>The features of <paramref name="code"/> the host lacks (empty when it can run it).</summary>
    public static IEnumerable<CpuidFeature> Missing(Code code)
    {
        var probe = new Instruction { Code = code };
        return probe.CpuidFeatures.Where(f => !Supports(f));
    }

    static HashSet<string> ReadFlags()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            if (line is null) return [];
            return line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        }
        catch (IOException)
        {
            return [];
        }
    }
}
