using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using LegoEmu.Cluster.Nodes;

namespace LegoEmu.Cluster.Bench;

/// <summary>
/// How exact the ExCache and <c>run --profile</c> are, checked against valgrind's cachegrind as a new user
/// would: the same command runs natively under cachegrind, whose first-level data cache is given the ExCache's
/// geometry (size, ways, line; LRU), and under LegoEmu with that ExCache and a profile. Instructions, data
/// references and misses are compared in total and per function, and the functions ranked by instructions.
/// glibc's string functions are pinned to the same variants in both runs (its AVX, SSSE3 and ERMS forms off).
/// </summary>
public static class CachegrindBench
{
    /// <summary>The tunables that make glibc choose the same memcpy, memset and strlen natively and emulated.</summary>
    public const string SameLibc = "glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX_Fast_Unaligned_Load,-ERMS,-FSRM,-SSSE3";

    /// <summary>What both runs measured, for the table and for tests.</summary>
    public sealed record Result(ProfileFunctions Cachegrind, ProfileFunctions Profile, long Instructions, long Accesses, long Misses, bool SameOutput, int ExitCode)
    {
        /// <summary>With <c>--footprint</c>: the distinct data lines lackey saw, and those of LegoEmu's trace (<c>--data-only</c>).</summary>
        public (long Lackey, long Trace)? Footprint { get; init; }

        /// <summary>The ExCache's misses less those of instruction fetches, which cachegrind counts in its I1 cache, not D1.</summary>
        public long DataMisses => Misses - Profile.Total("Fmiss");

        /// <summary>A function's misses less its instruction fetches'.</summary>
        public long FunctionDataMisses(string fn) => Profile.Cost(fn, "Miss") - Profile.Cost(fn, "Fmiss");
    }

