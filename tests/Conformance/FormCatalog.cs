using Iced.Intel;
using LegoEmu.Cpu.Interp;

namespace LegoEmu.Tests.Conformance;

public enum FormStatus
{
    /// <summary>Has a handler and a generator: cases run.</summary>
    Tested,
    /// <summary>No LegoEmu handler for the decoded instruction.</summary>
    NotImplemented,
    /// <summary>The host cannot execute it, so there is no reference result.</summary>
    HostLacksFeature,
    /// <summary>Outside what this harness can run (control flow, privileged, non-deterministic, ...).</summary>
    NotInHarness,
}

public sealed record CatalogEntry(Form Form, FormStatus Status, string? Reason);

/// <summary>
/// Every legacy-encoded 64-bit instruction form Iced knows (and the VEX-encoded ones of x86-64-v3), classified: tested, not implemented in
/// LegoEmu, not runnable on this host, or outside the harness (with the reason). Implementation is
/// decided by <see cref="HandlerTable.IsImplemented"/> on the decoded bytes of a generated case, so
/// new handlers are picked up without touching the harness.
/// </summary>
public static class FormCatalog
{
    static readonly Lazy<IReadOnlyList<CatalogEntry>> Entries = new(Build);

    public static IReadOnlyList<CatalogEntry> All => Entries.Value;

    /// <summary>Marks a form the generator should handle but crashed on: a harness bug, never an accepted gap.</summary>
    public const string GeneratorError = "generator error";

    static readonly Dictionary<Mnemonic, string> Excluded = new()
    {
        [Mnemonic.Cpuid] = "reports LegoEmu's own CPU model, which differs from the host's by design",
        [Mnemonic.Rdtsc] = "result differs between runs",
        [Mnemonic.Rdtscp] = "result differs between runs",
        [Mnemonic.Rdrand] = "result differs between runs",
        [Mnemonic.Rdseed] = "result differs between runs",
        [Mnemonic.Rdpid] = "result differs between runs",
        [Mnemonic.Rdpmc] = "result differs between runs",
        [Mnemonic.Rdpru] = "result differs between runs",
        [Mnemonic.Xgetbv] = "reports the host operating system's state",
        [Mnemonic.Sgdt] = "system-table instruction (faults under UMIP)",
        [Mnemonic.Sidt] = "system-table instruction (faults under UMIP)",
        [Mnemonic.Sldt] = "system-table instruction (faults under UMIP)",
        [Mnemonic.Str] = "system-table instruction (faults under UMIP)",
        [Mnemonic.Smsw] = "system-table instruction (faults under UMIP)",
        [Mnemonic.Lar] = "reports host segment descriptors",
        [Mnemonic.Lsl] = "reports host segment descriptors",
        [Mnemonic.Verr] = "reports host segment descriptors",
        [Mnemonic.Verw] = "reports host segment descriptors",
        [Mnemonic.Cli] = "faults in user mode",
        [Mnemonic.Sti] = "faults in user mode",
        [Mnemonic.Syscall] = "system call",
        [Mnemonic.Fxsave] = "writes FPU instruction/data pointers, which depend on the code layout",
        [Mnemonic.Fxsave64] = "writes FPU instruction/data pointers, which depend on the code layout",
        [Mnemonic.Fnstenv] = "writes FPU instruction/data pointers, which depend on the code layout",
        [Mnemonic.Fstenv] = "writes FPU instruction/data pointers, which depend on the code layout",
        [Mnemonic.Fnsave] = "writes FPU instruction/data pointers, which depend on the code layout",
        [Mnemonic.Fsave] = "writes FPU instruction/data pointers, which depend on the code layout",
        [Mnemonic.Xsave] = "832-byte XSAVE area, larger than the harness's memory (the xsave_state guest covers it)",
        [Mnemonic.Xsave64] = "832-byte XSAVE area, larger than the harness's memory (the xsave_state guest covers it)",
        [Mnemonic.Xsavec] = "832-byte XSAVE area, larger than the harness's memory (the xsave_state guest covers it)",
        [Mnemonic.Xsavec64] = "832-byte XSAVE area, larger than the harness's memory (the xsave_state guest covers it)",
        [Mnemonic.Xrstor] = "832-byte XSAVE area, larger than the harness's memory (the xsave_state guest covers it)",
        [Mnemonic.Xrstor64] = "832-byte XSAVE area, larger than the harness's memory (the xsave_state guest covers it)",
    };

