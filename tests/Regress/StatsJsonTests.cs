using System.Text.Json;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Regress;

/// <summary>
/// `run --stats-json` as regress reads it. The instruction count covers every thread: it used to be
/// the main thread's alone, so a threaded MapReduce reported a small fraction of its work.
/// </summary>
[Collection(PhoenixCollection.Name)]
public sealed class StatsJsonTests(PhoenixFixture phoenix) : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("legoemu-stats-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private async Task<JsonElement> Stats(string name, IEnumerable<string> command, IReadOnlyDictionary<string, string?> env)
    {
        var file = Path.Combine(_scratch, name + ".json");
        var (launcher, prefix) = EmulatorRunner.Command;
        var r = await ProcessRunner.RunAsync(launcher, prefix.Concat(["run", "--stats-json", file]).Concat(command), EmulatorRunner.RunTimeout, env);
        Assert.True(r.ExitCode == 0, $"{r}\n{r.StderrTail()}");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task InstructionsOfAllThreadsAreCounted()
    {
        var c = phoenix.Manifest.Cases.Single(x => x.Name == "word_count");
        var sequential = await Stats("seq", c.Command.Append("--sequential"), new Dictionary<string, string?>());
        var threaded = await Stats("mt", c.Command, new Dictionary<string, string?> { ["MR_NUMTHREADS"] = "4" });
        long seq = sequential.GetProperty("instructions").GetInt64(), mt = threaded.GetProperty("instructions").GetInt64();
        // The same words are hashed either way; four threads add merging and thread start-up, never remove work.
        Assert.True(mt >= seq * 9 / 10, $"threaded run counted {mt:N0} instructions, the sequential one {seq:N0}");
        Assert.True(threaded.GetProperty("accesses").GetInt64() > 0);
        Assert.InRange(threaded.GetProperty("missRatio").GetDouble(), 1e-9, 1);
    }
}
