using LegoEmu.Cluster.Cli;
using Xunit;

namespace LegoEmu.Tests.Processes;

/// <summary>The forked-process options a parent writes are read back exactly; anything else is refused with a reason.</summary>
public sealed class ForkedOptionsTests
{
    [Fact]
    public void ReadsWhatAParentWrites()
    {
        var o = ForkedOptions.Parse(["--pool-socket", "3", "--memory", "unix:/tmp/m.sock,tcp:127.0.0.1:7001", "--excache", "65536", "--ways", "2", "--line", "64", "--policy", "lru", "--pool", "2",
            "--strace", "--trace", "/tmp/t.trace", "--trace-level", "accesses", "--trace-sample", "0.01"], out string error);
        Assert.NotNull(o);
        Assert.Equal("", error);
        Assert.Equal(new ForkedOptions
        {
            PoolSocket = 3, Memory = "unix:/tmp/m.sock,tcp:127.0.0.1:7001", Excache = 65536, Ways = 2, Line = 64, Policy = "lru", Pool = 2, Strace = true, Trace = "/tmp/t.trace",
            TraceLevel = "accesses", TraceSample = "0.01",
        }, o);
    }

    [Theory]
    [InlineData(new[] { "--excache", "1024" }, "give exactly one of --state-fd FD and --pool-socket FD")]
    [InlineData(new[] { "--state-fd", "3", "--pool-socket", "4" }, "give exactly one of --state-fd FD and --pool-socket FD")]
    [InlineData(new[] { "--state-fd", "x" }, "bad value 'x' for --state-fd")]
    [InlineData(new[] { "--state-fd", "3", "--bogus", "1" }, "unknown option --bogus")]
    [InlineData(new[] { "--state-fd" }, "option --state-fd needs a value")]
    [InlineData(new[] { "--state-fd", "3", "--pool", "-1" }, "bad value '-1' for --pool")]
    public void RefusesWithAReason(string[] args, string reason)
    {
        Assert.Null(ForkedOptions.Parse(args, out string error));
        Assert.Equal(reason, error);
    }
}
