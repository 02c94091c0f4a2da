using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;

namespace LegoEmu.Cluster.Regress;

/// <summary>An error preparing the built-in suite (no gcc, a failed compile, a failed generator run).</summary>
public sealed class SuitePreparationException(string message) : Exception(message);

/// <summary>
/// The built-in Phoenix-style suite: its C sources ship next to the executable (<c>phoenix/</c>). They are
/// compiled with <c>gcc -static -O2 -pthread</c> into the work directory, the inputs of the chosen size are
/// generated there once (kept until the generator changes), and <c>phoenix/suite.json</c> becomes the manifest.
/// </summary>
public static class PhoenixSuite
{
    public static readonly string[] Apps = ["word_count", "string_match", "reverse_index", "histogram", "kmeans", "linear_regression", "matrix_multiply", "pca"];
    public static readonly string[] Sizes = ["small", "medium", "large"];

    public static string SourceDirectory => Path.Combine(AppContext.BaseDirectory, "phoenix");

    public static Manifest Prepare(string size, string workDirectory, TextWriter progress)
    {
        string src = SourceDirectory;
        if (!File.Exists(Path.Combine(src, "suite.json")))
            throw new SuitePreparationException($"the Phoenix suite sources are missing: expected {Path.Combine(src, "suite.json")} next to the legoemu executable");
        string root = Path.Combine(workDirectory, "phoenix");
        string bin = Path.Combine(root, "bin");
        Directory.CreateDirectory(bin);
        using var exclusive = Lock(Path.Combine(root, ".lock"), progress);
        var runtime = new[] { Path.Combine(src, "runtime", "mapreduce.c"), Path.Combine(src, "runtime", "mapreduce.h") };
        foreach (var app in Apps)
            Build(Path.Combine(bin, app), [Path.Combine(src, "apps", app + ".c"), runtime[0]], [.. runtime], progress);
        string gen = Path.Combine(bin, "phoenix_gen");
        Build(gen, [Path.Combine(src, "gen", "phoenix_gen.c")], [], progress);

        string inputs = Path.Combine(root, "inputs", size);
        string stamp = Path.Combine(inputs, ".generated");
        // The generator's source hash names the input set: a changed generator regenerates, nothing else does.
        string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(src, "gen", "phoenix_gen.c"))));
        if (!File.Exists(stamp) || File.ReadAllText(stamp) != hash)
        {
            if (Directory.Exists(inputs)) Directory.Delete(inputs, recursive: true);
            Directory.CreateDirectory(inputs);
            progress.WriteLine($"regress: generating the {size} Phoenix inputs in {inputs}");
            Exec(gen, ["all", size, inputs], "phoenix_gen");
            File.WriteAllText(stamp, hash);
        }
        var manifest = ManifestLoader.Load(Path.Combine(src, "suite.json"), new Dictionary<string, string> { ["bin"] = bin, ["inputs"] = inputs });
        return manifest with { Name = $"{manifest.Name}-{size}" };
    }

    /// <summary>
    /// Two regress runs sharing a work directory (two CI jobs, a user and the tests) take turns building
    /// and generating; the lock is an flock, released when the process ends whatever the way.
    /// </summary>
    static FileStream Lock(string path, TextWriter progress)
    {
        bool told = false;
        var deadline = DateTime.UtcNow.AddHours(2);
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                if (!told) progress.WriteLine($"regress: waiting for another regress run to finish preparing {Path.GetDirectoryName(path)}");
                told = true;
                Thread.Sleep(250);
            }
        }
    }

    /// <summary>Compiles when the binary is missing or older than a source, make-style.</summary>
    static void Build(string output, string[] sources, string[] alsoDependsOn, TextWriter progress)
    {
        if (File.Exists(output))
        {
            var built = File.GetLastWriteTimeUtc(output);
            if (sources.Concat(alsoDependsOn).All(s => File.GetLastWriteTimeUtc(s) <= built)) return;
        }
        progress.WriteLine($"regress: gcc -static -O2 -pthread -o {output}");
        string tmp = $"{output}.tmp{Environment.ProcessId}";
        Exec("gcc", ["-static", "-O2", "-pthread", "-o", tmp, .. sources], "gcc");
        File.Move(tmp, output, overwrite: true);
    }

    static void Exec(string file, IEnumerable<string> args, string what)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var @out = p.StandardOutput.ReadToEndAsync();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new SuitePreparationException($"{what} failed (exit {p.ExitCode}): {string.Join(' ', psi.ArgumentList)}\n{err.Result}{@out.Result}");
        }
        catch (Win32Exception e)
        {
            throw new SuitePreparationException($"cannot run {file}: {e.Message}" +
                (what == "gcc" ? " (the Phoenix suite needs gcc and the static glibc: apt-get install gcc libc6-dev)" : ""));
        }
    }
}
