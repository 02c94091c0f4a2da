using System.Diagnostics;

namespace LegoEmu.Cpu.Translate.CodeCache;

/// <summary>
/// Runs the ReadyToRun compiler the emulator itself was built with (its path is written next to the executable at
/// build time) over a saved assembly of regions, so later runs load their machine code instead of compiling it.
/// </summary>
static class Crossgen
{
    /// <summary>
    /// The compiler's path, or null (with the reason) when this installation has none: the one the build recorded
    /// next to the executable, else the NuGet package of this runtime's version that builds restore.
    /// </summary>
    public static string? Locate(out string? why)
    {
        why = null;
        string marker = Path.Combine(AppContext.BaseDirectory, "crossgen2.path");
        if (System.IO.File.Exists(marker) && System.IO.File.ReadAllText(marker).Trim() is { Length: > 0 } recorded && System.IO.File.Exists(recorded))
            return recorded;
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string package = Path.Combine(packages, "microsoft.netcore.app.crossgen2.linux-x64");
        string candidate = Path.Combine(package, Environment.Version.ToString(), "tools", "crossgen2");
        if (System.IO.File.Exists(candidate)) return candidate;
        // The SDK may have restored the compiler of another patch release of this runtime: it compiles for it as well.
        string? best = null;
        Version? bestVersion = null;
        if (Directory.Exists(package))
            foreach (var dir in Directory.EnumerateDirectories(package))
                if (Version.TryParse(Path.GetFileName(dir), out var v) && v.Major == Environment.Version.Major && v.Minor == Environment.Version.Minor
                    && (bestVersion == null || v > bestVersion) && System.IO.File.Exists(Path.Combine(dir, "tools", "crossgen2")))
                {
                    best = Path.Combine(dir, "tools", "crossgen2");
                    bestVersion = v;
                }
        if (best != null) return best;
        why = $"no ReadyToRun compiler: neither {marker} nor {candidate}";
        return null;
    }

    /// <summary>Compiles <paramref name="input"/> to <paramref name="output"/>; the error text when it failed.</summary>
    public static string? Compile(string compiler, string input, string output, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(compiler)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(input);
        psi.ArgumentList.Add("-o");
        psi.ArgumentList.Add(output);
        psi.ArgumentList.Add("-r");
        psi.ArgumentList.Add(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "*.dll"));
        psi.ArgumentList.Add("-r");
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "*.dll"));
        psi.ArgumentList.Add("--targetos:linux");
        psi.ArgumentList.Add("--targetarch:x64");
        psi.ArgumentList.Add("-O");
        // As the emulator's own image: the JIT would use these too, and code made for less is slower.
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Bmi2.IsSupported)
            psi.ArgumentList.Add("--instruction-set:x86-64-v3");
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {compiler}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
            return $"the ReadyToRun compiler took more than {timeout.TotalSeconds:F0} s";
        }
        if (p.ExitCode == 0 && System.IO.File.Exists(output)) return null;
        string text = (stderr.Result + stdout.Result).Trim();
        int nl = text.IndexOf('\n');
        return $"the ReadyToRun compiler failed (status {p.ExitCode}): {(nl < 0 ? text : text[..nl])}";
    }
}
