using LegoEmu.Cluster.Regress;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Regress;

/// <summary>
/// Guards the oracle of the Phoenix suite natively: each app's output must not depend on the thread
/// count or on scheduling, and must equal its --sequential mode byte for byte. If this fails, a
/// regress mismatch would say nothing about the emulator.
/// </summary>
[Collection(PhoenixCollection.Name)]
public sealed class PhoenixNativeTests(PhoenixFixture phoenix)
{
    public static TheoryData<string> Apps() => new(PhoenixSuite.Apps);

    [Fact]
    public void SuiteListsEveryApp()
    {
        var names = phoenix.Manifest.Cases.Select(c => c.Name).Order(StringComparer.Ordinal);
        Assert.Equal(PhoenixSuite.Apps.Order(StringComparer.Ordinal), names);
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task ThreadedOutputEqualsSequential(string app)
    {
        var c = phoenix.Manifest.Cases.Single(x => x.Name == app);
        var timeout = TimeSpan.FromMinutes(PhoenixFixture.Size == "small" ? 2 : 30);
        async Task<ProcessResult> Run(string threads, bool sequential)
        {
            var env = new Dictionary<string, string?>(c.Environment.ToDictionary(kv => kv.Key, kv => (string?)kv.Value)) { ["MR_NUMTHREADS"] = threads };
            var args = c.Command.Skip(1).Concat(sequential ? ["--sequential"] : Array.Empty<string>());
            var r = await ProcessRunner.RunAsync(c.Command[0], args, timeout, env);
            Assert.False(r.TimedOut, $"{app} timed out: {r}");
            Assert.True(r.ExitCode == 0, $"{app} (MR_NUMTHREADS={threads}{(sequential ? ", --sequential" : "")}) exited with {r.ExitCode}:\n{r.StderrTail()}");
            return r;
        }

        var sequential = await Run("1", sequential: true);
        Assert.True(sequential.StdoutText.Split('\n').Length > 4, $"{app} printed almost nothing:\n{sequential.StdoutText}");
        Assert.DoesNotContain("nan", sequential.StdoutText, StringComparison.OrdinalIgnoreCase);
        foreach (var threads in new[] { "1", "3", "4", "8" })
        {
            var threaded = await Run(threads, sequential: false);
            Assert.True(sequential.StdoutText == threaded.StdoutText,
                $"{app} with MR_NUMTHREADS={threads} differs from --sequential:\n--- sequential ---\n{sequential.StdoutText}\n--- threaded ---\n{threaded.StdoutText}");
        }
    }
}
