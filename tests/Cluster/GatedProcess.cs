using System.Diagnostics;
using System.Text;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cluster;

/// <summary>
/// A process a test drives line by line: the guest says where it is on stdout and waits for a line on stdin, so the
/// test can look at the cluster (or kill a node) at that point. Disposal kills exactly this process if it still runs.
/// </summary>
public sealed class GatedProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _stdout = new();
    readonly StringBuilder _stderr = new();

    public GatedProcess(string file, IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
    }

    /// <summary><c>legoemu ARGS…</c>.</summary>
    public static GatedProcess Emulator(params string[] arguments)
    {
        var (file, prefix) = EmulatorRunner.Command;
        return new GatedProcess(file, prefix.Concat(arguments));
    }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }
    public string Stdout => _stdout.ToString();

    /// <summary>Reads stdout up to and including the line <paramref name="gate"/> (the lines before it are kept for the comparison).</summary>
    public async Task WaitForAsync(string gate)
    {
        while (true)
        {
            var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(EmulatorRunner.RunTimeout);
            Assert.True(line != null, $"stdout ended before '{gate}'; stdout: {Stdout}; stderr: {Stderr}");
            _stdout.Append(line).Append('\n');
            if (line == gate) return;
        }
    }

    public void Continue()
    {
        _process.StandardInput.WriteLine();
        _process.StandardInput.Flush();
    }

    /// <summary>The rest of stdout and the exit status.</summary>
    public async Task<(string Stdout, int Status)> FinishAsync()
    {
        _process.StandardInput.Close();
        string rest = await _process.StandardOutput.ReadToEndAsync().WaitAsync(EmulatorRunner.RunTimeout);
        _stdout.Append(rest);
        await _process.WaitForExitAsync().WaitAsync(EmulatorRunner.RunTimeout);
        return (Stdout, _process.ExitCode);
    }

    /// <summary>The exit status, with stdin left open (the guest may be waiting at a gate); null if it still runs after <paramref name="within"/>.</summary>
    public async Task<int?> ExitedAsync(TimeSpan within)
    {
        try { await _process.WaitForExitAsync().WaitAsync(within); }
        catch (TimeoutException) { return null; }
        return _process.ExitCode;
    }

    public void Dispose()
    {
        ProcessRunner.KillStarted(_process);
        _process.Dispose();
    }
}
