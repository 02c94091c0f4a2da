using System.Text;
using Xunit;

namespace LegoEmu.Tests.Differential;

/// <summary>
/// Differential tests: each guest runs natively and under LegoEmu, and stdout plus the exit
/// status must be identical. Each runs with the embedded default (hot code translated) and with tiny
/// caches, where heavy eviction exercises write-back and refill on nearly every access; most also run
/// with every block translated before it first runs, over a tiny cache (the inlined probe's miss path).
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class StaticGuestTests(GuestBuilds builds, LegoEmu.Tests.Remote.TcpMemoryNodes tcpNodes)
{
    /// <summary>Cache configurations by test-visible name; the name appears in every test case's name.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Configurations = new Dictionary<string, string[]>
    {
        ["default"] = [],
        ["translate-all-excache-16K-line64-ways2-lru"] = ["--translate-threshold", "0", "--excache", "16K", "--line", "64", "--ways", "2", "--policy", "lru"],
        ["excache-16K"] = ["--excache", "16K"],
        // The default policy (CLOCK) under translated code: its hand takes lines out of the front table that the
        // region's kept lines (CpuState.Lines) may name, at every miss, in a cache of four 64-byte lines per set.
        ["translate-all-excache-16K-line64-ways4"] = ["--translate-threshold", "0", "--excache", "16K", "--line", "64", "--ways", "4"],
        // Every fork here starts its child cold; the other configurations hand forks to pooled components.
        ["excache-16K-line64-ways2-lru-pool0"] = ["--excache", "16K", "--line", "64", "--ways", "2", "--policy", "lru", "--pool", "0"],
        // Memory nodes with the default miss path (stride prefetch, queued write-backs), with next-line prefetch, and
        // with neither (write-backs combined with their fill).
        ["memnodes-2-unix-64K"] = ["--memory-nodes", "2", "--excache", "64K"],
        ["memnodes-3-tcp-lru-prefetch-next"] = ["--memory-nodes", TcpNodesToken, "--excache", "64K", "--policy", "lru", "--prefetch", "next", "--prefetch-depth", "4"],
        ["memnodes-3-tcp-random-prefetch-off-combined"] = ["--memory-nodes", TcpNodesToken, "--excache", "64K", "--policy", "random", "--prefetch", "off", "--write-back", "combined"],
    };

    /// <summary>Replaced by the endpoints of the shared TCP memory nodes when the test runs.</summary>
    public const string TcpNodesToken = "{tcp-nodes}";

    /// <summary>
    /// The guests run with every block translated before it first runs. Compiling each block costs about a
    /// millisecond, so this is the computing, faulting, signalling and self-modifying ones, not the
    /// process- and descriptor-heavy ones (every forked child compiles its code again), and not eintr,
    /// whose 50 ms alarms must land inside the call that follows them, which compiling the code in
    /// between can delay on a busy machine. The conformance harness runs translated too.
    /// </summary>
    static readonly HashSet<string> Translated =
    [
        "hello", "args", "exit3", "hello_pie", "math64", "sieve", "strings", "wordfreq", "malloc_stress", "factorial",
        "numconv", "sse4_intrinsics", "autovec", "long_double", "x87_math", "mxcsr", "selfmod", "bigmem",
        "fault_segv", "fault_divide", "fault_ud2", "signals", "threads", "thread_signals", "futex_restart",
        "branch_flags", "atomics", "bmi_scalar", "avx2_intrinsics", "avx_float", "avx2_strings", "autovec_v3", "avx_signals", "xsave_state", "fpe_unmasked",
        "aes_ni", "x87_unmasked", "sse_scalar", "hash_rounds", "line_walk", "dispatch_vm", "fp_flags_hot", "nested_calls", "dead_flags_fpe", "front_table_edges", "stack_groups",
        "wide_multiply",
        "dead_flags",
    ];

    public static TheoryData<string, string> GuestsAndConfigurations()
    {
        var data = new TheoryData<string, string>();
        foreach (var guest in Guests.All())
        {
            foreach (var config in Configurations.Keys)
            {
                if (config.StartsWith("translate-all", StringComparison.Ordinal) && !Translated.Contains(guest.Name)) continue;
                data.Add(guest.Name, config);
            }
        }
        return data;
    }

    public static TheoryData<string> GuestNames()
    {
        var data = new TheoryData<string>();
        foreach (var guest in Guests.All())
            data.Add(guest.Name);
        return data;
    }

    [Fact]
    public void RequiredGuestSourcesArePresent()
    {
        var present = Guests.All().Select(g => g.Name).ToHashSet();
        var missing = Guests.Required.Where(name => !present.Contains(name)).ToList();
        Assert.True(missing.Count == 0,
            $"Guest sources missing from {Guests.SourceDirectory}: {string.Join(", ", missing)}");
    }

    /// <summary>
    /// Guards the oracle: a guest whose native output varies between runs would make every
    /// differential failure meaningless.
    /// </summary>
    [Theory]
    [MemberData(nameof(GuestNames))]
    public async Task NativeRunIsDeterministic(string guest)
    {
        var spec = Guests.Get(guest);
        var first = await builds.NativeRunAsync(spec);
        var second = await builds.RunNativeAsync(spec);
        Assert.False(first.TimedOut, $"Native run timed out: {first}");
        Assert.True(first.ExitCode == spec.ExpectedExitCode,
            $"Native {guest} exited with {first.ExitCode}, expected {spec.ExpectedExitCode}.\n{first.StderrTail()}");
        AssertSameOutput("second native run", "first native run", first.Stdout, second.Stdout, second);
        Assert.Equal(first.ExitCode, second.ExitCode);
    }

    [Theory]
    [MemberData(nameof(GuestsAndConfigurations))]
    public async Task MatchesNative(string guest, string config)
    {
        var spec = Guests.Get(guest);
        var binary = builds.Binary(guest);
        var native = await builds.NativeRunAsync(spec);
        Assert.True(!native.TimedOut && native.ExitCode == spec.ExpectedExitCode,
            $"The native run is not a usable reference: {native}\n{native.StderrTail()}");

        var emulated = await EmulatorRunner.RunAsync(
            new[] { "run" }.Concat(spec.RunOptions).Concat(Configurations[config].Select(a => a == TcpNodesToken ? tcpNodes.List : a)).Append(binary).Concat(spec.Arguments),
            Guests.Environment, Guests.EnvironmentPrefixToClear);

        // The exit statuses go in the header: a crash usually shows first as truncated stdout.
        AssertSameOutput("emulated stdout", "native stdout", native.Stdout, emulated.Stdout, emulated,
            $"exit status: native {native.ExitCode}, emulated {emulated.ExitCode}");
        if (emulated.ExitCode != native.ExitCode)
        {
            Assert.Fail($"Exit status differs: native {native.ExitCode}, emulated {emulated.ExitCode}.\n" +
                        $"{emulated}\n--- emulator stderr tail ---\n{emulated.StderrTail()}");
        }
        if (spec.CompareStderr)
            AssertSameOutput("emulated stderr", "native stderr", native.Stderr, emulated.Stderr, emulated);
    }

    /// <summary>
    /// Byte-exact comparison with a readable failure: the first differing line of each side,
    /// a few lines of context, and the tail of the emulator's stderr (where a fault or an
    /// unimplemented-instruction message would be).
    /// </summary>
    internal static void AssertSameOutput(string actualLabel, string expectedLabel, byte[] expected, byte[] actual,
        ProcessResult actualRun, string? note = null)
    {
        if (expected.AsSpan().SequenceEqual(actual))
            return;

        var expectedLines = SplitLines(expected);
        var actualLines = SplitLines(actual);
        var index = 0;
        while (index < expectedLines.Length && index < actualLines.Length && expectedLines[index] == actualLines[index])
            index++;

        var message = new StringBuilder();
        message.AppendLine($"{actualLabel} differs from {expectedLabel} " +
                           $"({actual.Length} vs {expected.Length} bytes), first at line {index + 1}" +
                           (note is null ? ":" : $"; {note}:"));
        message.AppendLine($"  {expectedLabel,-16}: {LineAt(expectedLines, index)}");
        message.AppendLine($"  {actualLabel,-16}: {LineAt(actualLines, index)}");
        message.AppendLine($"--- {expectedLabel} lines {Math.Max(1, index - 1)}..{index + 3} ---");
        AppendContext(message, expectedLines, index);
        message.AppendLine($"--- {actualLabel} lines {Math.Max(1, index - 1)}..{index + 3} ---");
        AppendContext(message, actualLines, index);
        message.AppendLine(actualRun.ToString());
        message.AppendLine("--- stderr tail ---");
        message.Append(actualRun.StderrTail());
        Assert.Fail(message.ToString());
    }

    /// <summary>A final newline leaves an empty last element, so a missing one shows up as a difference.</summary>
    private static string[] SplitLines(byte[] bytes) =>
        bytes.Length == 0 ? [] : Encoding.UTF8.GetString(bytes).Split('\n');

    private static string LineAt(string[] lines, int index) =>
        index < lines.Length ? Visible(lines[index]) : "<end of output>";

    private static void AppendContext(StringBuilder message, string[] lines, int index)
    {
        for (var i = Math.Max(0, index - 2); i < Math.Min(lines.Length, index + 3); i++)
            message.AppendLine($"{i + 1,6}{(i == index ? '>' : ' ')} {Visible(lines[i])}");
    }

    /// <summary>Makes control characters and overlong lines readable in a test report.</summary>
    private static string Visible(string line)
    {
        var shown = line.Length > 300 ? line[..300] + "…" : line;
        var builder = new StringBuilder(shown.Length);
        foreach (var c in shown)
        {
            if (c == '\r')
                builder.Append("\\r");
            else if (char.IsControl(c))
                builder.Append($"\\x{(int)c:x2}");
            else
                builder.Append(c);
        }
        return builder.ToString();
    }
}
