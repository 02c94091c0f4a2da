using LegoEmu.Tests.Differential;
using SkiaSharp;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>The HTML report in a real headless browser (Debian's chromium): it parses, holds its plots, and renders them.</summary>
[Collection(GuestCollection.Name)]
public sealed class HtmlReportBrowserTests(TraceGuestsFixture fixture) : IClassFixture<TraceGuestsFixture>
{
    static string? Chromium() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    [Fact]
    public async Task ReportOpensInHeadlessChromiumAndShowsItsPlots()
    {
        string? chromium = Chromium();
        Assert.True(chromium != null, "chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)");
        string dir = Path.Combine(Path.GetTempPath(), $"legoemu-html-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string bin = fixture.Guests.Binary("hotcold");
            string trace = Path.Combine(dir, "t.trace");
            var run = await EmulatorRunner.RunAsync("run", "--trace", trace, "--trace-level", "accesses", "--line", "64", bin, "2097152", "65536", "200000");
            Assert.Equal(0, run.ExitCode);
            string html = Path.Combine(dir, "report.html");
            string pngDir = Path.Combine(dir, "png");
            var rep = await EmulatorRunner.RunAsync("trace", "report", trace, "--html", html, "--png", pngDir);
            Assert.True(rep.ExitCode == 0, rep.StderrTail());
            foreach (var name in new[] { "mrc", "cdf", "working-set", "heatmap" })
                AssertNotBlank(Path.Combine(pngDir, name + ".png"), 20);

            string[] common = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", $"--user-data-dir={Path.Combine(dir, "profile")}"];
            var dom = await ProcessRunner.RunAsync(chromium!, [.. common, "--dump-dom", "file://" + html], TimeSpan.FromSeconds(90), null, null);
            Assert.True(dom.ExitCode == 0, dom.StderrTail());
            string text = dom.StdoutText;
            Assert.Contains("LegoEmu trace report", text);
            Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(text, "<svg").Count);
            // hotcold's loops are in main: the top functions table names it first.
            Assert.Contains("<h2>Top functions</h2>", text);
            Assert.Contains("<code>main</code>", text[text.IndexOf("<h2>Top functions</h2>", StringComparison.Ordinal)..].Split("</tr>")[1]);
            Assert.DoesNotContain("Uncaught", dom.StderrText);

            string shot = Path.Combine(dir, "shot.png");
            var sc = await ProcessRunner.RunAsync(chromium!, [.. common, "--window-size=1000,2400", "--screenshot=" + shot, "file://" + html],
                TimeSpan.FromSeconds(90), null, null);
            Assert.True(sc.ExitCode == 0 && File.Exists(shot), sc.StderrTail());
            // The plots bring many colours (the heat map alone a whole colour map); a blank or text-only page does not.
            AssertNotBlank(shot, 200);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    static void AssertNotBlank(string png, int minColours)
    {
        Assert.True(File.Exists(png), $"{png} was not written");
        using var bmp = SKBitmap.Decode(png);
        Assert.NotNull(bmp);
        var colours = new HashSet<uint>();
        long nonWhite = 0;
        for (int y = 0; y < bmp.Height; y += 2)
            for (int x = 0; x < bmp.Width; x += 2)
            {
                var c = bmp.GetPixel(x, y);
                colours.Add((uint)c);
                if (c.Red < 240 || c.Green < 240 || c.Blue < 240) nonWhite++;
            }
        Assert.True(colours.Count >= minColours, $"{png}: only {colours.Count} colours");
        Assert.True(nonWhite > bmp.Width * bmp.Height / 400, $"{png}: almost all white");
    }
}
