using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>
/// Every way a guest can count CPUs (sched_getaffinity, get_nprocs, sysconf, /proc/cpuinfo) gives
/// one CPU per processor component its threads may run on. This cannot be differential: the host's
/// count is its own.
/// </summary>
public class CpuCountTests
{
    const string Source = """
        #define _GNU_SOURCE
        #include <sched.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/sysinfo.h>
        #include <unistd.h>
        int main(void)
        {
            cpu_set_t s;
            CPU_ZERO(&s);
            sched_getaffinity(0, sizeof s, &s);
            FILE *f = fopen("/proc/cpuinfo", "r");
            char line[512];
            int n = 0;
            while (f && fgets(line, sizeof line, f)) if (!strncmp(line, "processor", 9)) n++;
            printf("%d %d %ld %ld %d\n", CPU_COUNT(&s), get_nprocs(), sysconf(_SC_NPROCESSORS_CONF), sysconf(_SC_NPROCESSORS_ONLN), n);
            return 0;
        }
        """;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task AllCpuCountsAgree(int processors)
    {
        using var guest = await InlineGuest.BuildAsync("cpus", Source);
        var r = await EmulatorRunner.RunAsync("run", "--processors", processors.ToString(), guest.Binary);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(string.Join(' ', Enumerable.Repeat(processors, 5)) + "\n", r.StdoutText);
    }
}
