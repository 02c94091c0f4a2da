using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Abi;

/// <summary>gcc runs under LegoEmu end to end (driver, cc1, as, collect2 and ld each emulated via fork/exec); its output runs natively.</summary>
public sealed class CompilerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-gcc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task GccBuildsAProgramThatRunsNatively()
    {
        string src = Path.Combine(_dir, "hello.c"), exe = Path.Combine(_dir, "hello");
        File.WriteAllText(src, "#include <stdio.h>\nint main(int argc, char **argv) { printf(\"built under legoemu: %d %s\\n\", argc, argv[1]); return 5; }\n");
        Assert.True(File.Exists("/usr/bin/gcc"), "gcc is not installed");
        var build = await EmulatorRunner.RunAsync("run", "/usr/bin/gcc", "-O2", "-o", exe, src);
        Assert.True(build.ExitCode == 0, $"gcc under legoemu failed ({build.ExitCode}):\n{build.StderrTail()}");
        var run = await ProcessRunner.RunAsync(exe, ["x"], TimeSpan.FromSeconds(30));
        Assert.Equal(5, run.ExitCode);
        Assert.Equal("built under legoemu: 2 x\n", run.StdoutText);
    }
}
