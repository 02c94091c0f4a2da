using System.Globalization;
using System.Text.RegularExpressions;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>
/// <c>run --timeline FILE</c>: every process of the tree writes its steps to one file, each line with the time since the
/// run started and its pid; a shell's two children each appear with their hand-over, execve, loaded image and exit.
/// </summary>
public sealed class TimelineTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-timeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly Regex Line = new(@"^ *([0-9]+\.[0-9]) ms  pid (\d+) +  (.+)$");

    [Fact]
    public async Task EveryProcessOfTheTreeWritesItsSteps()
    {
        string file = Path.Combine(_dir, "timeline.txt");
        var native = await ProcessRunner.RunAsync("/bin/sh", ["-c", "/bin/true; /bin/true; exit 3"], TimeSpan.FromSeconds(30));
        var r = await EmulatorRunner.RunAsync("run", "--timeline", file, "/bin/sh", "-c", "/bin/true; /bin/true; exit 3");
        Assert.True(r.ExitCode == native.ExitCode, $"exit {r.ExitCode}, native {native.ExitCode}\n{r.StderrTail()}");
        // Idle components may still append after the run ended (a component started ahead and never used): only whole lines count.
        string text = File.ReadAllText(file);
        var lines = text[..(text.LastIndexOf('\n') + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var events = new List<(double Ms, int Pid, string What)>();
        foreach (var l in lines)
        {
            var m = Line.Match(l);
            Assert.True(m.Success, $"not a timeline line: '{l}'\n{string.Join('\n', lines)}");
            events.Add((double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value), m.Groups[3].Value));
        }
        string all = string.Join('\n', lines);
        int root = events[0].Pid;
        Assert.Equal("run /bin/sh -c /bin/true; /bin/true; exit 3", events[0].What);
        var rootSteps = events.Where(e => e.Pid == root).Select(e => e.What).ToList();
        Assert.Contains("loaded /bin/sh", rootSteps);
        Assert.Equal("exit 3", rootSteps[^1]);
        var children = rootSteps.Where(s => s.StartsWith("fork: child ", StringComparison.Ordinal)).Select(s => int.Parse(s["fork: child ".Length..])).ToList();
        Assert.True(children.Count == 2, $"two forks expected:\n{all}");
        // A component that ran the first child may run the second: its steps are told apart by order.
        foreach (var child in children.Distinct())
        {
            var steps = events.Where(e => e.Pid == child).Select(e => e.What).ToList();
            int runs = children.Count(c => c == child);
            Assert.True(steps.Count(s => s == "execve /bin/true") == runs, $"child {child}:\n{all}");
            Assert.True(steps.Count(s => s.StartsWith("loaded ", StringComparison.Ordinal) && s.EndsWith("true", StringComparison.Ordinal)) == runs, $"child {child}:\n{all}");
            Assert.True(steps.Count(s => s == "exit 0") == runs, $"child {child}:\n{all}");
            Assert.True(steps.IndexOf("execve /bin/true") < steps.IndexOf("exit 0"), $"child {child}:\n{all}");
        }
        // Each process's own lines are in time order.
        foreach (var pid in events.Select(e => e.Pid).Distinct())
        {
            var times = events.Where(e => e.Pid == pid).Select(e => e.Ms).ToList();
            Assert.True(times.SequenceEqual(times.Order()), $"pid {pid} out of order:\n{all}");
        }
    }

    [Fact]
    public async Task AnUnwritableTimelineIsOneLine()
    {
        var r = await EmulatorRunner.RunAsync("run", "--timeline", Path.Combine(_dir, "no", "such", "dir", "t.txt"), "/bin/true");
        Assert.Equal(2, r.ExitCode);
        string err = r.StderrText.TrimEnd('\n');
        Assert.DoesNotContain("\n", err);
        Assert.Contains("--timeline", err);
    }
}
