using System.Text;
using Gee.External.Capstone;
using Gee.External.Capstone.X86;
using Iced.Intel;
using LegoEmu.Loader.Elf;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// LegoEmu decodes with Iced; a second, independent decoder (Capstone) must agree on the length and
/// the mnemonic of every instruction both support, both on the conformance harness's own byte
/// streams and on a real static glibc binary. A disagreement points at a decoder bug in one of
/// them, which for LegoEmu means a mis-executed instruction.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class DecoderCrossCheckTests(GuestBuilds builds)
{
    const int MaxReported = 40;

    [Fact]
    public void GeneratedStreamsDecodeAlike()
    {
        // Every form the catalog can generate (tested or not implemented), a few cases each, plus a driver.
        var cases = FormCatalog.All.Where(e => e.Status is FormStatus.Tested or FormStatus.NotImplemented)
            .SelectMany(e => Enumerable.Range(0, 3).Select(i => CaseGenerator.Generate(e.Form, i)))
            .ToList();
        var stream = new List<byte>();
        foreach (var c in cases)
        {
            CaseGenerator.CheckEncoding(c.Instructions, out var bytes);
            stream.AddRange(bytes);
        }
        var report = Compare(stream.ToArray(), StateLayout.CodeBase);
        var elf = ElfFile.Parse(TestProgram.Build(cases.Take(50).ToList(), native: false), "generated");
        var load = elf.ProgramHeaders.First(p => p.Type == ElfConst.PT_LOAD);
        report.Add(Compare(elf.Data.AsSpan((int)load.Offset, (int)load.FileSize).ToArray(), load.VAddr));
        report.AssertClean("generated conformance streams");
        Assert.True(report.Compared > 1000, $"only {report.Compared} instructions compared");
    }

    [Fact]
    public void StaticGlibcTextDecodesAlike()
    {
        var path = builds.Binary("hello");
        var elf = ElfFile.Load(path);
        var text = elf.Sections.First(s => s.Name == ".text");
        var report = Compare(elf.Data.AsSpan((int)text.Offset, (int)text.Size).ToArray(), text.Addr);
        report.AssertClean($".text of {path}");
        Assert.True(report.Compared > 10000, $"only {report.Compared} instructions compared");
    }

    sealed class Report
    {
        public int Compared, Skipped;
        public readonly List<string> Mismatches = new();
        public readonly Dictionary<string, int> SkipReasons = new();

        public void Add(Report other)
        {
            Compared += other.Compared;
            Skipped += other.Skipped;
            Mismatches.AddRange(other.Mismatches);
            foreach (var (k, v) in other.SkipReasons) SkipReasons[k] = SkipReasons.GetValueOrDefault(k) + v;
        }

        public void AssertClean(string what)
        {
            if (Mismatches.Count == 0) return;
            var s = new StringBuilder($"Iced and Capstone disagree on {Mismatches.Count} of {Compared} instructions in {what}:\n");
            foreach (var m in Mismatches.Take(MaxReported)) s.AppendLine(m);
            Assert.Fail(s.ToString());
        }
    }

    /// <summary>Iced's linear sweep drives; Capstone is asked at each Iced instruction boundary.</summary>
    static Report Compare(byte[] code, ulong address)
    {
        var report = new Report();
        using var cs = CapstoneDisassembler.CreateX86Disassembler(X86DisassembleMode.Bit64);
        cs.EnableSkipDataMode = true;
        cs.DisassembleSyntax = DisassembleSyntax.Intel;
        // One bulk pass; where the two sweeps drift apart, Capstone is asked again at Iced's boundary.
        var bulk = new Dictionary<ulong, X86Instruction>();
        foreach (var ci in cs.Disassemble(code, (long)address)) bulk[(ulong)ci.Address] = ci;

        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(code));
        decoder.IP = address;
        var formatter = new IntelFormatter();
        var output = new StringOutput();
        ulong end = address + (ulong)code.Length;
        while (decoder.IP < end)
        {
            var ins = decoder.Decode();
            if (ins.IsInvalid) { Skip(report, "invalid for Iced"); continue; }
            int offset = (int)(ins.IP - address);
            var bytes = code.AsSpan(offset, ins.Length);
            if (!bulk.TryGetValue(ins.IP, out var ci) || ci.IsSkippedData)
            {
                var one = cs.Disassemble(code.AsSpan(offset, Math.Min(16, code.Length - offset)).ToArray(), (long)ins.IP, 1);
                ci = one.Length > 0 ? one[0] : null;
            }
            output.Reset();
            formatter.FormatMnemonic(ins, output, FormatMnemonicOptions.NoPrefixes);
            string iced = output.ToString();
            bool decoded = ci is not null && !ci.IsSkippedData;
            if (decoded && ci!.Bytes.Length == ins.Length && DecoderNames.Same(ins, iced, DecoderNames.StripPrefixes(ci.Mnemonic)))
            {
                report.Compared++;
                continue;
            }
            if (DecoderNames.CapstoneGap(ins, bytes) is { } gap)
            {
                Skip(report, gap);
                continue;
            }
            string hex = Convert.ToHexString(bytes).ToLowerInvariant();
            report.Compared++;
            report.Mismatches.Add(decoded
                ? $"  0x{ins.IP:x} {hex}: Iced '{Text(formatter, ins)}' ({ins.Length} bytes), Capstone '{ci!.Mnemonic} {ci.Operand}' ({ci.Bytes.Length} bytes)"
                : $"  0x{ins.IP:x} {hex}: Iced '{Text(formatter, ins)}', Capstone cannot decode it");
        }
        return report;
    }

    static void Skip(Report r, string why)
    {
        r.Skipped++;
        r.SkipReasons[why] = r.SkipReasons.GetValueOrDefault(why) + 1;
    }

    static string Text(IntelFormatter f, in Instruction ins)
    {
        var o = new StringOutput();
        f.Format(ins, o);
        return o.ToString();
    }
}
