using System.Globalization;
using LegoEmu.Cluster.Bench;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// Call edges in <c>run --profile</c>: the <c>calls</c> guest's edges are counted exactly and their inclusive
/// costs add up (a caller's call costs the callee's own instructions plus its calls'), in the interpreter and in
/// compiled code; frames a longjmp skipped are closed; callgrind_annotate --inclusive=yes reads the file, and
/// FILE.folded holds the calling contexts.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class ProfileCallTests(TraceGuestsFixture fixture) : IClassFixture<TraceGuestsFixture>
{
    const int N = 1000;

    [Theory]
    [InlineData("--tier", "interp")]
    [InlineData("--translate-threshold", "0")]
    [InlineData("--translate-threshold", "10000")]
    public async Task EdgesAreCountedAndInclusiveCostsAddUp(string option, string value)
    {
        string bin = fixture.Guests.Binary("calls");
        string n = N.ToString(CultureInfo.InvariantCulture);
        string dir = Directory.CreateTempSubdirectory("legoemu-calls-").FullName;
        try
        {
            string profile = Path.Combine(dir, "calls.callgrind");
            var r = await EmulatorRunner.RunAsync("run", option, value, "--profile", profile, bin, n);
            Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
            Assert.Equal(await TraceGuests.NativeAsync(bin, n), r.StdoutText);
            var p = ProfileFunctions.Read(profile);
            long Count(string from, string to) => p.Calls.TryGetValue((from, to), out var e) ? e.Count : 0;
            long Inclusive(string from, string to) => p.Calls[(from, to)].Inclusive[0];
            Assert.Equal(N, Count("main", "mid"));
            Assert.Equal(2 * N, Count("mid", "leaf"));
            Assert.Equal(50, Count("rec", "rec"));
            Assert.Equal(1, Count("rec", "leaf"));
            Assert.Equal(1, Count("main", "dive"));
            Assert.Equal(10, Count("dive", "dive"));
            Assert.Equal(3, Count("main", "leaf"));

            // mid's calls cost its own instructions and its calls of leaf; leaf costs the same on every call.
            long leafSelf = p.Cost("leaf", "Ir"), midSelf = p.Cost("mid", "Ir");
            Assert.Equal(midSelf + Inclusive("mid", "leaf"), Inclusive("main", "mid"));
            Assert.Equal(leafSelf * 2 * N, Inclusive("mid", "leaf") * (2 * N + 1 + 3));
            // The recursion's outermost call holds every level and the leaf at the bottom.
            Assert.Equal(p.Cost("rec", "Ir") + Inclusive("rec", "leaf"), Inclusive("main", "rec"));
            // dive's frames, left by the longjmp, are closed at main's next call: its calls cost what it ran, and a little longjmp.
            Assert.True(Inclusive("main", "dive") >= p.Cost("dive", "Ir"), $"main -> dive: {Inclusive("main", "dive")}, dive's own {p.Cost("dive", "Ir")}");

            var a = await ProcessRunner.RunAsync("callgrind_annotate", ["--inclusive=yes", profile], TimeSpan.FromSeconds(60));
            Assert.True(a.ExitCode == 0, a.StderrText);
            var mainLine = a.StdoutText.Split('\n').First(l => l.TrimEnd().EndsWith(":main [" + bin + "]", StringComparison.Ordinal) || l.Contains(":main ", StringComparison.Ordinal));
            long mainInclusive = long.Parse(mainLine.TrimStart().Split(' ')[0].Replace(",", ""), CultureInfo.InvariantCulture);
            Assert.True(mainInclusive >= Inclusive("main", "mid") + Inclusive("main", "rec"), $"callgrind_annotate --inclusive=yes: {mainLine}");

            string folded = await File.ReadAllTextAsync(profile + ".folded");
            var stacks = folded.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (Stack: l[..l.LastIndexOf(' ')], Count: long.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))).ToList();
            var midLeaf = Assert.Single(stacks, s => s.Stack.EndsWith(";main;mid;leaf", StringComparison.Ordinal));
            Assert.Equal(Inclusive("mid", "leaf"), midLeaf.Count);
            Assert.Contains(stacks, s => s.Stack.EndsWith(";main;rec;rec;rec", StringComparison.Ordinal));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
