using System.Diagnostics;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// Builds the trace guests (tests/traceguests/*.c): deterministic access patterns over a region at
/// a fixed address, whose footprints and miss ratios are known by construction.
/// </summary>
public sealed class TraceGuests
{
    public static readonly string SourceDirectory = Path.Combine(AppContext.BaseDirectory, "traceguests");
    static readonly string OutputDirectory = Path.Combine(SourceDirectory, "bin");
    readonly Dictionary<string, string> _built = new();
    readonly Dictionary<string, string> _errors = new();

    public TraceGuests()
    {
        Directory.CreateDirectory(OutputDirectory);
        foreach (var name in new[] { "scan", "stride", "uniform", "hotcold", "wide", "hotfn", "oracle", "calls" })
        {
            string output = Path.Combine(OutputDirectory, name);
            var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "-static", "-O2", "-g", "-o", output, Path.Combine(SourceDirectory, name + ".c") }) psi.ArgumentList.Add(a);
            try
            {
                using var gcc = Process.Start(psi)!;
                string err = gcc.StandardError.ReadToEnd();
                gcc.WaitForExit();
                if (gcc.ExitCode == 0) _built[name] = output;
                else _errors[name] = $"gcc failed for {name}.c: {err}";
            }
            catch (System.ComponentModel.Win32Exception e) { _errors[name] = $"gcc could not be started: {e.Message}"; }
        }
    }

    public string Binary(string name)
    {
        if (_built.TryGetValue(name, out var path)) return path;
        Assert.Fail(_errors.GetValueOrDefault(name, $"no trace guest {name}"));
        return "";
    }

    /// <summary>Runs the guest natively; its stdout is what every emulated run must print too.</summary>
    public static async Task<string> NativeAsync(string binary, params string[] args)
    {
        var r = await ProcessRunner.RunAsync(binary, args, TimeSpan.FromSeconds(60), null, null);
        Assert.Equal(0, r.ExitCode);
        return r.StdoutText;
    }
}
