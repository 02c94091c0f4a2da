using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using Xunit;

namespace LegoEmu.Tests.Differential;

/// <summary>How one guest program is built and run; the defaults fit most guests.</summary>
public sealed record GuestSpec(string Name)
{
    /// <summary>-static-pie guests need the loader to relocate them, unlike plain -static.</summary>
    public string[] GccFlags { get; init; } = ["-static", "-O2"];

    public string[] Arguments { get; init; } = [];

    /// <summary>Options for <c>legoemu run</c> that the guest needs in every configuration (a CPU model, say).</summary>
    public string[] RunOptions { get; init; } = [];

    /// <summary>The native exit status, checked first so a broken guest is not blamed on the emulator.</summary>
    public int ExpectedExitCode { get; init; }

    /// <summary>Only for guests whose stderr is a known message: otherwise the emulator may add its own lines.</summary>
    public bool CompareStderr { get; init; }
}

/// <summary>
/// The guest programs in tests/guests/*.c (copied next to the test assembly) and their
/// per-guest settings. Every .c file found is a guest; those without an entry in
/// <see cref="Special"/> are built with -static -O2, run without arguments, and must exit 0.
/// </summary>
public static class Guests
{
    public static readonly string SourceDirectory = Path.Combine(AppContext.BaseDirectory, "guests");

    /// <summary>Names that must exist: deleting one of these sources should fail the suite, not shrink it.</summary>
    public static readonly string[] Required =
        ["hello", "args", "malloc_stress", "strings", "math64", "hello_pie", "exit3"];

    /// <summary>
    /// Option-like arguments must reach the guest untouched, not be eaten by legoemu's parser: "-hmac" was split
    /// into "-h" "mac" by POSIX bundling when legoemu itself had options, so `openssl dgst -hmac KEY` printed its help.
    /// </summary>
    public static readonly string[] ArgsGuestArguments =
        ["--stats", "-x", "--", "two words", "", "--excache=1K", "ünïcødé", "-hmac", "-xvf", "last"];

    /// <summary>Set for every guest run, native or emulated; inherited LEGO_* variables are removed.</summary>
    public static readonly IReadOnlyDictionary<string, string?> Environment = new Dictionary<string, string?>
    {
        ["LEGO_A"] = "1",
        ["LEGO_B"] = "two words",
    };

    public const string EnvironmentPrefixToClear = "LEGO_";

    private static readonly Dictionary<string, GuestSpec> Special = new[]
    {
        new GuestSpec("hello") { CompareStderr = true },
        new GuestSpec("args") { Arguments = ArgsGuestArguments },
        new GuestSpec("hello_pie") { GccFlags = ["-static-pie", "-O2"] },
        new GuestSpec("exit3") { ExpectedExitCode = 3 },
        new GuestSpec("fault_segv") { ExpectedExitCode = 128 + 11 },
        new GuestSpec("fault_divide") { ExpectedExitCode = 128 + 8 },
        new GuestSpec("fault_ud2") { ExpectedExitCode = 128 + 4 },
        new GuestSpec("signals") { ExpectedExitCode = 128 + 15 },
        new GuestSpec("long_double"),
        new GuestSpec("sse4_intrinsics") { GccFlags = ["-static", "-O2", "-msse4.2"] },
        new GuestSpec("autovec") { GccFlags = ["-static", "-O3", "-msse4.2"] },
        new GuestSpec("avx2_intrinsics") { GccFlags = ["-static", "-O2", "-mavx2"], RunOptions = ["--cpu", "v3"] },
        new GuestSpec("avx_float") { GccFlags = ["-static", "-O2", "-mavx2", "-mfma", "-mf16c"], RunOptions = ["--cpu", "v3"] },
        new GuestSpec("avx2_strings") { RunOptions = ["--cpu", "v3"] },
        new GuestSpec("xsave_state") { GccFlags = ["-static", "-O2", "-mavx2", "-mxsave", "-mxsavec"], RunOptions = ["--cpu", "v3"] },
        new GuestSpec("x87_unmasked"),
        new GuestSpec("fpe_unmasked") { GccFlags = ["-static", "-O2", "-mavx2", "-mfma"], RunOptions = ["--cpu", "v3"] },
        new GuestSpec("avx_signals") { GccFlags = ["-static", "-O2", "-mavx2"], RunOptions = ["--cpu", "v3"] },
        new GuestSpec("autovec_v3") { GccFlags = ["-static", "-O3", "-march=x86-64-v3"], RunOptions = ["--cpu", "v3"] },
        new GuestSpec("bmi_scalar") { GccFlags = ["-static", "-O2", "-mbmi", "-mbmi2", "-mlzcnt", "-mmovbe", "-mpclmul"], RunOptions = ["--cpu", "v3"] },
        new GuestSpec("aes_ni") { GccFlags = ["-static", "-O2", "-maes"], RunOptions = ["--cpu", "v3"] },
    }.ToDictionary(s => s.Name);

