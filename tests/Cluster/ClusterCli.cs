using System.Text.Json;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cluster;

/// <summary>Runs <c>legoemu cluster status</c> and checks the shape of errors, for the cluster tests.</summary>
public static class ClusterCli
{
    /// <summary>The members <c>cluster status --json</c> lists, by endpoint (state, kind, and the rest of the object).</summary>
    public static async Task<Dictionary<string, JsonElement>> MembersAsync(string cluster)
    {
        var r = await EmulatorRunner.RunAsync("cluster", "status", "--cluster", cluster, "--json");
        Assert.True(r.ExitCode == 0, $"cluster status failed: {r}\n{r.StderrText}");
        using var doc = JsonDocument.Parse(r.StdoutText);
        return doc.RootElement.GetProperty("members").EnumerateArray()
            .ToDictionary(m => m.GetProperty("endpoint").GetString()!, m => m.Clone());
    }

    /// <summary>
    /// Polls the status until <paramref name="done"/> holds of the members; the bound (scaled with the machine's load)
    /// is only reached when the test fails.
    /// </summary>
    public static async Task<Dictionary<string, JsonElement>> WaitForAsync(string cluster, Func<Dictionary<string, JsonElement>, bool> done, string what, double seconds = 60, Func<string>? context = null)
    {
        var deadline = DateTime.UtcNow + MachineLoad.Scale(TimeSpan.FromSeconds(seconds));
        while (true)
        {
            var members = await MembersAsync(cluster);
            if (done(members)) return members;
            if (DateTime.UtcNow > deadline) Assert.Fail($"cluster status never showed {what}; last: {string.Join(", ", members.Keys)}{(context == null ? "" : "\n" + context())}");
            await Task.Delay(200);
        }
    }

    /// <summary>A failure the way every verb must fail: a nonzero status and exactly one line on stderr, no .NET stack trace.</summary>
    public static void AssertOneLineError(ProcessResult r, int status, string mustContain)
    {
        string err = r.StderrText.TrimEnd('\n');
        Assert.True(r.ExitCode == status, $"expected status {status}: {r}\n{err}");
        Assert.DoesNotContain("\n", err);
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Exception", err);
        Assert.Contains(mustContain, err);
    }
}
