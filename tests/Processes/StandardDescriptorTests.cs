using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Processes;

/// <summary>
/// A guest that points its stdin and stdout at /dev/null (as a shell's redirection does) releases the host's
/// descriptors 0 and 1 under it. No host process of the run may then hold anything of its own there: a component
/// points 0-2 at /dev/null between guests, which silently replaced what sat there. Descriptors the .NET runtime
/// opened at the start of a forked child's component (its own wake-up pipe, whose thread then spun on /dev/null)
/// and the fork state file landed in such gaps. While a child and a grandchild of the guest are alive, every
/// processor component of the run and the run itself must have /dev/null as 0 and 1, as the guests do natively.
/// </summary>
public sealed class StandardDescriptorTests
{
    const string Source = """
        #include <fcntl.h>
        #include <sys/wait.h>
        #include <unistd.h>
        int main(int argc, char **argv)
        {
            if (argc != 3) return 1;
            int null = open("/dev/null", O_RDWR);
            if (null < 0 || dup2(null, 0) != 0 || dup2(null, 1) != 1) return 2;
            close(null);
            pid_t c = fork();
            if (c < 0) return 3;
            if (c == 0)
            {
                pid_t g = fork();
                if (g < 0) _exit(4);
                if (g == 0)
                {
                    close(open(argv[1], O_WRONLY | O_CREAT, 0600));
                    while (access(argv[2], F_OK) != 0) usleep(10000);
                    _exit(7);
                }
                int gs;
                _exit(waitpid(g, &gs, 0) == g && WIFEXITED(gs) && WEXITSTATUS(gs) == 7 ? 42 : 5);
            }
            int st;
            if (waitpid(c, &st, 0) != c || !WIFEXITED(st)) return 6;
            return WEXITSTATUS(st) == 42 ? 0 : 10 + WEXITSTATUS(st);
        }
        """;

    public static TheoryData<string> Configurations() => new() { "default", "pool0", "memnodes" };

    [Theory]
    [MemberData(nameof(Configurations))]
    public async Task ComponentsKeepNothingOfTheirOwnOnFreedStandardDescriptors(string config)
    {
        string[] options = config switch
        {
            "pool0" => ["--pool", "0"],
            "memnodes" => ["--memory-nodes", "2", "--excache", "64K"],
            _ => [],
        };
        using var guest = await InlineGuest.BuildAsync("freed_stdio_gaps", Source);
        string dir = Path.GetDirectoryName(guest.Binary)!, ready = Path.Combine(dir, "ready"), go = Path.Combine(dir, "go");
        string mark = $"legoemu-stdio-{Guid.NewGuid():N}";
        var env = new Dictionary<string, string?> { ["LEGOEMU_TEST_MARK"] = mark };
        var run = EmulatorRunner.RunAsync(["run", .. options, guest.Binary, ready, go], env);
        var problems = new List<string>();
        try
        {
            var deadline = DateTime.UtcNow + MachineLoad.Scale(TimeSpan.FromSeconds(60));
            while (!File.Exists(ready) && !run.IsCompleted && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.True(File.Exists(ready), "the grandchild never started");
            foreach (int pid in ComponentReuseTests.ProcessesMarked(mark))
            {
                string cmdline;
                try { cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim(); }
                catch (IOException) { continue; }
                // Memory nodes start before the guest runs and are not processor components.
                if (cmdline.Contains(" memnode ", StringComparison.Ordinal)) continue;
                for (int fd = 0; fd < 2; fd++)
                {
                    string target;
                    try { target = new FileInfo($"/proc/{pid}/fd/{fd}").LinkTarget ?? "closed"; }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { target = "closed"; }
                    if (!Directory.Exists($"/proc/{pid}")) continue;
                    if (target != "/dev/null") problems.Add($"{pid} ({cmdline}): descriptor {fd} is {target}");
                }
            }
        }
        finally
        {
            File.WriteAllText(go, "");
        }
        var result = await run;
        Assert.True(result.ExitCode == 0, $"exit status {result.ExitCode}\n{result.StderrTail()}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