    public static IReadOnlyList<GuestSpec> All()
    {
        if (!System.IO.Directory.Exists(SourceDirectory))
            return [];
        return System.IO.Directory.GetFiles(SourceDirectory, "*.c")
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .Select(name => Special.TryGetValue(name, out var spec) ? spec : new GuestSpec(name))
            .ToList();
    }

    public static GuestSpec Get(string name)
    {
        var spec = All().FirstOrDefault(s => s.Name == name);
        Assert.True(spec is not null, $"No guest source {name}.c in {SourceDirectory}");
        return spec!;
    }
}

/// <summary>
/// Compiles every guest once per test run, in parallel, into guests/bin under the test
/// output directory. A failed compilation is reported by the tests that need that guest,
/// with gcc's command line and stderr; a missing gcc fails them all with a clear message.
/// </summary>
public sealed class GuestBuilds
{
    public static readonly string OutputDirectory = Path.Combine(AppContext.BaseDirectory, "guests", "bin");

    private static readonly TimeSpan GccTimeout = TimeSpan.FromSeconds(120);

    private readonly ConcurrentDictionary<string, string> _binaries = new();
    private readonly ConcurrentDictionary<string, string> _errors = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<ProcessResult>>> _nativeRuns = new();

    public GuestBuilds()
    {
        System.IO.Directory.CreateDirectory(OutputDirectory);
        var guests = Guests.All();
        Parallel.ForEach(guests, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, System.Environment.ProcessorCount) },
            Compile);
    }

    /// <summary>Absolute path of the guest's binary; fails the test if it did not compile.</summary>
    public string Binary(string name)
    {
        if (_binaries.TryGetValue(name, out var path))
            return path;
        if (_errors.TryGetValue(name, out var error))
            Assert.Fail(error);
        Assert.Fail($"No guest named {name}: there is no {name}.c in {Guests.SourceDirectory}.");
        throw new InvalidOperationException(); // unreachable: Assert.Fail throws
    }

    /// <summary>
    /// The guest run natively, once per test run: all emulator configurations compare against it.
    /// </summary>
    public Task<ProcessResult> NativeRunAsync(GuestSpec spec) =>
        _nativeRuns.GetOrAdd(spec.Name, _ => new Lazy<Task<ProcessResult>>(() => RunNativeAsync(spec))).Value;

    public Task<ProcessResult> RunNativeAsync(GuestSpec spec) =>
        ProcessRunner.RunAsync(Binary(spec.Name), spec.Arguments, TimeSpan.FromSeconds(60),
            Guests.Environment, Guests.EnvironmentPrefixToClear);

    private void Compile(GuestSpec spec)
    {
        var source = Path.Combine(Guests.SourceDirectory, spec.Name + ".c");
        var output = Path.Combine(OutputDirectory, spec.Name);
        // Link to a temporary name and rename, so an interrupted build never leaves a
        // half-written binary that a later run could mistake for a good one.
        var temporary = output + ".tmp" + System.Environment.ProcessId;
        var args = spec.GccFlags.Concat(["-o", temporary, source, "-lm"]).ToList(); // libm after the source: static linking resolves left to right
        var command = ProcessRunner.Describe("gcc", args);

        var psi = new ProcessStartInfo("gcc")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);

        try
        {
            using var gcc = Process.Start(psi)!;
            var stderrTask = gcc.StandardError.ReadToEndAsync();
            var stdoutTask = gcc.StandardOutput.ReadToEndAsync();
            if (!gcc.WaitForExit(MachineLoad.Scale(GccTimeout)))
            {
                gcc.Kill(entireProcessTree: true);
                _errors[spec.Name] = $"Building guest {spec.Name} timed out after {GccTimeout.TotalSeconds} s: {command}";
                return;
            }
            var stderr = stderrTask.Result;
            var stdout = stdoutTask.Result;
            if (gcc.ExitCode != 0 || !File.Exists(temporary))
            {
                File.Delete(temporary);
                _errors[spec.Name] = $"Building guest {spec.Name} failed (gcc exit {gcc.ExitCode}): {command}\n" +
                                     $"{stderr}{stdout}";
                return;
            }
            File.Move(temporary, output, overwrite: true);
            _binaries[spec.Name] = output;
        }
        catch (Win32Exception e)
        {
            _errors[spec.Name] = $"Cannot build guest {spec.Name}: gcc could not be started ({e.Message}). " +
                                 "The differential tests need gcc and the static glibc (Debian: apt-get install gcc libc6-dev) on PATH.";
        }
    }
}

/// <summary>One GuestBuilds per test run, shared by every class that runs guests.</summary>
[CollectionDefinition(Name)]
public sealed class GuestCollection : ICollectionFixture<GuestBuilds>, ICollectionFixture<LegoEmu.Tests.Remote.TcpMemoryNodes>
{
    public const string Name = "Guest programs";
}
