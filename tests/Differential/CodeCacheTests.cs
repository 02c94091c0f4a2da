using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace LegoEmu.Tests.Differential;

/// <summary>
/// run --code-cache DIR: a program's first run saves its regions compiled ahead of time, its later runs use them.
/// Both runs must match native and retire exactly the same instructions and accesses as each other; code that changed
/// under a saved region (the guest rewrote it, or the file was replaced) must never run the saved translation.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed partial class CodeCacheTests(GuestBuilds builds) : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), $"legoemu-codecache-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Computing, signalling, faulting, threaded and self-modifying guests (selfmod rewrites code that saved regions hold).</summary>
    public static TheoryData<string> CachedGuests() =>
        new(["sieve", "math64", "wordfreq", "signals", "selfmod", "threads", "x87_math", "mxcsr", "atomics", "fpe_unmasked"]);

    /// <summary>Threads that spin on each other retire a different number of instructions every run.</summary>
    static readonly HashSet<string> Racing = ["threads", "atomics"];

    [Theory]
    [MemberData(nameof(CachedGuests))]
    public async Task TheSecondRunUsesTheSavedRegionsAndBothMatchNative(string guest)
    {
        var spec = Guests.Get(guest);
        var binary = builds.Binary(guest);
        var native = await builds.NativeRunAsync(spec);
        Assert.True(!native.TimedOut && native.ExitCode == spec.ExpectedExitCode, $"The native run is not a usable reference: {native}");

        var first = await Run(spec.RunOptions, binary, spec.Arguments);
        StaticGuestTests.AssertSameOutput("first run's stdout", "native stdout", native.Stdout, first.Result.Stdout, first.Result);
        Assert.Equal(native.ExitCode, first.Result.ExitCode);
        Assert.True(first.Saved > 0, $"the first run saved no region:\n{first.Result.StderrTail()}");

        var second = await Run(spec.RunOptions, binary, spec.Arguments);
        StaticGuestTests.AssertSameOutput("second run's stdout", "native stdout", native.Stdout, second.Result.Stdout, second.Result);
        Assert.Equal(native.ExitCode, second.Result.ExitCode);
        Assert.True(second.Found > 0 && second.Used > 0, $"the second run used no saved region:\n{second.Line}");
        if (!Racing.Contains(guest))
        {
            Assert.Equal(first.Instructions, second.Instructions);
            Assert.Equal(first.Accesses, second.Accesses);
        }
    }

    const string Variant = """
        #include <stdio.h>
        int main(void)
        {
            unsigned long s = 1;
            for (unsigned long i = 0; i < 3000000; i++)
                s = s * FACTOR + (i >> 3);
            printf("%lu\n", s);
            return 0;
        }
        """;

    /// <summary>
    /// The file is replaced by another build of the same size with its old modification time, so the cache finds the
    /// first build's entry: every region whose code differs is checked and refused, and the output is the new build's.
    /// </summary>
    [Fact]
    public async Task ARegionWhoseCodeChangedIsNeverUsed()
    {
        using var a = await InlineGuest.BuildAsync("cachevariant_a", Variant.Replace("FACTOR", "1000003UL"));
        using var b = await InlineGuest.BuildAsync("cachevariant_b", Variant.Replace("FACTOR", "1000033UL"));
        Assert.Equal(new FileInfo(a.Binary).Length, new FileInfo(b.Binary).Length);
        var nativeB = await ProcessRunner.RunAsync(b.Binary, [], EmulatorRunner.RunTimeout, null, null);

        string program = Path.Combine(_dir, "variant");
        Directory.CreateDirectory(_dir);
        File.Copy(a.Binary, program);
        var stamp = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(program, stamp);
        var first = await Run([], program, []);
        Assert.True(first.Saved > 0, $"nothing saved:\n{first.Result.StderrTail()}");

        File.Copy(b.Binary, program, overwrite: true);
        File.SetLastWriteTimeUtc(program, stamp);
        var second = await Run([], program, []);
        Assert.Equal(nativeB.StdoutText, second.Result.StdoutText);
        Assert.True(second.Found > 0, $"the changed build did not find the first build's entry, so this tests nothing:\n{second.Line}");
        Assert.True(second.Stale > 0, $"no region was refused:\n{second.Line}");
    }

    /// <summary>A shell's children get the setting: the first one's program saves its entry at exit, the second one's uses it.</summary>
    [Fact]
    public async Task ForkedChildrenUseTheCacheAfterTheirExecve()
    {
        string sieve = builds.Binary("sieve");
        string script = $"{sieve}; {sieve}";
        var native = await ProcessRunner.RunAsync("/bin/sh", ["-c", script], EmulatorRunner.RunTimeout, null, null);
        var run = await EmulatorRunner.RunAsync("run", "--stats", "--code-cache", _dir, "--translate-threshold", "100", "/bin/sh", "-c", script);
        StaticGuestTests.AssertSameOutput("emulated stdout", "native stdout", native.Stdout, run.Stdout, run);
        Assert.Equal(native.ExitCode, run.ExitCode);
        // Each forked process's report starts with its command line; the two sieve runs report in the order they ended.
        var reports = run.StderrText.Split("--- stats of a forked process: ").Where(r => r.StartsWith(sieve, StringComparison.Ordinal)).ToList();
        Assert.True(reports.Count == 2, $"expected the reports of two sieve processes:\n{run.StderrTail()}");
        var first = ForkedCacheLine().Match(reports[0]);
        var second = ForkedCacheLine().Match(reports[1]);
        Assert.True(first.Success && second.Success, $"a sieve report has no code cache line:\n{run.StderrTail()}");
        Assert.True(first.Groups[4].Success && Number(first.Groups[4].Value) > 0, $"the first sieve saved nothing: {first.Value}");
        Assert.True(Number(second.Groups[2].Value) > 0, $"the second sieve used nothing: {second.Value}");
    }

    const string Forking = """
        #include <stdio.h>
        #include <sys/wait.h>
        #include <unistd.h>
        __attribute__((noinline)) static unsigned long work(unsigned long n)
        {
            unsigned long s = 7;
            for (unsigned long i = 0; i < n; i++)
                s = s * 6364136223846793005UL + (i ^ (s >> 29));
            return s;
        }
        int main(void)
        {
            printf("parent %lu\n", work(2000000));
            fflush(stdout);
            pid_t p = fork();
            if (p == 0) {
                printf("child %lu\n", work(3000000));
                return 0;
            }
            int status;
            waitpid(p, &status, 0);
            return WEXITSTATUS(status);
        }
        """;

    /// <summary>
    /// A forked child that does not execve runs its parent's image: it binds the regions the image's first run saved
    /// (the same function, not inlined, so parent and child run the same code).
    /// </summary>
    [Fact]
    public async Task AForkedChildUsesItsParentsEntry()
    {
        using var guest = await InlineGuest.BuildAsync("cachefork", Forking);
        var native = await ProcessRunner.RunAsync(guest.Binary, [], EmulatorRunner.RunTimeout, null, null);
        var first = await EmulatorRunner.RunAsync("run", "--stats", "--code-cache", _dir, guest.Binary);
        StaticGuestTests.AssertSameOutput("first run's stdout", "native stdout", native.Stdout, first.Stdout, first);
        var second = await EmulatorRunner.RunAsync("run", "--stats", "--code-cache", _dir, guest.Binary);
        StaticGuestTests.AssertSameOutput("second run's stdout", "native stdout", native.Stdout, second.Stdout, second);
        Assert.Equal(native.ExitCode, second.ExitCode);
        var child = ForkedCacheLine().Match(second.StderrText);
        Assert.True(child.Success, $"the child's report has no code cache line:\n{second.StderrTail()}");
        Assert.True(Number(child.Groups[2].Value) > 0, $"the child used no saved region: {child.Value}");
        Assert.Equal("none saved", child.Groups[3].Value);
    }

    const string ForksWhenAsked = """
        #include <stdio.h>
        #include <sys/wait.h>
        #include <unistd.h>
        int main(int argc, char **argv)
        {
            unsigned long s = 3;
            for (unsigned long i = 0; i < 2000000; i++)
                s = s * 2862933555777941757UL + i;
            printf("%lu\n", s);
            fflush(stdout);
            if (argc > 1) {
                pid_t p = fork();
                if (p == 0) return 3;
                int status;
                waitpid(p, &status, 0);
                return WEXITSTATUS(status);
            }
            return 0;
        }
        """;

    /// <summary>
    /// Whether a program's last run forked is kept beside its entry (its next run starts a component for its forks at
    /// once): a run that forks leaves the mark, one that does not removes it, and the outputs match native either way.
    /// </summary>
    [Fact]
    public async Task WhetherTheLastRunForkedIsKeptWithTheEntry()
    {
        using var guest = await InlineGuest.BuildAsync("cacheforks", ForksWhenAsked);
        string[] Marks() => Directory.Exists(_dir) ? Directory.GetFiles(_dir, "*.forks") : [];
        foreach (var (args, marked) in new[] { (new[] { "fork" }, true), (new[] { "fork" }, true), ([], false), (new[] { "fork" }, true) })
        {
            var native = await ProcessRunner.RunAsync(guest.Binary, args, EmulatorRunner.RunTimeout, null, null);
            var run = await EmulatorRunner.RunAsync(["run", "--code-cache", _dir, guest.Binary, .. args]);
            StaticGuestTests.AssertSameOutput("stdout", "native stdout", native.Stdout, run.Stdout, run);
            Assert.Equal(native.ExitCode, run.ExitCode);
            Assert.True(Marks().Length == (marked ? 1 : 0), $"after a run with [{string.Join(' ', args)}]: marks {string.Join(", ", Marks().Select(Path.GetFileName))}");
        }
    }

    /// <summary>LEGOEMU_CODE_CACHE sets the cache of a run without options too (it takes a path that skips the option parser).</summary>
    [Fact]
    public async Task TheEnvironmentVariableServesARunWithoutOptions()
    {
        var spec = Guests.Get("sieve");
        var native = await builds.NativeRunAsync(spec);
        var env = new Dictionary<string, string?> { ["LEGOEMU_CODE_CACHE"] = _dir };
        var run = await EmulatorRunner.RunAsync(["run", builds.Binary("sieve"), .. spec.Arguments], env);
        StaticGuestTests.AssertSameOutput("stdout", "native stdout", native.Stdout, run.Stdout, run);
        Assert.True(Directory.Exists(_dir) && Directory.GetFiles(_dir, "*.idx").Length == 1, $"no entry saved in {_dir}:\n{run.StderrTail()}");
    }

    [Fact]
    public async Task ACorruptIndexIsIgnoredAndWrittenAgain()
    {
        var spec = Guests.Get("sieve");
        var binary = builds.Binary("sieve");
        var native = await builds.NativeRunAsync(spec);
        var first = await Run([], binary, []);
        Assert.True(first.Saved > 0, first.Result.StderrTail());
        foreach (var index in Directory.GetFiles(_dir, "*.idx"))
        {
            var bytes = File.ReadAllBytes(index);
            File.WriteAllBytes(index, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        }
        var second = await Run([], binary, []);
        StaticGuestTests.AssertSameOutput("stdout over a corrupt index", "native stdout", native.Stdout, second.Result.Stdout, second.Result);
        Assert.Equal(0, second.Found);
        Assert.True(second.Saved > 0, $"the entry was not written again:\n{second.Line}");
        var third = await Run([], binary, []);
        Assert.True(third.Used > 0, third.Line);
    }

    /// <summary>A writer killed mid-save leaves its temporary files; the next save removes those whose writer is gone, and no others.</summary>
    [Fact]
    public async Task TheTemporaryFilesOfAWriterThatDiedAreRemoved()
    {
        Directory.CreateDirectory(_dir);
        string dead = Path.Combine(_dir, ".legoemu-code-0123-abcd.2147483647.il.dll");
        string alive = Path.Combine(_dir, $".legoemu-code-0123-abcd.{Environment.ProcessId}.il.dll");
        File.WriteAllText(dead, "cut short");
        File.WriteAllText(alive, "being written");
        var run = await Run([], builds.Binary("sieve"), []);
        Assert.True(run.Saved > 0, run.Result.StderrTail());
        Assert.False(File.Exists(dead), "the dead writer's file is still there");
        Assert.True(File.Exists(alive), "a live writer's file was removed");
    }

    [Fact]
    public async Task ACacheDirectoryThatCannotBeMadeCostsOneLineAndNotTheRun()
    {
        Directory.CreateDirectory(_dir);
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "");
        var spec = Guests.Get("sieve");
        var native = await builds.NativeRunAsync(spec);
        var run = await EmulatorRunner.RunAsync("run", "--code-cache", Path.Combine(file, "below"), "--translate-threshold", "100", builds.Binary("sieve"));
        StaticGuestTests.AssertSameOutput("stdout", "native stdout", native.Stdout, run.Stdout, run);
        Assert.Equal(native.ExitCode, run.ExitCode);
        var lines = run.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith("legoemu: code cache: cannot write the code cache in ", StringComparison.Ordinal),
            $"expected one line about the cache directory:\n{run.StderrText}");
    }

    [Fact]
    public async Task AFileGivenAsTheCacheDirectoryIsRefused()
    {
        Directory.CreateDirectory(_dir);
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "");
        var run = await EmulatorRunner.RunAsync("run", "--code-cache", file, builds.Binary("hello"));
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("bad --code-cache", run.StderrText);
        Assert.DoesNotContain("   at ", run.StderrText);
        Assert.Empty(run.Stdout);
    }

    sealed record CacheRun(ProcessResult Result, string Line, long Found, long Used, long Stale, long Saved, long Instructions, long Accesses);

    /// <summary>A run with the cache and a low threshold (so short guests compile regions), and what --stats says of it.</summary>
    async Task<CacheRun> Run(string[] options, string binary, string[] arguments)
    {
        var result = await EmulatorRunner.RunAsync(
            new[] { "run", "--stats", "--code-cache", _dir, "--translate-threshold", "100" }.Concat(options).Append(binary).Concat(arguments),
            Guests.Environment, Guests.EnvironmentPrefixToClear);
        string text = result.StderrText;
        Assert.False(result.TimedOut, result.ToString());
        Assert.DoesNotContain("legoemu: code cache:", text);
        var m = CacheLine().Match(text);
        Assert.True(m.Success, $"--stats has no code cache line:\n{result.StderrTail()}");
        long saved = m.Groups[5].Success ? Number(m.Groups[5].Value) : 0;
        return new CacheRun(result, m.Value, Number(m.Groups[1].Value), Number(m.Groups[2].Value), Number(m.Groups[3].Value), saved,
            Number(InstructionsLine().Match(text).Groups[1].Value), Number(AccessesLine().Match(text).Groups[1].Value));
    }

    static long Number(string text) => long.Parse(text.Replace(",", ""), CultureInfo.InvariantCulture);

    [GeneratedRegex(@"legoemu: code cache\s+\S+: ([\d,]+) regions found, ([\d,]+) used \(bound in [\d.]+ s\), ([\d,]+) stale; (none saved|([\d,]+) saved)")]
    private static partial Regex CacheLine();

    [GeneratedRegex(@"legoemu\[\d+\]: code cache\s+\S+: ([\d,]+) regions found, ([\d,]+) used \(bound in [\d.]+ s\), [\d,]+ stale; (none saved|([\d,]+) saved)")]
    private static partial Regex ForkedCacheLine();

    [GeneratedRegex(@"legoemu: guest instructions\s+([\d,]+)")]
    private static partial Regex InstructionsLine();

    [GeneratedRegex(@"legoemu: memory accesses\s+([\d,]+)")]
    private static partial Regex AccessesLine();
}
