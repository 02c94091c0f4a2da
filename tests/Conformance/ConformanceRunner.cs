using System.Collections.Concurrent;
using LegoEmu.Cpu.Interp;
using LegoEmu.Tests.Differential;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// Runs cases in batches: each batch becomes one executable, run natively and under LegoEmu
/// (the way users run it: <c>legoemu run PROGRAM</c>), and the per-case records are compared after
/// masking what the architecture leaves undefined. A run that dies part-way is resumed after the
/// case it died on, which is reported; so one crash costs one case, not the batch.
/// </summary>
public sealed class ConformanceRunner
{
    /// <summary>A batch takes seconds; a hang (an emulator loop that never ends) costs one timeout and one case.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);
    const int MaxRestartsPerBatch = 64;
    /// <summary>Executables of this many failing batches are kept for reproduction; the rest are deleted.</summary>
    const int MaxKeptBatches = 2;

    readonly string _directory;
    readonly ConcurrentDictionary<Form, FormResult> _results = new();
    int _batchNumber;
    int _keptBatches;

    public ConformanceRunner(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
    }

    public FormResult ResultFor(Form form) => _results.GetOrAdd(form, f => new FormResult(f));

    /// <summary>Runs <paramref name="perForm"/> cases of every form, <paramref name="batchSize"/> cases per executable.</summary>
    public async Task RunAsync(IReadOnlyList<Form> forms, int perForm, int batchSize, int parallelism)
    {
        foreach (var f in forms) ResultFor(f);
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism };
        await Parallel.ForEachAsync(Batches(forms, perForm, batchSize), options, async (batch, _) => await RunBatchAsync(batch));
    }

    /// <summary>
    /// Case-major order: each batch holds a few cases of many forms, so the crashes of one broken
    /// form are spread thinly instead of exhausting one batch's restarts. Lazy, because long runs
    /// (millions of cases per form) do not fit in memory as one list.
    /// </summary>
    static IEnumerable<(Form Form, int Index)[]> Batches(IReadOnlyList<Form> forms, int perForm, int batchSize)
    {
        var batch = new List<(Form, int)>(batchSize);
        for (int i = 0; i < perForm; i++)
        {
            foreach (var f in forms)
            {
                batch.Add((f, i));
                if (batch.Count == batchSize)
                {
                    yield return batch.ToArray();
                    batch.Clear();
                }
            }
        }
        if (batch.Count > 0) yield return batch.ToArray();
    }

    async Task RunBatchAsync((Form Form, int Index)[] batch)
    {
        var cases = new List<TestCase>(batch.Length);
        foreach (var (form, index) in batch)
        {
            var known = ResultFor(form);
            if (known.NotImplementedCases > 0 && known.CasesRun == 0)
            {
                // LegoEmu already declined this form: each further try would cost a whole rerun.
                Interlocked.Increment(ref known.NotImplementedCases);
                continue;
            }
            TestCase c;
            try { c = CaseGenerator.Generate(form, index); }
            catch (CaseGenerationException e)
            {
                ResultFor(form).Fail($"case #{index} could not be generated: {e.Message}");
                continue;
            }
            // One form can decode to different instructions per case (0F 18 /r: prefetch hints or reserved NOPs).
            var unimplemented = FormCatalog.Decode(c.Instructions).Where(i => !HandlerTable.IsImplemented(i)).ToList();
            if (unimplemented.Count > 0)
            {
                var result = ResultFor(form);
                lock (result)
                {
                    result.NotImplementedCases++;
                    foreach (var i in unimplemented) result.NotImplementedMnemonics.Add(i.Mnemonic.ToString().ToUpperInvariant());
                }
                continue;
            }
            cases.Add(c);
        }

        for (int restart = 0; cases.Count > 0; restart++)
        {
            if (restart == MaxRestartsPerBatch)
            {
                foreach (var c in cases) ResultFor(c.Form).Fail($"case #{c.Index} not run: its batch crashed {MaxRestartsPerBatch} times");
                return;
            }
            int n = Interlocked.Increment(ref _batchNumber);
            string native = Path.Combine(_directory, $"batch{n}-native");
            string emulated = Path.Combine(_directory, $"batch{n}-legoemu");
            WriteExecutable(native, TestProgram.Build(cases, native: true));
            WriteExecutable(emulated, TestProgram.Build(cases, native: false));

            var nativeRun = ProcessRunner.RunAsync(native, [], RunTimeout);
            var emulatedRun = RunEmulatorAsync(emulated);
            var (nr, er) = (await nativeRun, await emulatedRun);

            int nativeCount = nr.Stdout.Length / StateLayout.RecordSize;
            int emulatedCount = er.Stdout.Length / StateLayout.RecordSize;
            int compared = Math.Min(nativeCount, emulatedCount);
            bool nativeDone = nativeCount == cases.Count && nr.ExitCode == 0;
            bool emulatedDone = emulatedCount == cases.Count && er.ExitCode == 0;
            // A failing batch's executables are the quickest way to reproduce: keep the first few.
            var mismatching = Enumerable.Range(0, compared).Where(k => Differs(cases[k],
                nr.Stdout.AsSpan(k * StateLayout.RecordSize, StateLayout.RecordSize),
                er.Stdout.AsSpan(k * StateLayout.RecordSize, StateLayout.RecordSize))).ToList();
            bool keep = (mismatching.Count > 0 || !(nativeDone && emulatedDone)) && Interlocked.Increment(ref _keptBatches) <= MaxKeptBatches;
            string where = keep ? $"\n  reproduce: legoemu run {emulated}   (native: {native})" : "";
            foreach (int k in mismatching)
                Report(cases[k], nr.Stdout.AsSpan(k * StateLayout.RecordSize, StateLayout.RecordSize),
                    er.Stdout.AsSpan(k * StateLayout.RecordSize, StateLayout.RecordSize), keep ? $"{where}, case {k} of that batch" : "");
            if (!keep)
            {
                File.Delete(native);
                File.Delete(emulated);
            }
            if (nativeDone && emulatedDone) return;
            if (compared >= cases.Count)
            {
                // Every record arrived but a process still failed at exit: blame the last case.
                compared = cases.Count - 1;
            }
            var culprit = cases[compared];
            if (!emulatedDone && emulatedCount <= nativeCount)
            {
                // LegoEmu declining a form it does not implement (it says so and raises SIGILL) is a
                // coverage gap, not a wrong result.
                var unsupported = System.Text.RegularExpressions.Regex.Match(er.StderrText, @"unsupported instruction (\S+)");
                if (unsupported.Success)
                {
                    var result = ResultFor(culprit.Form);
                    lock (result)
                    {
                        result.NotImplementedCases++;
                        result.NotImplementedMnemonics.Add(unsupported.Groups[1].Value);
                    }
                    cases = cases.Skip(compared + 1).ToList();
                    continue;
                }
            }
            string who = nativeCount <= emulatedCount && !nativeDone
                ? $"the native run (harness problem: the generated case faults on real hardware) exited with {nr.ExitCode}{(nr.TimedOut ? " after a timeout" : "")}\n{nr.StderrTail(5)}"
                : $"LegoEmu stopped: exit {er.ExitCode}{(er.TimedOut ? " after a timeout" : "")}\n--- legoemu stderr tail ---\n{er.StderrTail(12)}";
            ResultFor(culprit.Form).Fail($"{Header(culprit)}\n  {who}{(keep ? $"{where}, case {compared} of that batch" : "")}");
            Interlocked.Increment(ref ResultFor(culprit.Form).CasesRun);
            cases = cases.Skip(compared + 1).ToList();
        }
    }

    /// <summary>Counts the case as run; true when it differs wherever the architecture defines the state.</summary>
    bool Differs(TestCase c, ReadOnlySpan<byte> native, ReadOnlySpan<byte> emulated)
    {
        Interlocked.Increment(ref ResultFor(c.Form).CasesRun);
        if (native.SequenceEqual(emulated)) return false;
        var masked = emulated.ToArray();
        UndefinedMask.For(c).Apply(native, masked);
        return !native.SequenceEqual(masked);
    }

    void Report(TestCase c, ReadOnlySpan<byte> native, ReadOnlySpan<byte> emulated, string where)
    {
        var mask = UndefinedMask.For(c);
        var masked = emulated.ToArray();
        mask.Apply(native, masked);
        string ignored = mask.Reasons.Count == 0 ? "" : $"\n  ignored (undefined): {string.Join("; ", mask.Reasons)}";
        ResultFor(c.Form).Fail($"{Header(c)}\n  differs:{StateFormatter.Differences(native, masked)}{ignored}{where}");
    }

    static string Header(TestCase c) =>
        $"{c.Form.Name}, case #{c.Index}\n  instruction: {StateFormatter.Describe(c)}\n  input: {StateFormatter.Inputs(c)}";

    /// <summary>
    /// The cases run translated: every block is compiled before it first runs, so each instruction goes
    /// through its emitter (or the interpreter handler called from translated code, for those without one).
    /// LEGOEMU_CONFORMANCE_TIER=interp checks the interpreter alone instead. The CPU model is v3, the level
    /// whose instructions (TZCNT and LZCNT as themselves, BMI, MOVBE, PCLMULQDQ) the host runs too.
    /// </summary>
    static readonly string[] TierArguments = Environment.GetEnvironmentVariable("LEGOEMU_CONFORMANCE_TIER") == "interp"
        ? ["--tier", "interp", "--cpu", "v3"]
        : ["--translate-threshold", "0", "--cpu", "v3"];

    static void WriteExecutable(string path, byte[] image)
    {
        File.WriteAllBytes(path, image);
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>
    /// <c>legoemu run</c> started like <see cref="EmulatorRunner"/> does, but outside its shared time
    /// budget: long conformance runs (LEGOEMU_CONFORMANCE_CASES) would otherwise starve the guest tests.
    /// </summary>
    static Task<ProcessResult> RunEmulatorAsync(string program)
    {
        var dll = Path.Combine(EmulatorRunner.InstallDirectory, "legoemu.dll");
        return ProcessRunner.RunAsync(EmulatorRunner.FindDotnetHost(), ["exec", dll, "run", .. TierArguments, program], RunTimeout);
    }
}
