using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Processes;

/// <summary>
/// Processor components outlive their guest processes and run the next child of the same parent. A shell loop
/// that reuses them must print what it prints natively, and when the run is over no component may be left,
/// including those of children that exited and were never reaped (the shell becomes sleep, which never waits).
/// </summary>
public sealed class ComponentReuseTests
{
    const string Script = """
        i=0
        while [ $i -lt 12 ]; do
          out=$(echo "round $i")
          /bin/true
          ( exit $((i % 5)) ); st=$?
          echo "$out status $st"
          i=$((i + 1))
        done
        ( exit 7 ) & wait $!; echo "background status $?"
        cat /dev/null | ( read x; echo "pipe read status $?" )
        ( exit 5 ) &
        exec /bin/sleep 0.1
        """;

    [Fact]
    public async Task ShellLoopMatchesNativeAndLeavesNoComponent()
    {
        string mark = $"legoemu-reuse-{Guid.NewGuid():N}";
        var env = new Dictionary<string, string?> { ["LEGOEMU_TEST_MARK"] = mark };
        var native = await ProcessRunner.RunAsync("/bin/sh", ["-c", Script], TimeSpan.FromSeconds(60), env);
        Assert.True(native.ExitCode == 0 && native.StdoutText.Length > 0, $"the native run failed: {native.StderrTail()}");
        var emulated = await EmulatorRunner.RunAsync(["run", "/bin/sh", "-c", Script], env);
        Assert.True(emulated.ExitCode == 0, $"exit status {emulated.ExitCode}\n{emulated.StderrTail()}");
        Assert.Equal(native.StdoutText, emulated.StdoutText);
        // Components end with the run; allow the kernel a moment to take them away.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(Math.Max(5, EmulatorRunner.RunTimeout.TotalSeconds / 10));
        List<int> left;
        while ((left = ProcessesMarked(mark)).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(left.Count == 0, $"processes of the run are still there: {string.Join(", ", left.Select(Describe))}");
    }

    /// <summary>This user's processes whose environment holds the mark.</summary>
    static List<int> ProcessesMarked(string mark)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                if (System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, "environ"))).Contains(mark, StringComparison.Ordinal))
                    found.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return found;
    }

    static string Describe(int pid)
    {
        try { return $"{pid} ({File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim()})"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return pid.ToString(); }
    }
}
