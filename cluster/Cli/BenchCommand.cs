using System.CommandLine;
using System.Globalization;
using LegoEmu.Cluster.Bench;

namespace LegoEmu.Cluster.Cli;

/// <summary><c>legoemu bench latency|sweep|compare</c>: figures measured in one run, for the README and for users.</summary>
public static class BenchCommand
{
    delegate bool NumberParser(string text, out double value);

    /// <summary>A comma-separated list of numbers; null after one line naming the first bad one (<paramref name="error"/> takes it as {0}).</summary>
    static List<double>? NumberList(string text, NumberParser parse, string error)
    {
        var list = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!parse(part, out double v))
            {
                Console.Error.WriteLine("legoemu bench: " + string.Format(System.Globalization.CultureInfo.InvariantCulture, error, LegoEmu.Mem.PrintableName.Escape(part)));
                return null;
            }
            list.Add(v);
        }
        return list;
    }

    public static Command Create()
    {
        var cmd = new Command("bench", "Measure LegoEmu: memory-node latency, ExCache size sweeps, speed against native and qemu-x86_64");

        var samples = new Option<int>("--samples") { Description = "Requests per measurement", DefaultValueFactory = _ => 20000 };
        var latency = new Command("latency", "Miss latency of a 4 KiB line: in-process, over a Unix socket, through a shared-memory ring, over TCP loopback with and without TLS, and with 2 copies (p50/p99)");
        latency.Options.Add(samples);
        latency.SetAction(pr => LatencyBench.Run(Math.Max(100, pr.GetValue(samples)), Console.Out));
        cmd.Subcommands.Add(latency);

        var fractions = new Option<string>("--fractions") { Description = "ExCache sizes as fractions of the measured footprint", DefaultValueFactory = _ => "12.5%,25%,50%,100%" };
        var nodes = new Option<int>("--nodes") { Description = "Memory-node processes to spawn", DefaultValueFactory = _ => 2 };
        var repeat = new Option<int>("--repeat") { Description = "Runs per point (the fastest counts)", DefaultValueFactory = _ => 1 };
        var program = new Argument<string[]>("PROGRAM [ARGS]") { Arity = ArgumentArity.OneOrMore, CaptureRemainingTokens = true };
        var links = new Option<string>("--link-latency") { Description = "The link latencies to sweep, in microseconds, comma-separated: the spawned memory nodes emulate each (0: the real link; e.g. 0,2,50 for local, RDMA-like and Ethernet-like)", DefaultValueFactory = _ => "0", HelpName = "MICROSECONDS,…" };
        var sweep = new Command("sweep", "Run a program over memory nodes with the ExCache at fractions of its footprint; print slowdown vs the embedded default");
        sweep.Options.Add(fractions);
        sweep.Options.Add(links);
        sweep.Options.Add(nodes);
        sweep.Options.Add(repeat);
        sweep.Arguments.Add(program);
        sweep.SetAction(pr =>
        {
            var argv = pr.GetValue(program)!;
            if (!File.Exists(argv[0])) { Console.Error.WriteLine($"legoemu bench: {argv[0]}: No such file or directory"); return 127; }
            if (NumberList(pr.GetValue(fractions)!, FractionParser.TryParse, "bad fraction '{0}'") is not { } list) return 2;
            if (NumberList(pr.GetValue(links)!, LinkArguments.TryLatency, "bad --link-latency '{0}': microseconds from 0 to 1000000") is not { } latencies) return 2;
            if (latencies.Count == 0) latencies.Add(0);
            return SweepBench.Run(argv[0], argv[1..], list.ToArray(), Math.Clamp(pr.GetValue(nodes), 1, 16), Math.Max(1, pr.GetValue(repeat)), Console.Out, latencies.ToArray());
        });
        cmd.Subcommands.Add(sweep);

        var programs = new Argument<string[]>("PROGRAMS") { Arity = ArgumentArity.OneOrMore };
        var repeatCmp = new Option<int>("--repeat") { Description = "Runs per program and runner (the fastest counts)", DefaultValueFactory = _ => 3 };
        var tiers = new Option<string>("--tiers") { Description = "The LegoEmu tiers to time, comma-separated: auto (hot code translated), interp (interpreter only)", DefaultValueFactory = _ => "auto", HelpName = "auto,interp" };
        var compare = new Command("compare", "Time programs natively, under LegoEmu and under qemu-x86_64 in one run; print ratios and guest instructions/s");
        compare.Arguments.Add(programs);
        compare.Options.Add(repeatCmp);
        compare.Options.Add(tiers);
        compare.SetAction(pr =>
        {
            var list = pr.GetValue(programs)!;
            foreach (var p in list)
                if (!File.Exists(p)) { Console.Error.WriteLine($"legoemu bench: {p}: No such file or directory"); return 127; }
            var tierList = pr.GetValue(tiers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var t in tierList)
                if (t is not ("auto" or "interp")) { Console.Error.WriteLine($"legoemu bench: bad --tiers entry '{t}': auto or interp"); return 2; }
            return CompareBench.Run(list, Math.Max(1, pr.GetValue(repeatCmp)), tierList, Console.Out);
        });
        cmd.Subcommands.Add(compare);

        var decodeProgram = new Argument<string>("PROGRAM");
        var decodeBytes = new Option<string>("--bytes") { Description = "How much of the executable segment to decode (K, M suffixes)", DefaultValueFactory = _ => "4M" };
        var decodeRepeat = new Option<int>("--repeat") { Description = "Passes (the fastest counts)", DefaultValueFactory = _ => 3 };
        var decode = new Command("decode", "Decoding cost per instruction: a program's code decoded into blocks through the ExCache (lines cold, then warm), and Iced alone");
        decode.Arguments.Add(decodeProgram);
        decode.Options.Add(decodeBytes);
        decode.Options.Add(decodeRepeat);
        decode.SetAction(pr =>
        {
            string path = pr.GetValue(decodeProgram)!;
            if (!SizeParser.TryParse(pr.GetValue(decodeBytes)!, out long size) || size <= 0)
            {
                Console.Error.WriteLine($"legoemu bench decode: bad size '{pr.GetValue(decodeBytes)}'");
                return 2;
            }
            return DecodeBench.Run(path, size, Math.Max(1, pr.GetValue(decodeRepeat)), Console.Out);
        });
        cmd.Subcommands.Add(decode);

        var line = new Argument<string[]>("PROGRAM [ARGS]") { Arity = ArgumentArity.ZeroOrMore, CaptureRemainingTokens = true };
        var repeatLine = new Option<int>("--repeat") { Description = "Runs per runner (the fastest counts)", DefaultValueFactory = _ => 3 };
        var spawns = new Option<int>("--spawns") { Description = "Without PROGRAM: posix_spawn+waitpid rounds of the spawn loop", DefaultValueFactory = _ => 50, HelpName = "N" };
        var shellLoop = new Option<int>("--shell-iterations") { Description = "Without PROGRAM: /bin/true runs of the shell loop", DefaultValueFactory = _ => 20, HelpName = "N" };
        var makeFiles = new Option<int>("--make-files") { Description = "Without PROGRAM: function files of the make project (plus main.c)", DefaultValueFactory = _ => 9, HelpName = "N" };
        var withCodeCache = new Option<bool>("--code-cache") { Description = "With PROGRAM: also time LegoEmu with a code cache that one untimed run filled (run --code-cache)" };
        var command = new Command("command", "Time one command line (e.g. python3 -c pass, gcc -o hello hello.c) natively, under LegoEmu and under qemu-x86_64; " +
            "without PROGRAM, what processes cost: a static hello's start, posix_spawn+waitpid of /bin/true, a shell loop, gcc hello and make -j2 of a small project");
        command.Arguments.Add(line);
        command.Options.Add(repeatLine);
        command.Options.Add(spawns);
        command.Options.Add(shellLoop);
        command.Options.Add(makeFiles);
        command.Options.Add(withCodeCache);
        command.SetAction(pr =>
        {
            var argv = pr.GetValue(line) ?? [];
            int repeat = Math.Max(1, pr.GetValue(repeatLine));
            if (argv.Length > 0) return CompareBench.RunCommandLine(argv, repeat, Console.Out, pr.GetValue(withCodeCache));
            return ProcessBench.Run(repeat, Math.Max(1, pr.GetValue(spawns)), Math.Max(1, pr.GetValue(shellLoop)), Math.Clamp(pr.GetValue(makeFiles), 1, 64), Console.Out);
        });
        cmd.Subcommands.Add(command);

        var traceProgram = new Argument<string[]>("PROGRAM [ARGS]") { Arity = ArgumentArity.OneOrMore, CaptureRemainingTokens = true };
        var traceRepeat = new Option<int>("--repeat") { Description = "Runs per level (the fastest counts)", DefaultValueFactory = _ => 3 };
        var traceCache = new Option<string>("--excache") { Description = "ExCache size for every run (a small one makes misses)", DefaultValueFactory = _ => "1M", HelpName = "SIZE" };
        var traceLine = new Option<string>("--line") { Description = "ExCache line size for every run", DefaultValueFactory = _ => "64", HelpName = "SIZE" };
        var traceSample = new Option<double>("--sample") { Description = "Sampling rate of the sampled accesses run", DefaultValueFactory = _ => 0.01, HelpName = "RATE" };
        var trace = new Command("trace", "Tracing overhead: slowdown at misses and at sampled and full accesses vs untraced, and trace bytes per million accesses");
        trace.Options.Add(traceRepeat);
        trace.Options.Add(traceCache);
        trace.Options.Add(traceLine);
        trace.Options.Add(traceSample);
        trace.Arguments.Add(traceProgram);
        trace.SetAction(pr =>
        {
            var argv = pr.GetValue(traceProgram)!;
            if (!File.Exists(argv[0])) { Console.Error.WriteLine($"legoemu bench: {argv[0]}: No such file or directory"); return 127; }
            double rate = pr.GetValue(traceSample);
            if (!(rate > 0 && rate <= 1)) { Console.Error.WriteLine("legoemu bench: --sample must be in (0, 1]"); return 2; }
            string[] cache = ["--excache", pr.GetValue(traceCache)!, "--line", pr.GetValue(traceLine)!];
            return TraceBench.Run(argv[0], argv[1..], cache, rate, Math.Max(1, pr.GetValue(traceRepeat)), Console.Out);
        });
        cmd.Subcommands.Add(trace);
        cmd.Subcommands.Add(CachegrindCommand());

        var splitRepeat = new Option<int>("--repeat") { Description = "Runs per configuration (the fastest counts)", DefaultValueFactory = _ => 3 };
        var cpuRounds = new Option<long>("--cpu-rounds") { Description = "Loop rounds per thread of the CPU-bound guest", DefaultValueFactory = _ => 60_000_000 };
        var shareRounds = new Option<long>("--share-rounds") { Description = "Increments per thread of the false-sharing guest", DefaultValueFactory = _ => 10_000_000 };
        var cpuProgram = new Argument<string>("CPU-GUEST") { Description = "tests/bench/splitcpu.c built static: ROUNDS THREADS" };
        var shareProgram = new Argument<string>("SHARING-GUEST") { Description = "tests/bench/falseshare.c built static: shared|padded ROUNDS" };
        var split = new Command("split", "Threads over processor components: speedup of a 2-thread CPU-bound guest on 2 components vs 1, and false sharing vs padded data with its coherence traffic");
        split.Options.Add(splitRepeat);
        split.Options.Add(cpuRounds);
        split.Options.Add(shareRounds);
        split.Arguments.Add(cpuProgram);
        split.Arguments.Add(shareProgram);
        split.SetAction(pr =>
        {
            foreach (var p in new[] { pr.GetValue(cpuProgram)!, pr.GetValue(shareProgram)! })
                if (!File.Exists(p)) { Console.Error.WriteLine($"legoemu bench: {p}: No such file or directory"); return 127; }
            return SplitBench.Run(pr.GetValue(cpuProgram)!, pr.GetValue(shareProgram)!, Math.Max(1, pr.GetValue(cpuRounds)),
                Math.Max(1, pr.GetValue(shareRounds)), Math.Max(1, pr.GetValue(splitRepeat)), Console.Out);
        });
        cmd.Subcommands.Add(split);
        return cmd;
    }

    static Command CachegrindCommand()
    {
        var program = new Argument<string[]>("PROGRAM [ARGS]") { Arity = ArgumentArity.OneOrMore, CaptureRemainingTokens = true };
        var size = new Option<string>("--excache") { Description = "ExCache size, and cachegrind's first-level data cache size", DefaultValueFactory = _ => "32K", HelpName = "SIZE" };
        var ways = new Option<int>("--ways") { Description = "Associativity of both", DefaultValueFactory = _ => 8 };
        var line = new Option<int>("--line") { Description = "Line size of both, in bytes", DefaultValueFactory = _ => 64 };
        var top = new Option<int>("--top") { Description = "Functions listed", DefaultValueFactory = _ => 10 };
        var keep = new Option<string?>("--keep") { Description = "Keep cachegrind's output, the profile and the statistics in DIR", HelpName = "DIR" };
        var footprint = new Option<bool>("--footprint") { Description = "Also compare the data footprint: valgrind's lackey against a LegoEmu accesses trace (slow: lackey prints every access)" };
        var cmd = new Command("cachegrind", "Run a command under valgrind's cachegrind and under LegoEmu with the same cache geometry; compare instructions, " +
            "data references and misses in total and per function, and the functions' ranking");
        cmd.Arguments.Add(program);
        cmd.Options.Add(size);
        cmd.Options.Add(ways);
        cmd.Options.Add(line);
        cmd.Options.Add(top);
        cmd.Options.Add(keep);
        cmd.Options.Add(footprint);
        cmd.SetAction(pr =>
        {
            var argv = pr.GetValue(program)!;
            if (!SizeParser.TryParse(pr.GetValue(size)!, out long bytes)) { Console.Error.WriteLine($"legoemu bench: bad --excache '{pr.GetValue(size)}'"); return 2; }
            int w = pr.GetValue(ways), l = pr.GetValue(line);
            if (w < 1 || l < 16 || (l & (l - 1)) != 0 || bytes % ((long)w * l) != 0 || !long.IsPow2(bytes / ((long)w * l)))
            {
                Console.Error.WriteLine("legoemu bench: cachegrind needs a power-of-two line of 16 bytes or more and a power-of-two number of sets (size / ways / line)");
                return 2;
            }
            return CachegrindBench.Run(argv[0], argv[1..], bytes, w, l, Math.Max(1, pr.GetValue(top)), pr.GetValue(keep), pr.GetValue(footprint), Console.Out);
        });
        return cmd;
    }
}
