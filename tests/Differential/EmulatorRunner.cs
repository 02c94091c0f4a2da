using Xunit;

namespace LegoEmu.Tests.Differential;

/// <summary>
/// Launches the real <c>legoemu</c> executable as a child process, the way a user would,
/// so the tests cover argument parsing, exit statuses and stdout/stderr plumbing too.
/// The ProjectReference on cluster/ copies legoemu.dll and its runtimeconfig.json
/// into this test assembly's output directory; it is started with
/// <c>dotnet exec legoemu.dll</c>, which does not depend on the apphost finding a runtime.
/// </summary>
public static class EmulatorRunner
{
    /// <summary>Per-run limit on an idle machine; LEGOEMU_TEST_TIMEOUT (seconds) overrides it.</summary>
    public static readonly TimeSpan BaseRunTimeout = SecondsFromEnvironment("LEGOEMU_TEST_TIMEOUT", 120);

    /// <summary>Per-run limit now: <see cref="BaseRunTimeout"/> stretched by the machine's load (<see cref="MachineLoad"/>).</summary>
    public static TimeSpan RunTimeout => MachineLoad.Scale(BaseRunTimeout);

    /// <summary>
    /// Limit on the summed wall time of all emulator runs in one test run, so that an emulator
    /// that hangs on every guest fails the suite in minutes rather than hours of timeouts.
    /// LEGOEMU_TEST_BUDGET (seconds) overrides it.
    /// </summary>
    public static readonly TimeSpan TotalBudget = SecondsFromEnvironment("LEGOEMU_TEST_BUDGET", 1800);

    private static long _spentTicks;

    private static readonly Lazy<(string FileName, string[] Prefix)> Launcher = new(FindLauncher);

    /// <summary>How to start legoemu directly (host and leading arguments), for long-running verbs like memnode.</summary>
    public static (string FileName, string[] Prefix) Command => Launcher.Value;

    /// <summary>Runs <c>legoemu ARGS…</c>; a timeout fails the calling test.</summary>
    public static async Task<ProcessResult> RunAsync(
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? removeVariablePrefix = null)
    {
        var (fileName, prefix) = Launcher.Value;
        var remaining = MachineLoad.Scale(TotalBudget) - TimeSpan.FromTicks(Interlocked.Read(ref _spentTicks));
        if (remaining <= TimeSpan.Zero)
        {
            Assert.Fail($"Not run: emulator runs in this test run already took more than the total budget of " +
                        $"{TotalBudget.TotalSeconds} s (LEGOEMU_TEST_BUDGET); see the earlier timeouts.");
        }
        var runTimeout = RunTimeout;
        var timeout = remaining < runTimeout ? remaining : runTimeout;

        // Charged in finally so that failures (pipes held open by a leftover child) count too.
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        ProcessResult result;
        try
        {
            result = await ProcessRunner.RunAsync(fileName, prefix.Concat(arguments), timeout,
                environment, removeVariablePrefix, scaleTimeout: false);
        }
        finally
        {
            Interlocked.Add(ref _spentTicks, stopwatch.Elapsed.Ticks);
        }

        if (result.TimedOut)
        {
            Assert.Fail($"Timed out after {timeout.TotalSeconds:F0} s ({BaseRunTimeout.TotalSeconds:F0} s at load factor {MachineLoad.Factor:F1}) and killed: {result.Description}\n" +
                        $"stdout so far: {result.Stdout.Length} bytes\n" +
                        $"--- stderr tail ---\n{result.StderrTail()}\n" +
                        $"--- what it was doing ---\n{result.Hang}");
        }
        return result;
    }

    public static Task<ProcessResult> RunAsync(params string[] arguments) => RunAsync(arguments, null, null);

    /// <summary>Where the build copied legoemu.dll: this test assembly's output directory.</summary>
    public static string InstallDirectory => AppContext.BaseDirectory;

    private static (string, string[]) FindLauncher()
    {
        var dll = Path.Combine(InstallDirectory, "legoemu.dll");
        var runtimeConfig = Path.Combine(InstallDirectory, "legoemu.runtimeconfig.json");
        var apphost = Path.Combine(InstallDirectory, "legoemu");

        if (File.Exists(dll) && File.Exists(runtimeConfig))
            return (FindDotnetHost(), new[] { "exec", dll });
        if (File.Exists(apphost))
            return (apphost, Array.Empty<string>());

        Assert.Fail($"legoemu is not in the test output directory {InstallDirectory}: expected legoemu.dll with " +
                    "legoemu.runtimeconfig.json, or a legoemu apphost. Is cluster/LegoEmu.Cluster.csproj still " +
                    "referenced by the test project and building as an Exe?");
        throw new InvalidOperationException(); // unreachable: Assert.Fail throws
    }

    /// <summary>
    /// The dotnet host that runs this test, so the emulator runs on the same runtime:
    /// DOTNET_HOST_PATH (set by the dotnet CLI for its children), else this process
    /// itself when it is dotnet (testhost runs under "dotnet exec"), else PATH.
    /// </summary>
    public static string FindDotnetHost()
    {
        var fromVariable = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromVariable) && File.Exists(fromVariable))
            return fromVariable;

        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileName(self) == "dotnet")
            return self;

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length == 0)
                continue;
            var candidate = Path.Combine(dir, "dotnet");
            if (File.Exists(candidate))
                return candidate;
        }

        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet")))
            return Path.Combine(root, "dotnet");

        Assert.Fail("Cannot find the dotnet host to run legoemu.dll: DOTNET_HOST_PATH is unset and there is " +
                    "no dotnet on PATH or in DOTNET_ROOT.");
        throw new InvalidOperationException(); // unreachable: Assert.Fail throws
    }

    private static TimeSpan SecondsFromEnvironment(string name, double fallback)
    {
        var text = Environment.GetEnvironmentVariable(name);
        return double.TryParse(text, System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromSeconds(fallback);
    }
}
