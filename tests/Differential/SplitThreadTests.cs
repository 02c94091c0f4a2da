using Xunit;

namespace LegoEmu.Tests.Differential;

/// <summary>
/// The pthread guests with their threads spread over 2 and 4 processor components, or one component per
/// thread inside the emulator's process, each with a small
/// coherent ExCache over memory-node processes: stdout and exit status must match the native run.
/// Locks, condition variables, barriers, atomics, a CMPXCHG16B stack, cancellation, thread-directed
/// signals and futex timeouts then all cross components.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class SplitThreadTests(GuestBuilds builds)
{
    public static readonly IReadOnlyDictionary<string, string[]> Configurations = new Dictionary<string, string[]>
    {
        ["processors-2-memnodes-2-64K"] = ["--processors", "2", "--memory-nodes", "2", "--excache", "64K"],
        // LegoOS's miss path across components: no prefetch, each dirty victim written back with its fill.
        ["processors-2-memnodes-2-64K-prefetch-off"] = ["--processors", "2", "--memory-nodes", "2", "--excache", "64K", "--prefetch", "off", "--write-back", "combined"],
        ["processors-4-line64-16K"] = ["--processors", "4", "--excache", "16K", "--line", "64"],
        // Every guest thread on a processor component of its own, each a host thread in this process.
        ["per-thread-64K"] = ["--processors", "per-thread", "--excache", "64K"],
    };

    static readonly string[] ThreadGuests = ["threads", "threads_futex", "thread_signals", "futex_restart", "atomics", "bmi_scalar", "affinity", "proc_status", "proc_tasks"];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var g in ThreadGuests)
            foreach (var c in Configurations.Keys)
                data.Add(g, c);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task MatchesNativeAcrossComponents(string guest, string config)
    {
        var spec = Guests.Get(guest);
        var native = await builds.NativeRunAsync(spec);
        Assert.True(!native.TimedOut && native.ExitCode == spec.ExpectedExitCode, $"The native run is not a usable reference: {native}");
        var emulated = await EmulatorRunner.RunAsync(
            new[] { "run", "--stats" }.Concat(spec.RunOptions).Concat(Configurations[config]).Append(builds.Binary(guest)).Concat(spec.Arguments),
            Guests.Environment, Guests.EnvironmentPrefixToClear);
        StaticGuestTests.AssertSameOutput("emulated stdout", "native stdout", native.Stdout, emulated.Stdout, emulated,
            $"exit status: native {native.ExitCode}, emulated {emulated.ExitCode}");
        Assert.True(emulated.ExitCode == native.ExitCode, $"exit status: native {native.ExitCode}, emulated {emulated.ExitCode}\n{emulated.StderrTail()}");
        // The threads really ran elsewhere: --stats names a thread on a component other than the home.
        string stderr = System.Text.Encoding.UTF8.GetString(emulated.Stderr);
        Assert.Matches(@"thread \d+ +ran on component [1-9]", stderr);
    }
}

/// <summary>A threaded program nobody here wrote: the host's python3 running threads, over 2 processor components.</summary>
public sealed class SplitHostProgramTests
{
    const string Script = """
        import threading, hashlib
        out = [None] * 4
        def work(i):
            h = hashlib.sha256()
            for k in range(3000):
                h.update(str(k * (i + 1)).encode())
            out[i] = h.hexdigest()[:16]
        ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in ts: t.start()
        for t in ts: t.join()
        print(out)
        """;

    [Fact]
    public async Task Python3ThreadsMatchNative()
    {
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), "python3 is installed by .ci/run");
        var native = await ProcessRunner.RunAsync(python, ["-c", Script], TimeSpan.FromSeconds(60));
        Assert.Equal(0, native.ExitCode);
        var r = await EmulatorRunner.RunAsync("run", "--processors", "2", "--stats", python, "-c", Script);
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.StderrTail()}");
        Assert.Equal(native.StdoutText, r.StdoutText);
        Assert.Matches(@"thread \d+ +ran on component 1", r.StderrText);
    }
}