    static readonly HashSet<OpCodeOperandKind> Supported =
    [
        OpCodeOperandKind.mm_or_mem, OpCodeOperandKind.mm_reg, OpCodeOperandKind.mm_rm,
        OpCodeOperandKind.r8_or_mem, OpCodeOperandKind.r16_or_mem, OpCodeOperandKind.r32_or_mem, OpCodeOperandKind.r64_or_mem,
        OpCodeOperandKind.xmm_or_mem, OpCodeOperandKind.mem, OpCodeOperandKind.mem_offs,
        OpCodeOperandKind.r8_reg, OpCodeOperandKind.r8_opcode, OpCodeOperandKind.r16_reg, OpCodeOperandKind.r16_rm,
        OpCodeOperandKind.r16_opcode, OpCodeOperandKind.r16_reg_mem, OpCodeOperandKind.r32_reg, OpCodeOperandKind.r32_rm,
        OpCodeOperandKind.r32_opcode, OpCodeOperandKind.r32_reg_mem, OpCodeOperandKind.r64_reg, OpCodeOperandKind.r64_rm,
        OpCodeOperandKind.r64_opcode, OpCodeOperandKind.r64_reg_mem, OpCodeOperandKind.xmm_reg, OpCodeOperandKind.xmm_rm,
        OpCodeOperandKind.r32_vvvv, OpCodeOperandKind.r64_vvvv, OpCodeOperandKind.xmm_vvvv, OpCodeOperandKind.xmm_is4,
        OpCodeOperandKind.ymm_reg, OpCodeOperandKind.ymm_rm, OpCodeOperandKind.ymm_vvvv, OpCodeOperandKind.ymm_is4, OpCodeOperandKind.ymm_or_mem,
        OpCodeOperandKind.al, OpCodeOperandKind.cl, OpCodeOperandKind.ax, OpCodeOperandKind.eax, OpCodeOperandKind.rax,
        OpCodeOperandKind.st0, OpCodeOperandKind.sti_opcode, OpCodeOperandKind.imm8, OpCodeOperandKind.imm8_const_1,
        OpCodeOperandKind.imm8sex16, OpCodeOperandKind.imm8sex32, OpCodeOperandKind.imm8sex64, OpCodeOperandKind.imm16,
        OpCodeOperandKind.imm32, OpCodeOperandKind.imm32sex64, OpCodeOperandKind.imm64,
    ];

    /// <summary>Coverage-table group of a code: the ISA extension it belongs to.</summary>
    public static string GroupOf(Code code)
    {
        var features = new Instruction { Code = code }.CpuidFeatures;
        if (features.Any(f => f is CpuidFeature.FPU or CpuidFeature.FPU287 or CpuidFeature.FPU387 or CpuidFeature.FXSR)) return "x87";
        if (new Instruction { Code = code }.Encoding == EncodingKind.VEX)
        {
            if (features.Any(f => f is CpuidFeature.BMI1 or CpuidFeature.BMI2)) return "BMI";
            if (features.Contains(CpuidFeature.FMA)) return "FMA";
            if (features.Contains(CpuidFeature.F16C)) return "F16C";
            if (features.Contains(CpuidFeature.AVX2)) return "AVX2";
            if (features.Contains(CpuidFeature.AVX)) return "AVX";
        }
        if (features.Contains(CpuidFeature.SSE4_2)) return "SSE4.2";
        if (features.Contains(CpuidFeature.SSE4_1)) return "SSE4.1";
        if (features.Contains(CpuidFeature.SSSE3)) return "SSSE3";
        if (features.Contains(CpuidFeature.SSE3)) return "SSE3";
        if (features.Contains(CpuidFeature.SSE2)) return "SSE2";
        if (features.Contains(CpuidFeature.SSE)) return "SSE";
        if (features.Contains(CpuidFeature.MMX)) return "MMX";
        bool integer = features.All(f => f is CpuidFeature.INTEL8086 or CpuidFeature.INTEL186 or CpuidFeature.INTEL286
            or CpuidFeature.INTEL386 or CpuidFeature.INTEL486 or CpuidFeature.X64 or CpuidFeature.CMOV or CpuidFeature.POPCNT
            or CpuidFeature.LZCNT or CpuidFeature.BMI1 or CpuidFeature.MOVBE or CpuidFeature.CX8 or CpuidFeature.CMPXCHG16B
            or CpuidFeature.MULTIBYTENOP or CpuidFeature.PAUSE or CpuidFeature.CLFSH);
        return integer ? "Integer" : "Other";
    }

