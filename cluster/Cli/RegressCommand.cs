using System.CommandLine;
using System.Globalization;
using LegoEmu.Cluster.Regress;

namespace LegoEmu.Cluster.Cli;

/// <summary><c>legoemu regress</c>: runs a suite natively and under LegoEmu, compares, prints a table, writes JUnit XML.</summary>
public static class RegressCommand
{
    public static Command Create()
    {
        var suite = new Option<string?>("--suite") { Description = "Built-in suite to run: phoenix (its C sources ship with legoemu and are built with gcc)", HelpName = "phoenix" };
        var manifest = new Option<string?>("--manifest") { Description = "JSON manifest of any other suite: cases with command, env, working files, outputs and an output filter", HelpName = "FILE" };
        var size = new Option<string>("--size") { Description = "Input size of the phoenix suite", DefaultValueFactory = _ => "small", HelpName = "small|medium|large" };
        size.AcceptOnlyFromAmong(PhoenixSuite.Sizes);
        var config = new Option<string>("--config") { Description = "Comma-separated configurations: embedded (in-process memory), remote (memory nodes, ExCache at --remote-excache of the footprint), split (2 processor components over the memory nodes, ExCache as for remote)", DefaultValueFactory = _ => "embedded", HelpName = "embedded|remote|split" };
        var nodes = new Option<int>("--nodes") { Description = "Memory-node processes for remote and sweep runs", DefaultValueFactory = _ => 2, HelpName = "N" };
        var remoteExcache = new Option<string>("--remote-excache") { Description = "ExCache size of the remote configuration, as a fraction of the measured footprint", DefaultValueFactory = _ => "25%", HelpName = "FRACTION" };
        var sweep = new Option<string?>("--sweep-excache") { Description = "Instead of --config: run each case over memory nodes with the ExCache at these fractions of its footprint and print slowdown vs the all-local run", HelpName = "12.5%,25%,50%,100%" };
        var sweepPrefetch = new Option<string>("--sweep-prefetch") { Description = "With --sweep-excache: the miss paths each fraction runs with: off (no prefetch, write-backs combined with their fill, as LegoOS), on (the default stride prefetch and queued write-backs), or both", DefaultValueFactory = _ => "off,on", HelpName = "off,on|off|on" };
        sweepPrefetch.AcceptOnlyFromAmong("off,on", "on,off", "off", "on");
        var repeat = new Option<int>("--repeat") { Description = "Run every native and emulated run N times and keep the fastest (all are compared)", DefaultValueFactory = _ => 1, HelpName = "N" };
        var cases = new Option<string?>("--cases") { Description = "Run only these cases (comma-separated names)", HelpName = "NAMES" };
        var junit = new Option<string?>("--junit") { Description = "Write the results as JUnit XML to FILE", HelpName = "FILE" };
        var work = new Option<string?>("--work") { Description = "Directory for built binaries, generated inputs and scratch space (default: $XDG_CACHE_HOME/legoemu/regress or ~/.cache/legoemu/regress)", HelpName = "DIR" };

        var cmd = new Command("regress", "Run a regression suite natively and under LegoEmu, compare the outputs, print a table (time, slowdown, ExCache miss ratio)\n\n" +
            "Examples:\n  legoemu regress --suite phoenix --size small --config embedded,remote --junit results.xml\n" +
            "  legoemu regress --suite phoenix --size medium --sweep-excache 12.5%,25%,50%,100%\n  legoemu regress --manifest mysuite.json");
        foreach (var o in new Option[] { suite, manifest, size, config, nodes, remoteExcache, sweep, sweepPrefetch, repeat, cases, junit, work }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            string? suiteName = pr.GetValue(suite), manifestPath = pr.GetValue(manifest);
            if ((suiteName == null) == (manifestPath == null)) return Fail("give exactly one of --suite phoenix and --manifest FILE");
            if (suiteName != null && suiteName != "phoenix") return Fail($"unknown --suite '{suiteName}' (the built-in suite is phoenix; use --manifest for others)");
            if (!RegressConfigs.TryParse(pr.GetValue(config)!, out var configs, out string err)) return Fail(err);
            int n = pr.GetValue(nodes);
            if (n < 1 || n > 64) return Fail("--nodes must be between 1 and 64");
            if (!TryFraction(pr.GetValue(remoteExcache)!, out double remoteFraction)) return Fail($"bad --remote-excache '{pr.GetValue(remoteExcache)}' (e.g. 25%)");
            List<double>? fractions = null;
            if (pr.GetValue(sweep) is { } sweepText)
            {
                fractions = [];
                foreach (var part in sweepText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!TryFraction(part, out double f)) return Fail($"bad --sweep-excache fraction '{part}' (e.g. 12.5%,25%,50%,100%)");
                    fractions.Add(f);
                }
                if (fractions.Count == 0) return Fail("--sweep-excache needs at least one fraction");
            }
            int rep = pr.GetValue(repeat);
            if (rep < 1 || rep > 100) return Fail("--repeat must be between 1 and 100");
            string workDir = Path.GetFullPath(pr.GetValue(work) ?? DefaultWorkDirectory());
            return Run(suiteName, manifestPath, pr.GetValue(size)!, new RegressSettings(configs, n, remoteFraction, fractions, "", rep)
            {
                SweepPrefetch = pr.GetValue(sweepPrefetch) switch { "off" => [false], "on" => [true], _ => [false, true] },
            }, pr.GetValue(cases), pr.GetValue(junit), workDir);
        });
        return cmd;
    }

    static int Run(string? suite, string? manifestPath, string size, RegressSettings settings, string? caseFilter, string? junit, string workDir)
    {
        Manifest m;
        try
        {
            Directory.CreateDirectory(workDir);
            m = suite != null ? PhoenixSuite.Prepare(size, workDir, Console.Error) : ManifestLoader.Load(manifestPath!);
        }
        catch (ManifestException e) { return Fail(e.Message); }
        catch (SuitePreparationException e) { return Fail(e.Message); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Fail(e.Message); }
        if (caseFilter != null)
        {
            var wanted = caseFilter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            var unknown = wanted.Where(w => m.Cases.All(c => c.Name != w)).ToList();
            if (unknown.Count > 0) return Fail($"no case named {string.Join(", ", unknown)} in {m.Name} (cases: {string.Join(", ", m.Cases.Select(c => c.Name))})");
            m = m with { Cases = m.Cases.Where(c => wanted.Contains(c.Name)).ToList() };
        }

        string scratch = Path.Combine(workDir, $"scratch-{Environment.ProcessId}");
        Directory.CreateDirectory(scratch);
        var runner = new RegressRunner(settings with { ScratchDirectory = scratch }, Console.Error);
        try { runner.Run(m); }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }

        Console.Out.WriteLine();
        ResultTable.Print(Console.Out, m.Name, runner.Results);
        ResultTable.PrintSweep(Console.Out, runner.Sweep, settings.Nodes);
        if (junit != null)
        {
            try { JUnitWriter.Write(junit, m.Name, runner.Results); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Fail($"cannot write --junit {junit}: {e.Message}"); }
        }
        return runner.Results.All(r => r.Verdict == Verdict.Pass) ? 0 : 1;
    }

    static string DefaultWorkDirectory()
    {
        string? cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(cache)) cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "legoemu", "regress");
    }

    // A "fraction" above 1 is allowed (a cache larger than the footprint), not absurd ones.
    static bool TryFraction(string text, out double value) => FractionParser.TryParse(text, out value) && value <= 64;

    static int Fail(string message)
    {
        Console.Error.WriteLine($"legoemu: {message}");
        return 2;
    }
}
