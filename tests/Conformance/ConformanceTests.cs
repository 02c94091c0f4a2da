using System.Text;
using Iced.Intel;
using Xunit;
using Xunit.Abstractions;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// Instruction conformance against the host CPU: every implemented instruction form runs with edge
/// and random operands natively and under LegoEmu, and the complete register, flag, x87 and memory
/// state after each case must agree wherever the architecture defines it.
/// </summary>
public sealed class ConformanceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Groups() => new(["Integer", "Flags", "x87", "MMX", "SSE", "SSE2", "SSE3", "SSSE3", "SSE4.1", "SSE4.2", "BMI", "AVX", "AVX2", "FMA", "F16C", "Other"]);

    [Theory]
    [MemberData(nameof(Groups))]
    public async Task MatchesHostCpu(string group)
    {
        var suite = await ConformanceSuite.Instance;
        var results = suite.Catalog.Where(e => e.Form.Group == group && e.Status == FormStatus.Tested)
            .Select(e => suite.Runner.ResultFor(e.Form)).ToList();
        var failing = results.Where(r => r.Mismatches > 0).ToList();
        output.WriteLine($"{group}: {results.Count(r => r.CasesRun > 0)} forms, {results.Sum(r => (long)r.CasesRun)} cases " +
                         $"({suite.CasesPerForm} per form; whole suite {suite.Elapsed.TotalSeconds:F0} s)");
        if (failing.Count == 0) return;

        var message = new StringBuilder();
        message.AppendLine($"{failing.Count} of {results.Count} {group} forms differ from the host " +
                           $"({failing.Sum(r => r.Mismatches)} of {results.Sum(r => r.CasesRun)} cases):");
        foreach (var r in failing.Take(25))
        {
            message.AppendLine($"--- {r.Form.Name}: {r.Mismatches} of {r.CasesRun} cases");
            foreach (var example in r.Examples) message.AppendLine(example);
        }
        if (failing.Count > 25) message.AppendLine($"... and {failing.Count - 25} more forms");
        Assert.Fail(message.ToString());
    }

    /// <summary>Guards the harness itself: a generator regression must not silently shrink coverage.</summary>
    [Fact]
    public void CoreInstructionsAreUnderTest()
    {
        var tested = FormCatalog.All.Where(e => e.Status == FormStatus.Tested).Select(e => e.Form.Mnemonic).ToHashSet();
        Mnemonic[] required =
        [
            Mnemonic.Add, Mnemonic.Adc, Mnemonic.Sub, Mnemonic.Sbb, Mnemonic.And, Mnemonic.Or, Mnemonic.Xor, Mnemonic.Cmp,
            Mnemonic.Test, Mnemonic.Inc, Mnemonic.Dec, Mnemonic.Neg, Mnemonic.Not, Mnemonic.Shl, Mnemonic.Shr, Mnemonic.Sar,
            Mnemonic.Rol, Mnemonic.Ror, Mnemonic.Rcl, Mnemonic.Rcr, Mnemonic.Shld, Mnemonic.Shrd, Mnemonic.Mul, Mnemonic.Imul,
            Mnemonic.Div, Mnemonic.Idiv, Mnemonic.Bt, Mnemonic.Bts, Mnemonic.Btr, Mnemonic.Btc, Mnemonic.Bsf, Mnemonic.Bsr,
            Mnemonic.Tzcnt, Mnemonic.Lzcnt, Mnemonic.Popcnt, Mnemonic.Movzx, Mnemonic.Movsx, Mnemonic.Movsxd, Mnemonic.Cmove,
            Mnemonic.Setne, Mnemonic.Bswap, Mnemonic.Xchg, Mnemonic.Xadd, Mnemonic.Cmpxchg, Mnemonic.Cbw, Mnemonic.Cwde,
            Mnemonic.Cdqe, Mnemonic.Cwd, Mnemonic.Cdq, Mnemonic.Cqo, Mnemonic.Lahf, Mnemonic.Sahf, Mnemonic.Lea, Mnemonic.Push,
            Mnemonic.Pop, Mnemonic.Pushf, Mnemonic.Popf, Mnemonic.Mov, Mnemonic.Paddb, Mnemonic.Pxor, Mnemonic.Pshufd,
            Mnemonic.Punpcklbw, Mnemonic.Psllw, Mnemonic.Pcmpeqb, Mnemonic.Movdqa, Mnemonic.Pmovmskb, Mnemonic.Addps,
            Mnemonic.Addsd, Mnemonic.Ucomisd, Mnemonic.Cmpps, Mnemonic.Cvtsd2si, Mnemonic.Cvttss2si, Mnemonic.Cvtsi2sd,
            Mnemonic.Fld, Mnemonic.Fst, Mnemonic.Fstp, Mnemonic.Fild, Mnemonic.Fist, Mnemonic.Fistp, Mnemonic.Fisttp,
            Mnemonic.Fadd, Mnemonic.Fsub, Mnemonic.Fsubr, Mnemonic.Fmul, Mnemonic.Fdiv, Mnemonic.Fdivr, Mnemonic.Fsqrt,
            Mnemonic.Frndint, Mnemonic.Fcom, Mnemonic.Fucom, Mnemonic.Fcomi, Mnemonic.Fucomi, Mnemonic.Fchs, Mnemonic.Fabs,
            Mnemonic.Fxch, Mnemonic.Fld1, Mnemonic.Fldpi, Mnemonic.Fnstsw, Mnemonic.Fnstcw, Mnemonic.Fldcw,
        ];
        var missing = required.Where(m => !tested.Contains(m)).ToList();
        Assert.True(missing.Count == 0, "Not under conformance test: " + string.Join(", ", missing) + "\n" +
            string.Join("\n", FormCatalog.All.Where(e => missing.Contains(e.Form.Mnemonic)).Select(e => $"{e.Form.Name}: {e.Status} {e.Reason}")));
    }

    [Fact]
    public void GeneratorHandlesEveryForm()
    {
        var broken = FormCatalog.All.Where(e => e.Reason?.StartsWith(FormCatalog.GeneratorError, StringComparison.Ordinal) == true).ToList();
        Assert.True(broken.Count == 0, string.Join("\n", broken.Select(e => $"{e.Form.Name}: {e.Reason}")));
    }

    [Fact]
    public void CasesAreReproducible()
    {
        foreach (var entry in FormCatalog.All.Where(e => e.Status == FormStatus.Tested).Take(40))
        {
            var a = CaseGenerator.Generate(entry.Form, 7);
            var b = CaseGenerator.Generate(entry.Form, 7);
            Assert.Equal(a.Input, b.Input);
            Assert.Equal(a.Instructions, b.Instructions);
        }
    }

    /// <summary>LEGOEMU_WRITE_COVERAGE=1 regenerates docs/ISA-COVERAGE.md from this run.</summary>
    [Fact]
    public async Task CoverageTableIsWritten()
    {
        if (Environment.GetEnvironmentVariable("LEGOEMU_WRITE_COVERAGE") != "1") return;
        var suite = await ConformanceSuite.Instance;
        var path = CoverageTable.DocumentPath();
        await File.WriteAllTextAsync(path, CoverageTable.Render(suite));
    }
}