    static IReadOnlyList<CatalogEntry> Build()
    {
        var result = new List<CatalogEntry>();
        var special = StringForms.All().ToList();
        var specialCodes = special.Select(f => f.Code).ToHashSet();
        foreach (Code code in Enum.GetValues<Code>())
        {
            if (code == Code.INVALID || specialCodes.Contains(code)) continue;
            var op = code.ToOpCode();
            if (!op.IsInstruction || !op.Mode64 || !(op.Encoding == EncodingKind.Legacy || IsV3Vex(op))) continue;
            var kinds = Enumerable.Range(0, op.OpCount).Select(op.GetOpKind).ToArray();
            bool rm = kinds.Any(k => k is OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r32_or_mem
                or OpCodeOperandKind.r64_or_mem or OpCodeOperandKind.xmm_or_mem or OpCodeOperandKind.mm_or_mem);
            foreach (bool memory in rm ? new[] { false, true } : new[] { false })
            {
                string name = $"{op.ToInstructionString()} [{op.ToOpCodeString()}]{(rm ? memory ? " (mem)" : " (reg)" : "")}";
                var form = new Form { Name = name, Mnemonic = op.Mnemonic, Group = GroupOf(code), Code = code, MemoryVariant = memory };
                result.Add(Classify(form, Exclusion(code, op, kinds)));
            }
        }
        foreach (var form in special.Concat(FlagSequences.All()))
            result.Add(Classify(form, null));
        return result;
    }

    /// <summary>The VEX-encoded instructions of x86-64-v3: BMI1, BMI2, AVX, AVX2, FMA, F16C, and the VEX.128 PCLMULQDQ and AES-NI forms.</summary>
    static bool IsV3Vex(OpCodeInfo op) =>
        op.Encoding == EncodingKind.VEX && new Instruction { Code = op.Code }.CpuidFeatures.All(f => f is CpuidFeature.BMI1
            or CpuidFeature.BMI2 or CpuidFeature.AVX or CpuidFeature.AVX2 or CpuidFeature.FMA or CpuidFeature.F16C or CpuidFeature.PCLMULQDQ or CpuidFeature.AES);

    static string? Exclusion(Code code, OpCodeInfo op, OpCodeOperandKind[] kinds)
    {
        var probe = new Instruction { Code = code };
        if (probe.FlowControl != FlowControl.Next) return "control transfer";
        if (op.MustBeCpl0 || op.IsPrivileged) return "privileged";
        if (op.IsInputOutput) return "port I/O";
        if (Excluded.TryGetValue(op.Mnemonic, out var why)) return why;
        foreach (var k in kinds)
        {
            if (Supported.Contains(k)) continue;
            string s = k.ToString();
            if (s is "seg_reg" or "es" or "cs" or "ss" or "ds" or "fs" or "gs") return "segment register operand";
            return $"operand kind {s}";
        }
        int size = op.MemorySize.GetSize();
        if (size > StateLayout.MemSize / 2) return $"{size}-byte memory operand";
        return null;
    }

    static CatalogEntry Classify(Form form, string? exclusion)
    {
        if (exclusion is not null) return new CatalogEntry(form, FormStatus.NotInHarness, exclusion);
        if (form.Custom is null)
        {
            var missing = HostCpu.Missing(form.Code).ToList();
            if (missing.Count > 0) return new CatalogEntry(form, FormStatus.HostLacksFeature, "host lacks " + string.Join(", ", missing));
        }
        TestCase sample;
        try
        {
            sample = CaseGenerator.Generate(form, 0);
        }
        catch (CaseGenerationException e)
        {
            return new CatalogEntry(form, FormStatus.NotInHarness, e.Message);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return new CatalogEntry(form, FormStatus.NotInHarness, $"{GeneratorError}: {e.GetType().Name}: {e.Message}");
        }
        foreach (var ins in Decode(sample.Instructions))
        {
            if (!HandlerTable.IsImplemented(ins))
                return new CatalogEntry(form, FormStatus.NotImplemented, $"no handler for {ins.Mnemonic.ToString().ToUpperInvariant()}");
        }
        return new CatalogEntry(form, FormStatus.Tested, null);
    }

    /// <summary>What LegoEmu's decoder sees: the encoded bytes decoded again (FWAIT forms become two instructions).</summary>
    public static List<Instruction> Decode(Instruction[] instructions)
    {
        if (CaseGenerator.CheckEncoding(instructions, out var bytes) is { } error)
            throw new CaseGenerationException(error);
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(bytes));
        decoder.IP = StateLayout.CodeBase;
        var list = new List<Instruction>();
        while (decoder.IP < StateLayout.CodeBase + (ulong)bytes.Length)
            list.Add(decoder.Decode());
        return list;
    }
}
