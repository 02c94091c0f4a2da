using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Xunit;

namespace LegoEmu.Tests.Differential;

/// <summary>Everything a finished (or killed) child process left behind.</summary>
public sealed record ProcessResult(
    string Description,
    int ExitCode,
    byte[] Stdout,
    byte[] Stderr,
    TimeSpan Elapsed,
    bool TimedOut)
{
    /// <summary>After a timeout: what the tree was doing before it was killed (see <see cref="HangReport"/>).</summary>
    public string Hang { get; init; } = "";

    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public string StderrText => Encoding.UTF8.GetString(Stderr);

    /// <summary>The end of stderr: where an emulator's fatal message or exception usually is.</summary>
    public string StderrTail(int maxLines = 40, int maxChars = 6000)
    {
        var lines = StderrText.Split('\n');
        var tail = string.Join('\n', lines.Skip(Math.Max(0, lines.Length - maxLines)));
        return tail.Length > maxChars ? "…" + tail[^maxChars..] : tail;
    }

    public override string ToString() =>
        $"{Description}: exit {ExitCode}{(TimedOut ? " (killed after timeout)" : "")}, " +
        $"{Stdout.Length} bytes stdout, {Stderr.Length} bytes stderr, {Elapsed.TotalSeconds:F2} s";
}

public static class ProcessRunner
{
    /// <summary>Ends a process a test started (SIGKILL to exactly it, unless it has exited) and waits up to 10 s for it.</summary>
    public static void KillStarted(System.Diagnostics.Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { }
    }

    /// <summary>
    /// How long to wait for stdout/stderr to reach EOF after the process itself exited.
    /// Only a leftover grandchild holding the pipes open can make this matter.
    /// </summary>
    private static readonly TimeSpan PipeDrainGrace = TimeSpan.FromSeconds(10);

    const int TextFileBusy = 26; // ETXTBSY

    /// <summary>
    /// Runs a program with stdin at EOF, capturing stdout and stderr as raw bytes.
    /// On timeout the whole process tree is killed and the result says so (TimedOut);
    /// callers decide whether that fails the test.
    /// </summary>
    /// <param name="environment">Variables to set (null value: remove) on top of this process's environment.</param>
    /// <param name="removeVariablePrefix">Inherited variables with this prefix are dropped first,
    /// so a guest that echoes them sees only what the test chose.</param>
    /// <param name="scaleTimeout">Stretch <paramref name="timeout"/> by the machine's load (<see cref="MachineLoad"/>); false when the caller did.</param>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? removeVariablePrefix = null,
        string? workingDirectory = null,
        bool scaleTimeout = true)
    {
        if (scaleTimeout) timeout = MachineLoad.Scale(timeout);
        var args = arguments.ToList();
        var description = Describe(fileName, args);
        var psi = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        if (removeVariablePrefix is not null)
        {
            foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith(removeVariablePrefix, StringComparison.Ordinal)).ToList())
                psi.Environment.Remove(key);
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                if (value is null)
                    psi.Environment.Remove(key);
                else
                    psi.Environment[key] = value;
            }
        }

        using var process = new Process { StartInfo = psi };
        var stopwatch = Stopwatch.StartNew();
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                process.Start();
                break;
            }
            // ETXTBSY: a program this test run has just written (the conformance batches) is still open for writing in
            // the copy of the descriptor table that a process being started on another thread got from its fork, until
            // that child's execve closes it. It passes in a moment.
            catch (Win32Exception e) when (e.NativeErrorCode == TextFileBusy && attempt < 50)
            {
                await Task.Delay(10 + 10 * attempt);
            }
            catch (Win32Exception e)
            {
                Assert.Fail($"Could not start {description}: {e.Message}");
                throw; // unreachable: Assert.Fail throws
            }
        }

        // A guest that reads stdin must see EOF rather than hang the test.
        process.StandardInput.Close();
        var stderrSoFar = new MemoryStream();
        var stdoutTask = DrainAsync(process.StandardOutput.BaseStream, new MemoryStream());
        var stderrTask = DrainAsync(process.StandardError.BaseStream, stderrSoFar);

        var timedOut = false;
        string hang = "";
        using (var cts = new CancellationTokenSource(timeout))
        {
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                hang = HangReport.Collect(process.Id);
                KillTree(process);
                await process.WaitForExitAsync();
            }
        }
        stopwatch.Stop();

        var drained = Task.WhenAll(stdoutTask, stderrTask);
        if (await Task.WhenAny(drained, Task.Delay(PipeDrainGrace)) != drained)
        {
            // What it said before it ended is often why (a hung child names itself there); the copy may be mid-write.
            string said;
            lock (stderrSoFar) said = System.Text.Encoding.UTF8.GetString(stderrSoFar.ToArray());
            Assert.Fail(
                $"{description} exited with {process.ExitCode} after {stopwatch.Elapsed.TotalSeconds:0.0} s, but its stdout/stderr stayed open for " +
                $"{PipeDrainGrace.TotalSeconds} s more: a child process it started is still alive and holds them.\n--- stderr so far ---\n" +
                (said.Length > 4000 ? said[^4000..] : said));
        }

        return new ProcessResult(description, process.ExitCode, stdoutTask.Result, stderrTask.Result,
            stopwatch.Elapsed, timedOut) { Hang = hang };
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited between the timeout firing and the kill: nothing left to do.
        }
    }

    private static async Task<byte[]> DrainAsync(Stream stream, MemoryStream buffer)
    {
        var chunk = new byte[16384];
        int n;
        while ((n = await stream.ReadAsync(chunk)) > 0)
            lock (buffer) buffer.Write(chunk, 0, n);
        lock (buffer) return buffer.ToArray();
    }

    /// <summary>A shell-like rendering of the command line, for failure messages.</summary>
    public static string Describe(string fileName, IEnumerable<string> args) =>
        string.Join(' ', new[] { fileName }.Concat(args).Select(Quote));

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:+,@%".Contains(c))
            ? s
            : "'" + s.Replace("'", "'\\''") + "'";
}
