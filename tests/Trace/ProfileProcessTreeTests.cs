using System.Globalization;
using System.Text.Json;
using LegoEmu.Cluster.Bench;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// <c>run --profile FILE</c> beyond the first process: a forked child writes FILE.PID, an image an execve
/// replaced writes FILE.1 (FILE.PID.1 …), and threads run by other processor components are merged into their
/// process's file.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class ProfileProcessTreeTests(GuestBuilds builds)
{
    [Fact]
    public async Task AForkedAndExecedProgramWritesItsOwnFileAndTheReplacedImageAnother()
    {
        string dir = Directory.CreateTempSubdirectory("legoemu-profile-tree-").FullName;
        try
        {
            string input = Path.Combine(dir, "input.txt");
            await File.WriteAllTextAsync(input, string.Concat(Enumerable.Range(0, 20000).Select(i => $"line {i * 7919 % 10007}\n")));
            string tree = Path.Combine(dir, "tree"), direct = Path.Combine(dir, "direct");
            var r = await EmulatorRunner.RunAsync("run", "--profile", tree, "/bin/sh", "-c", $"gzip -c {input} > /dev/null; echo done");
            Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
            Assert.Equal("done\n", r.StdoutText);
            var d = await EmulatorRunner.RunAsync("run", "--profile", direct, "gzip", "-c", input);
            Assert.True(d.ExitCode == 0, $"{d}\n{d.StderrTail()}");

            var files = Directory.GetFiles(dir, "tree*").Select(Path.GetFileName).Where(f => !f!.EndsWith(".folded", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            // Each profile has its calling contexts beside it.
            Assert.All(files, f => Assert.True(File.Exists(Path.Combine(dir, f + ".folded")), $"{f}.folded"));
            // The shell, its child after the exec (gzip) and the child before it (the shell's copy).
            Assert.True(files.Count == 3, $"profiles: {string.Join(", ", files)}");
            string child = files.Single(f => f!.Split('.').Length == 2)!, before = files.Single(f => f!.Split('.').Length == 3)!;
            Assert.Equal(child + ".1", before);
            Assert.StartsWith("/bin/sh -c gzip", Header(tree, "cmd"));
            Assert.Equal($"gzip -c {input}", Header(Path.Combine(dir, child), "cmd"));
            Assert.StartsWith("/bin/sh -c gzip", Header(Path.Combine(dir, before), "cmd"));
            Assert.Equal(child.Split('.')[1], Header(Path.Combine(dir, child), "pid"));

            // gzip run by the shell retires what gzip run directly does, give or take its environment.
            long viaShell = ProfileFunctions.Read(Path.Combine(dir, child)).Total("Ir"), alone = ProfileFunctions.Read(direct).Total("Ir");
            Assert.True(Math.Abs(viaShell - alone) <= alone / 1000, $"gzip: {viaShell:N0} instructions forked from a shell, {alone:N0} alone");
            Assert.True(ProfileFunctions.Read(Path.Combine(dir, before)).Total("Ir") > 0);
            foreach (var f in files)
            {
                var a = await ProcessRunner.RunAsync("callgrind_annotate", [Path.Combine(dir, f!)], TimeSpan.FromSeconds(60));
                Assert.True(a.ExitCode == 0, $"{f}: {a.StderrText}");
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData("2")]
    [InlineData("per-thread")]
    public async Task ThreadsOnOtherComponentsAreInTheirProcesssFile(string processors)
    {
        string dir = Directory.CreateTempSubdirectory("legoemu-profile-split-").FullName;
        try
        {
            string binary = builds.Binary("threads"), profile = Path.Combine(dir, "p"), stats = Path.Combine(dir, "stats.json");
            var r = await EmulatorRunner.RunAsync("run", "--profile", profile, "--stats-json", stats, "--processors", processors, "--excache", "64K", binary);
            Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
            var j = JsonDocument.Parse(await File.ReadAllTextAsync(stats)).RootElement;
            Assert.True(j.GetProperty("processorComponents").GetInt32() >= 2);
            long instructions = j.GetProperty("instructions").GetInt64();
            var p = ProfileFunctions.Read(profile);
            // Every component's instructions (the home's alone would be a fraction of them).
            Assert.True(Math.Abs(p.Total("Ir") - instructions) <= instructions / 10000, $"{p.Total("Ir"):N0} instructions profiled, {instructions:N0} retired");
            Assert.True(p.Cost("worker", "Ir") > 0, "the threads' function is not in the profile");
            Assert.Equal(["p", "p.folded"], Directory.GetFiles(dir, "p*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
            // The workers' calls made on other components are in the process's call graph too.
            Assert.True(p.Calls.Keys.Any(k => k.Callee == "worker" || k.Caller == "worker"), "no call edge names worker");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    static string Header(string path, string key) =>
        File.ReadLines(path).First(l => l.StartsWith(key + ": ", StringComparison.Ordinal))[(key.Length + 2)..];
}
