using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using LegoEmu.Cluster.Nodes;

namespace LegoEmu.Cluster.Bench;

/// <summary>
/// What processes cost: the start of a static hello, posix_spawn+waitpid of /bin/true from a guest, a shell
/// loop of /bin/true, creating and joining 10 000 threads, gcc compiling hello world and make -j2 of a small multi-file project, natively, under
/// LegoEmu and under qemu-x86_64, measured in one run. The sources ship next to the executable (<c>bench/</c>).
/// </summary>
public static partial class ProcessBench
{
    [GeneratedRegex(@"([0-9.]+) us per spawn\+wait")] private static partial Regex PerSpawnRe();

    public static string SourceDirectory => Path.Combine(AppContext.BaseDirectory, "bench");

    /// <summary>One row: a label, how to run it, and whether the figure is per operation (parsed from stdout) or wall time.</summary>
    /// <remarks><c>Populate</c>: one untimed emulated run first, which fills the row's code cache.</remarks>
    sealed record Row(string Label, string[] Command, bool PerSpawn, Action? Reset = null, string[]? RunOptions = null, bool Populate = false);

    public static int Run(int repeat, int spawns, int shellIterations, int makeFiles, TextWriter o)
    {
        string? gcc = ExecutablePath.Find("gcc");
        if (gcc == null) { Console.Error.WriteLine("legoemu bench: gcc is needed to build the benchmark guests"); return 2; }
        string dir = Directory.CreateTempSubdirectory("legoemu-bench-processes-").FullName;
        try
        {
            string hello = Path.Combine(dir, "hello"), spawnloop = Path.Combine(dir, "spawnloop");
            Compile(gcc, Path.Combine(SourceDirectory, "hello.c"), hello);
            Compile(gcc, Path.Combine(SourceDirectory, "spawnloop.c"), spawnloop);
            string threadloop = Path.Combine(dir, "threadloop");
            Compile(gcc, Path.Combine(SourceDirectory, "threadloop.c"), threadloop);
            string helloSource = Path.Combine(dir, "hello-source.c");
            File.Copy(Path.Combine(SourceDirectory, "hello.c"), helloSource);
            string project = MakeProject(Path.Combine(dir, "project"), makeFiles);
            string make = ExecutablePath.Find("make") ?? "make";
            string loop = $"i=0; while [ $i -lt {shellIterations} ]; do /bin/true; i=$((i+1)); done";
            string codeCache = Path.Combine(dir, "code-cache");
            Action cleanProject = () => { foreach (var f in Directory.EnumerateFiles(project, "*.o").Append(Path.Combine(project, "prog"))) File.Delete(f); };
            var rows = new List<Row>
            {
                new("static hello, wall", [hello], false),
                new("posix_spawn+waitpid /bin/true, each", [spawnloop, spawns.ToString(CultureInfo.InvariantCulture)], true),
                new("  the same, run --pool 0 (no pool)", [spawnloop, spawns.ToString(CultureInfo.InvariantCulture)], true, RunOptions: ["--pool", "0"]),
                new($"sh loop of {shellIterations} x /bin/true, wall", ["/bin/sh", "-c", loop], false),
                new("  the same, run --pool 0 (no pool)", ["/bin/sh", "-c", loop], false, RunOptions: ["--pool", "0"]),
                new("10 000 x pthread_create, then join, wall", [threadloop, "10000"], false),
                new("gcc -o hello hello.c, wall", [gcc, "-o", Path.Combine(dir, "hello-gcc"), helloSource], false),
                new("  the same, run --code-cache (filled)", [gcc, "-o", Path.Combine(dir, "hello-gcc"), helloSource], false,
                    RunOptions: ["--code-cache", codeCache], Populate: true),
                new($"make -j2 of {makeFiles + 1} C files, wall", [make, "-s", "-j2", "-C", project], false, Reset: cleanProject),
                new("  the same, run --code-cache (filled)", [make, "-s", "-j2", "-C", project], false, Reset: cleanProject,
                    RunOptions: ["--code-cache", codeCache], Populate: true),
            };
            string? qemu = ExecutablePath.Find("qemu-x86_64");
            o.WriteLine($"process creation and start-up, best of {repeat}; {(qemu == null ? "qemu-x86_64 not installed (Debian package qemu-user)" : "qemu-x86_64: " + qemu)}");
            o.WriteLine($"{"what",-40} {"native",10} {"legoemu",10} {"qemu",10} {"legoemu/native",15} {"legoemu/qemu",13}");
            foreach (var row in rows)
            {
                var native = Best(repeat, row, row.Command);
                string[] emulated = ["__self__", "run", .. row.RunOptions ?? [], .. row.Command];
                if (row.Populate) Best(1, row, emulated);
                var emu = Best(repeat, row, emulated);
                double? q = qemu == null ? null : Best(repeat, row, [qemu, .. row.Command]);
                o.WriteLine($"{row.Label,-40} {Ms(native),10} {Ms(emu),10} {(q is double v ? Ms(v) : "-"),10} {emu / native,14:F1}x {(q is double w ? $"{emu / w:F2}x" : "-"),13}");
            }
            if (qemu != null)
                o.WriteLine("qemu-x86_64 without binfmt_misc emulates only the process it starts: the programs that process execs run natively.");
            return 0;
        }
        catch (BenchFailure e)
        {
            Console.Error.WriteLine($"legoemu bench: {e.Message}");
            return 1;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    static string Ms(double seconds) => $"{seconds * 1e3:F1} ms";

    /// <summary>The fastest of the runs in seconds: the wall time, or the per-spawn mean the guest printed.</summary>
    static double Best(int repeat, Row row, string[] command)
    {
        double best = double.MaxValue;
        for (int i = 0; i < repeat; i++)
        {
            row.Reset?.Invoke();
            var psi = command[0] == "__self__" ? SelfProcess.StartInfo(command[1..]) : Native(command);
            psi.RedirectStandardOutput = true;
            psi.RedirectStandardError = true;
            psi.UseShellExecute = false;
            var sw = Stopwatch.StartNew();
            using var p = Process.Start(psi) ?? throw new BenchFailure($"cannot start {psi.FileName}");
            var err = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            sw.Stop();
            if (p.ExitCode != 0)
                throw new BenchFailure($"{string.Join(' ', command).Replace("__self__", "legoemu")} exited {p.ExitCode}: {err.Result.Trim()}");
            double seconds = sw.Elapsed.TotalSeconds;
            if (row.PerSpawn)
            {
                var m = PerSpawnRe().Match(stdout);
                if (!m.Success) throw new BenchFailure($"{row.Label}: no per-spawn figure in the output '{stdout.Trim()}'");
                seconds = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) / 1e6;
            }
            best = Math.Min(best, seconds);
        }
        return best;
    }

    static ProcessStartInfo Native(string[] command)
    {
        var psi = new ProcessStartInfo(command[0]);
        foreach (var a in command[1..]) psi.ArgumentList.Add(a);
        return psi;
    }

    static void Compile(string gcc, string source, string output)
    {
        var psi = Native([gcc, "-static", "-O2", "-o", output, source]);
        psi.RedirectStandardError = true;
        using var p = Process.Start(psi) ?? throw new BenchFailure("cannot start gcc");
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new BenchFailure($"gcc {source}: {err.Trim()}");
    }

    /// <summary>A project of <paramref name="files"/> function files and a main, with a Makefile of pattern rules.</summary>
    static string MakeProject(string dir, int files)
    {
        Directory.CreateDirectory(dir);
        var objects = new List<string> { "main.o" };
        var main = new System.Text.StringBuilder("#include <stdio.h>\n");
        for (int i = 0; i < files; i++)
        {
            File.WriteAllText(Path.Combine(dir, $"f{i}.c"), $"int f{i}(int x) {{ int s = 0; for (int k = 0; k < x; k++) s += k * {i + 1}; return s; }}\n");
            main.Append($"int f{i}(int);\n");
            objects.Add($"f{i}.o");
        }
        main.Append("int main(void) { long s = 0;\n");
        for (int i = 0; i < files; i++) main.Append($"    s += f{i}({i + 10});\n");
        main.Append("    printf(\"%ld\\n\", s); return 0; }\n");
        File.WriteAllText(Path.Combine(dir, "main.c"), main.ToString());
        File.WriteAllText(Path.Combine(dir, "Makefile"),
            $"prog: {string.Join(' ', objects)}\n\tcc -o $@ $^\n%.o: %.c\n\tcc -O1 -c -o $@ $<\n");
        return dir;
    }

    sealed class BenchFailure(string message) : Exception(message);
}
