using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>
/// Every way a guest can count CPUs (sched_getaffinity, get_nprocs, sysconf, /proc/cpuinfo) gives
/// the one CPU its processor component runs it on. This cannot be differential: the host has more.
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

    [Fact]
    public async Task AllCpuCountsAgree()
    {
        using var guest = await InlineGuest.BuildAsync("cpus", Source);
        var r = await EmulatorRunner.RunAsync("run", guest.Binary);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("1 1 1 1 1\n", r.StdoutText);
    }
}
