using System.CommandLine;
using LegoEmu.Cpu;

namespace LegoEmu.Cluster.Cli;

/// <summary>The --cpu option of run and procnode: the x86-64 level the guest's CPU models (forked children and thread hosts get it too).</summary>
public sealed class CpuArgument
{
    readonly Option<string> _cpu = new("--cpu")
    {
        Description = "The CPU the guest sees: v1 (x86-64 baseline, SSE2), v2 (adds SSE3 to SSE4.2, POPCNT, CMPXCHG16B, LAHF) or v3 " +
                      "(adds AVX, AVX2, FMA, F16C, BMI1, BMI2, LZCNT, MOVBE, XSAVE, PCLMULQDQ, AES-NI). CPUID advertises the level, and an " +
                      "instruction above it raises SIGILL as on such a machine",
        DefaultValueFactory = _ => CpuModel.Name(CpuModel.Default),
        HelpName = "v1|v2|v3",
    };

    public CpuArgument() => _cpu.AcceptOnlyFromAmong("v1", "v2", "v3");

    public void AddTo(Command cmd) => cmd.Options.Add(_cpu);

    /// <summary>Makes the chosen level this process's CPU model (before any guest code is decoded).</summary>
    public void Apply(ParseResult pr)
    {
        CpuModel.TryParse(pr.GetValue(_cpu)!, out var level);
        CpuModel.Select(level);
    }

    /// <summary>The arguments that give a child component this process's CPU model.</summary>
    public static string[] ToArguments() => ["--cpu", CpuModel.Name(CpuModel.Level)];
}