    public static int Run(string program, string[] args, long size, int ways, int line, int top, string? keep, bool footprint, TextWriter w)
    {
        string dir = keep ?? Path.Combine(Path.GetTempPath(), $"legoemu-cachegrind-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            w.WriteLine($"legoemu bench cachegrind: {program} {string.Join(' ', args)}");
            w.WriteLine($"cachegrind's D1 and the ExCache: {Size(size)}, {ways} ways, {line}-byte lines, LRU");
            var r = Measure(program, args, size, ways, line, dir, out string? error);
            if (r != null && footprint)
            {
                var lines = Footprint(program, args, size, ways, line, dir, out error);
                r = lines == null ? null : r with { Footprint = lines };
            }
            if (r == null)
            {
                w.WriteLine($"legoemu bench: {error}");
                return 1;
            }
            Print(r, top, w);
            if (keep != null) w.WriteLine($"\nfiles kept in {dir}: cachegrind.out, profile.callgrind, stats.json{(footprint ? ", data.trace" : "")}");
            return 0;
        }
        finally
        {
            if (keep == null) try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Runs both; null (with <paramref name="error"/>) when valgrind is missing or either run failed to start or finish.</summary>
    public static Result? Measure(string program, string[] args, long size, int ways, int line, string dir, out string? error)
    {
        error = null;
        string geometry = string.Create(CultureInfo.InvariantCulture, $"{size},{ways},{line}");
        // The last level is only a filter behind the first; any valid larger cache does.
        long last = Math.Max(8L << 20, size * 4);
        string cgOut = Path.Combine(dir, "cachegrind.out"), profile = Path.Combine(dir, "profile.callgrind"), stats = Path.Combine(dir, "stats.json");
        var vg = Start("valgrind", ["--tool=cachegrind", "--cache-sim=yes", "--demangle=no", $"--I1={geometry}", $"--D1={geometry}",
            string.Create(CultureInfo.InvariantCulture, $"--LL={last},16,{line}"), $"--cachegrind-out-file={cgOut}", program, .. args]);
        if (vg.Error != null) { error = $"valgrind: {vg.Error} (valgrind's package installs it)"; return null; }
        if (!File.Exists(cgOut)) { error = $"cachegrind wrote no profile (exit {vg.ExitCode}):\n{vg.Stderr}"; return null; }
        var (self, prefix) = SelfProcess.Command();
        var le = Start(self, [.. prefix, "run", "--profile", profile, "--stats-json", stats, "--excache", size.ToString(CultureInfo.InvariantCulture),
            "--ways", ways.ToString(CultureInfo.InvariantCulture), "--line", line.ToString(CultureInfo.InvariantCulture), "--policy", "lru", program, .. args]);
        if (le.Error != null || !File.Exists(profile) || !File.Exists(stats))
        {
            error = $"legoemu run wrote no profile (exit {le.ExitCode}):\n{le.Error ?? le.Stderr}";
            return null;
        }
        return Load(dir, vg.StdoutHash == le.StdoutHash && vg.ExitCode == le.ExitCode, le.ExitCode);
    }

    /// <summary>
    /// The data footprint in lines: lackey's (streamed, see <see cref="LackeyFootprint"/>) and that of a LegoEmu
    /// <c>accesses</c> trace reported with <c>--data-only</c> (the guest's own loads and stores).
    /// </summary>
    public static (long Lackey, long Trace)? Footprint(string program, string[] args, long size, int ways, int line, string dir, out string? error)
    {
        var env = new Dictionary<string, string>();
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") == null) env["GLIBC_TUNABLES"] = SameLibc;
        if (LackeyFootprint.Measure(program, args, line, env, out error) is not long lackey) return null;
        string trace = Path.Combine(dir, "data.trace");
        var (self, prefix) = SelfProcess.Command();
        var run = Start(self, [.. prefix, "run", "--trace", trace, "--trace-level", "accesses", "--excache", size.ToString(CultureInfo.InvariantCulture),
            "--ways", ways.ToString(CultureInfo.InvariantCulture), "--line", line.ToString(CultureInfo.InvariantCulture), "--policy", "lru", program, .. args]);
        if (run.Error != null || !File.Exists(trace)) { error = $"legoemu run --trace wrote no trace (exit {run.ExitCode}):\n{run.Error ?? run.Stderr}"; return null; }
        var report = Start(self, [.. prefix, "trace", "report", trace, "--json", "--data-only"], keepOutput: true);
        if (report.ExitCode != 0) { error = $"legoemu trace report failed (exit {report.ExitCode}):\n{report.Stderr}"; return null; }
        long lines = JsonDocument.Parse(report.Stdout!).RootElement.GetProperty("footprintLines").GetInt64();
        return (lackey, lines);
    }

    /// <summary>The figures of two runs whose files are in <paramref name="dir"/> (as <c>--keep DIR</c> leaves them).</summary>
    public static Result Load(string dir, bool sameOutput, int exitCode)
    {
        var j = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "stats.json"))).RootElement;
        var ours = ProfileFunctions.Read(Path.Combine(dir, "profile.callgrind"));
        var rename = SameNames(ours.Objects);
        return new Result(ProfileFunctions.Read(Path.Combine(dir, "cachegrind.out")).Renamed(rename), ours.Renamed(rename), j.GetProperty("instructions").GetInt64(),
            j.GetProperty("accesses").GetInt64(), j.GetProperty("misses").GetInt64(), sameOutput, exitCode);
    }

    /// <summary>
    /// One name per function for both profiles: without a symbol version (<c>memcpy@GLIBC_2.2.5</c>), and of
    /// several names for one address in the profile's objects, the one their symbol lookups prefer.
    /// </summary>
    static Func<string, string> SameNames(IEnumerable<string> objects)
    {
        var preferred = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var ob in objects)
            foreach (var (alias, name) in Trace.CodeSymbols.PreferredNames(ob)) preferred.TryAdd(Bare(alias), Bare(name));
        return fn => preferred.GetValueOrDefault(Bare(fn), Bare(fn));
    }

    static string Bare(string fn) => fn.IndexOf('@') is int at and > 0 ? fn[..at] : fn;

    public static void Print(Result r, int top, TextWriter w)
    {
        var cg = r.Cachegrind;
        w.WriteLine($"outputs and exit statuses: {(r.SameOutput ? "equal" : "DIFFERENT")} (exit {r.ExitCode})");
        w.WriteLine();
        w.WriteLine("| total | cachegrind | legoemu | difference |");
        w.WriteLine("|---|---|---|---|");
        Row(w, "instructions (Ir)", cg.Total("Ir"), r.Instructions);
        Row(w, "data references (Dr+Dw; accesses)", cg.Total("Dr") + cg.Total("Dw"), r.Accesses);
        Row(w, "data misses (D1mr+D1mw; ExCache misses but instruction fetches')", cg.Total("D1mr") + cg.Total("D1mw"), r.DataMisses);
        if (r.Footprint is var (lackey, traced)) Row(w, $"data footprint in lines (lackey's loads and stores; trace report --data-only)", lackey, traced);
        w.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| instruction-fetch misses (I1mr, every fetch; ExCache, at decode only) | {cg.Total("I1mr"):N0} | {r.Profile.Total("Fmiss"):N0} | |"));
        w.WriteLine();
        var theirs = cg.Ranking("Ir");
        var ours = r.Profile.Ranking("Ir");
        w.WriteLine($"The top {Math.Min(top, theirs.Count)} named functions by cachegrind's instructions (unnamed code: cachegrind {Percent(cg.Cost(ProfileFunctions.Unknown, "Ir"), cg.Total("Ir"))}, legoemu {Percent(r.Profile.Cost(ProfileFunctions.Unknown, "Ir"), r.Instructions)} of Ir):");
        w.WriteLine();
        w.WriteLine("| rank (cachegrind, legoemu) | function | Ir cachegrind | Ir legoemu | difference | misses cachegrind | misses legoemu | difference |");
        w.WriteLine("|---|---|---|---|---|---|---|---|");
        for (int i = 0; i < theirs.Count && i < top; i++)
        {
            string fn = theirs[i];
            int rank = ours.IndexOf(fn);
            long irC = cg.Cost(fn, "Ir"), irL = r.Profile.Cost(fn, "Ir");
            long mC = cg.Cost(fn, "D1mr", "D1mw"), mL = r.FunctionDataMisses(fn);
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {i + 1}, {(rank < 0 ? "-" : (rank + 1).ToString(CultureInfo.InvariantCulture))} | {fn} | {irC:N0} | {irL:N0} | {Diff(irL, irC)} | {mC:N0} | {mL:N0} | {Diff(mL, mC)} |"));
        }
    }

    static void Row(TextWriter w, string what, long theirs, long ours) =>
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {what} | {theirs:N0} | {ours:N0} | {Diff(ours, theirs)} |"));

    /// <summary>(ours - theirs) / theirs as a signed percentage.</summary>
    public static string Diff(long ours, long theirs) =>
        theirs == 0 ? (ours == 0 ? "0" : "n/a") : string.Create(CultureInfo.InvariantCulture, $"{100.0 * (ours - theirs) / theirs:+0.00;-0.00;0.00} %");

    static string Percent(long part, long whole) => whole == 0 ? "0 %" : string.Create(CultureInfo.InvariantCulture, $"{100.0 * part / whole:F1} %");

    static string Size(long bytes) => bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB" : bytes % 1024 == 0 ? $"{bytes >> 10} KiB" : $"{bytes} bytes";

    sealed record Outcome(int ExitCode, string StdoutHash, string Stderr, string? Error, string? Stdout = null);

    /// <summary>Runs a command with stdin empty; its output is kept only as a hash (it may be large) unless <paramref name="keepOutput"/>.</summary>
    static Outcome Start(string file, string[] arguments, bool keepOutput = false)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") == null) psi.Environment["GLIBC_TUNABLES"] = SameLibc;
        Process p;
        try { p = Process.Start(psi) ?? throw new System.ComponentModel.Win32Exception("not started"); }
        catch (System.ComponentModel.Win32Exception e) { return new Outcome(-1, "", "", e.Message); }
        using (p)
        {
            p.StandardInput.Close();
            var err = p.StandardError.ReadToEndAsync();
            if (keepOutput)
            {
                string text = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                return new Outcome(p.ExitCode, "", err.Result, null, text);
            }
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            int n;
            while ((n = p.StandardOutput.BaseStream.Read(buffer, 0, buffer.Length)) > 0) hash.AppendData(buffer, 0, n);
            p.WaitForExit();
            return new Outcome(p.ExitCode, Convert.ToHexString(hash.GetHashAndReset()), err.Result, null);
        }
    }
}
