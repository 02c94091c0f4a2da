using System.Globalization;
using System.Text.RegularExpressions;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// <c>memnode --link-latency --link-bandwidth</c>: a guest over an emulated slow link still matches native, and every
/// round trip takes at least the latency (a lower bound only: the machine may add any amount to it).
/// </summary>
public sealed class LinkEmulationTests
{
    const string Source = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        int main(void) {
            size_t n = 4 << 20;
            unsigned char *p = malloc(n);
            unsigned long sum = 0;
            for (int round = 0; round < 2; round++) {
                memset(p, round + 1, n);
                for (size_t i = 0; i < n; i += 512) sum += p[i] * (i >> 9);
            }
            printf("sum %lu\n", sum);
            return 5;
        }
        """;

    [Fact]
    public async Task AGuestOverASlowLinkMatchesNativeAndEachRoundTripTakesTheLatency()
    {
        using var guest = await InlineGuest.BuildAsync("slowlink", Source);
        using var node = new MemoryNodeProcess(extra: ["--link-latency", "300", "--link-bandwidth", "200M"]);
        var native = await ProcessRunner.RunAsync(guest.Binary, [], TimeSpan.FromSeconds(60));
        var emulated = await EmulatorRunner.RunAsync("run", "--memory-nodes", node.Endpoint, "--excache", "256K", "--stats", guest.Binary);
        Assert.True(native.StdoutText == emulated.StdoutText && native.ExitCode == emulated.ExitCode, $"native: {native.StdoutText} {native.ExitCode}; emulated: {emulated}\n{emulated.StderrTail()}");
        var m = Regex.Match(emulated.StderrText, @"latency p50 ([0-9.,]+) us");
        Assert.True(m.Success, $"no latency in --stats: {emulated.StderrTail()}");
        Assert.True(double.Parse(m.Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture) >= 300, $"a round trip under the emulated latency: {m.Value}");
    }

    [Theory]
    [InlineData("--link-latency", "-1")]
    [InlineData("--link-latency", "fast")]
    [InlineData("--link-latency", "2000000")]
    [InlineData("--link-bandwidth", "12")]
    [InlineData("--link-bandwidth", "lots")]
    public async Task BadLinkValuesAreOneLine(string option, string value)
    {
        var r = await EmulatorRunner.RunAsync("memnode", "--listen", "tcp:127.0.0.1:0", option, value);
        Assert.Equal(2, r.ExitCode);
        string err = r.StderrText.TrimEnd('\n');
        Assert.DoesNotContain("\n", err);
        Assert.Contains($"bad {option}", err);
    }
}
