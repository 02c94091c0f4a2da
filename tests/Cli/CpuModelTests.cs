using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Cli;

/// <summary>
/// <c>run --cpu v1|v2|v3</c>: CPUID and /proc/cpuinfo advertise the level, forked children keep it, and
/// instructions above it behave as on such a machine (SIGILL, or BSF for TZCNT). Not differential: the
/// host is one machine, above all of these levels.
/// </summary>
public class CpuModelTests
{
    const string Source = """
        #include <cpuid.h>
        #include <signal.h>
        #include <stdio.h>
        #include <string.h>
        #include <stdint.h>
        #include <sys/wait.h>
        #include <unistd.h>
        static void features(const char *who)
        {
            unsigned a, b, c, d, b7 = 0, c7, d7, xc = 0, xd;
            __cpuid(1, a, b, c, d);
            __cpuid_count(7, 0, a, b7, c7, d7);
            __cpuid(0x80000001, a, b, xc, xd);
            printf("%s sse3=%u ssse3=%u sse4.2=%u popcnt=%u cx16=%u pclmul=%u aes=%u movbe=%u avx=%u lahf=%u lzcnt=%u bmi1=%u bmi2=%u avx2=%u\n", who,
                   c & 1, c >> 9 & 1, c >> 20 & 1, c >> 23 & 1, c >> 13 & 1, c >> 1 & 1, c >> 25 & 1, c >> 22 & 1, c >> 28 & 1,
                   xc & 1, xc >> 5 & 1, b7 >> 3 & 1, b7 >> 8 & 1, b7 >> 5 & 1);
        }
        int main(int argc, char **argv)
        {
            const char *what = argc > 1 ? argv[1] : "";
            if (!strcmp(what, "cpuid"))
            {
                features("parent");
                fflush(stdout);
                pid_t pid = fork();
                if (pid == 0)
                {
                    features("child");
                    fflush(stdout);
                    /* A grandchild's component is started by the child's: it must keep the model too. */
                    pid_t grandchild = fork();
                    if (grandchild == 0) { features("grandchild"); return 0; }
                    int gst;
                    waitpid(grandchild, &gst, 0);
                    return 0;
                }
                int st;
                waitpid(pid, &st, 0);
                char line[4096];
                FILE *f = fopen("/proc/cpuinfo", "r");
                while (fgets(line, sizeof line, f))
                    if (!strncmp(line, "flags", 5)) { printf("bmi2 in cpuinfo: %d\n", strstr(line, " bmi2") != NULL); break; }
                return 0;
            }
            uint64_t r = 77, src = 0, flags;
            if (!strcmp(what, "tzcnt")) __asm__ volatile("tzcnt %2, %0\n pushfq\n pop %1" : "+r"(r), "=r"(flags) : "r"(src) : "cc");
            else if (!strcmp(what, "lzcnt")) __asm__ volatile("lzcnt %2, %0\n pushfq\n pop %1" : "+r"(r), "=r"(flags) : "r"(src) : "cc");
            else if (!strcmp(what, "andn")) __asm__ volatile("andn %2, %2, %0\n pushfq\n pop %1" : "+r"(r), "=r"(flags) : "r"(src) : "cc");
            else if (!strcmp(what, "popcnt")) __asm__ volatile("popcnt %2, %0\n pushfq\n pop %1" : "+r"(r), "=r"(flags) : "r"(src) : "cc");
            else if (!strcmp(what, "movbe")) __asm__ volatile("test %0, %0\n movbe %2, %0\n pushfq\n pop %1" : "+r"(r), "=r"(flags) : "m"(src) : "cc");
            else if (!strcmp(what, "xgetbv")) __asm__ volatile("xor %%ecx, %%ecx\n xgetbv\n shl $32, %%rdx\n or %%rdx, %%rax\n mov %%rax, %0\n pushfq\n pop %1" : "=r"(r), "=r"(flags) : : "rax", "rcx", "rdx", "cc");
            else if (!strcmp(what, "vzeroupper")) __asm__ volatile("vzeroupper\n xor %0, %0\n pushfq\n pop %1" : "=r"(r), "=r"(flags) : : "cc");
            else if (!strcmp(what, "aesenc")) __asm__ volatile("pxor %%xmm0, %%xmm0\n aesenc %%xmm0, %%xmm0\n movq %%xmm0, %0\n xor %1, %1" : "=r"(r), "=r"(flags) : : "xmm0");
            else if (!strcmp(what, "vaesenc256")) __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n vaesenc %%ymm0, %%ymm0, %%ymm0\n vmovq %%xmm0, %0\n xor %1, %1" : "=r"(r), "=r"(flags) : : "xmm0");
            else if (!strcmp(what, "lahf")) __asm__ volatile("xor %%eax, %%eax\n lahf\n movzbl %%ah, %%eax\n mov %%rax, %0\n pushfq\n pop %1" : "=r"(r), "=r"(flags) : : "rax", "cc");
            printf("%s %llu zf=%llu\n", what, (unsigned long long)r, (unsigned long long)(flags >> 6 & 1));
            return 0;
        }
        """;

    static async Task<(int Exit, string Out)> Run(InlineGuest guest, string level, string what)
    {
        var r = await EmulatorRunner.RunAsync("run", "--cpu", level, guest.Binary, what);
        return (r.ExitCode, r.StdoutText);
    }

    [Fact]
    public async Task CpuidAdvertisesTheLevelAndForkedDescendantsKeepIt()
    {
        using var guest = await InlineGuest.BuildAsync("cpumodel", Source);
        const string v1 = "sse3=0 ssse3=0 sse4.2=0 popcnt=0 cx16=0 pclmul=0 aes=0 movbe=0 avx=0 lahf=0 lzcnt=0 bmi1=0 bmi2=0 avx2=0";
        const string v2 = "sse3=1 ssse3=1 sse4.2=1 popcnt=1 cx16=1 pclmul=0 aes=0 movbe=0 avx=0 lahf=1 lzcnt=0 bmi1=0 bmi2=0 avx2=0";
        const string v3 = "sse3=1 ssse3=1 sse4.2=1 popcnt=1 cx16=1 pclmul=1 aes=1 movbe=1 avx=1 lahf=1 lzcnt=1 bmi1=1 bmi2=1 avx2=1";
        foreach (var (level, bits) in new[] { ("v1", v1), ("v2", v2), ("v3", v3) })
        {
            var (exit, text) = await Run(guest, level, "cpuid");
            Assert.Equal(0, exit);
            Assert.Equal($"parent {bits}\nchild {bits}\ngrandchild {bits}\nbmi2 in cpuinfo: {(level == "v3" ? 1 : 0)}\n", text);
        }
        var plain = await EmulatorRunner.RunAsync("run", guest.Binary, "cpuid");
        Assert.StartsWith($"parent {v3}\n", plain.StdoutText);
    }

    [Fact]
    public async Task InstructionsAboveTheLevelActAsOnSuchAMachine()
    {
        using var guest = await InlineGuest.BuildAsync("cpumodel", Source);
        // Without BMI1/ABM, TZCNT and LZCNT are BSF and BSR: a zero source sets ZF and leaves the destination alone.
        Assert.Equal((0, "tzcnt 77 zf=1\n"), await Run(guest, "v2", "tzcnt"));
        Assert.Equal((0, "lzcnt 77 zf=1\n"), await Run(guest, "v1", "lzcnt"));
        Assert.Equal((0, "tzcnt 64 zf=0\n"), await Run(guest, "v3", "tzcnt"));
        Assert.Equal((0, "lzcnt 64 zf=0\n"), await Run(guest, "v3", "lzcnt"));
        Assert.Equal((0, "andn 0 zf=1\n"), await Run(guest, "v3", "andn"));
        Assert.Equal((0, "movbe 0 zf=0\n"), await Run(guest, "v3", "movbe"));
        Assert.Equal((0, "popcnt 0 zf=1\n"), await Run(guest, "v2", "popcnt"));
        Assert.Equal((0, "lahf 70 zf=1\n"), await Run(guest, "v2", "lahf"));
        Assert.Equal((0, "xgetbv 7 zf=0\n"), await Run(guest, "v3", "xgetbv"));
        Assert.Equal((0, "vzeroupper 0 zf=1\n"), await Run(guest, "v3", "vzeroupper"));
        Assert.Equal((0, "aesenc 7161677110969590627 zf=0\n"), await Run(guest, "v3", "aesenc"));
        foreach (var (level, what) in new[] { ("v2", "andn"), ("v2", "movbe"), ("v1", "popcnt"), ("v1", "lahf"), ("v2", "xgetbv"), ("v2", "vzeroupper"), ("v2", "aesenc"), ("v3", "vaesenc256") })
        {
            var (exit, text) = await Run(guest, level, what);
            Assert.True(exit == 128 + 4 && text == "", $"{what} at {level}: exit {exit}, stdout '{text}' (expected SIGILL)");
        }
    }

    [Fact]
    public async Task AnUnknownLevelIsRefused()
    {
        var r = await EmulatorRunner.RunAsync("run", "--cpu", "v4", "/bin/true");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("'v4' not recognized", r.StderrText);
        Assert.DoesNotContain("   at ", r.StderrText);
    }
}
