using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Processes;

/// <summary>
/// Processor components outlive their guest processes and run the next child of the same parent. A shell loop
/// that reuses them must print what it prints natively, and when the run is over no component may be left,
/// including those of children that exited and were never reaped (the shell becomes sleep, which never waits).
/// </summary>
public sealed class ComponentReuseTests
{
    const string Script = """
        i=0
        while [ $i -lt 12 ]; do
          out=$(echo "round $i")
          /bin/true
          ( exit $((i % 5)) ); st=$?
          echo "$out status $st"
          i=$((i + 1))
        done
        ( exit 7 ) & wait $!; echo "background status $?"
        cat /dev/null | ( read x; echo "pipe read status $?" )
        ( exit 5 ) &
        exec /bin/sleep 0.1
        """;

    [Fact]
    public async Task ShellLoopMatchesNativeAndLeavesNoComponent()
    {
        string mark = $"legoemu-reuse-{Guid.NewGuid():N}";
        var env = new Dictionary<string, string?> { ["LEGOEMU_TEST_MARK"] = mark };
        var native = await ProcessRunner.RunAsync("/bin/sh", ["-c", Script], TimeSpan.FromSeconds(60), env);
        Assert.True(native.ExitCode == 0 && native.StdoutText.Length > 0, $"the native run failed: {native.StderrTail()}");
        var emulated = await EmulatorRunner.RunAsync(["run", "/bin/sh", "-c", Script], env);
        Assert.True(emulated.ExitCode == 0, $"exit status {emulated.ExitCode}\n{emulated.StderrTail()}");
        Assert.Equal(native.StdoutText, emulated.StdoutText);
        // Components end with the run; allow the kernel a moment to take them away.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(Math.Max(5, EmulatorRunner.RunTimeout.TotalSeconds / 10));
        List<int> left;
        while ((left = ProcessesMarked(mark)).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(left.Count == 0, $"processes of the run are still there: {string.Join(", ", left.Select(Describe))}");
    }

    /// <summary>
    /// A parent with a read-only shared file mapping (glibc maps its gconv cache so, and a compiler driver has it)
    /// forks children that exec: each child joins the line directory at its fork and leaves it at its execve, so
    /// its component outlives it and the next child runs on it (the kernel's pid comes back). Stdout matches
    /// native; the pids the parent saw, on stderr, show the reuse.
    /// </summary>
    [Fact]
    public async Task ChildThatExecedAfterInheritingSharedMappingLeavesItsComponentReusable()
    {
        const string source = """
            #include <fcntl.h>
            #include <stdio.h>
            #include <sys/mman.h>
            #include <sys/wait.h>
            #include <unistd.h>
            int main(int argc, char **argv)
            {
                int fd = open(argv[0], O_RDONLY);
                const unsigned char *m = mmap(0, 4096, PROT_READ, MAP_SHARED, fd, 0);
                if (fd < 0 || m == MAP_FAILED) return 1;
                for (int i = 0; i < 4; i++)
                {
                    pid_t c = fork();
                    if (c == 0) { execl("/bin/true", "true", (char *)0); _exit(127); }
                    int st;
                    if (waitpid(c, &st, 0) != c) return 2;
                    printf("child %d exited %d, mapping starts %c%c%c\n", i, WEXITSTATUS(st), m[1], m[2], m[3]);
                    fprintf(stderr, "pid %d\n", (int)c);
                }
                return 0;
            }
            """;
        using var guest = await InlineGuest.BuildAsync("shared_exec_reuse", source);
        var native = await ProcessRunner.RunAsync(guest.Binary, [], TimeSpan.FromSeconds(60));
        Assert.True(native.ExitCode == 0, $"the native run failed: {native.StderrTail()}");
        var emulated = await EmulatorRunner.RunAsync("run", guest.Binary);
        Assert.True(emulated.ExitCode == 0, $"exit status {emulated.ExitCode}\n{emulated.StderrTail()}");
        Assert.Equal(native.StdoutText, emulated.StdoutText);
        var pids = emulated.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("pid ", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, pids.Count);
        // The first child's component may be one started ahead and the second one then another; from there on each
        // child takes the component the one before it left.
        Assert.True(pids[2] == pids[3], $"the last two children ran on different components: {string.Join(", ", pids)}");
    }

    /// <summary>
    /// A compiler driver's shape one level down: a child maps a file read-only and shared, forks a grandchild that
    /// execs, reaps it and exits. The child joined the line directory at its fork but only ever read shared lines, so
    /// it leaves the directory at its exit and its component runs the next child (the pid comes back).
    /// </summary>
    [Fact]
    public async Task ParentThatOnlyReadSharedMemoryLeavesItsComponentReusable()
    {
        const string source = """
            #include <fcntl.h>
            #include <stdio.h>
            #include <sys/mman.h>
            #include <sys/wait.h>
            #include <unistd.h>
            static int driver(const char *self)
            {
                int fd = open(self, O_RDONLY);
                const unsigned char *m = mmap(0, 4096, PROT_READ, MAP_SHARED, fd, 0);
                if (fd < 0 || m == MAP_FAILED) return 1;
                pid_t c = fork();
                if (c == 0) { execl("/bin/true", "true", (char *)0); _exit(127); }
                int st;
                return waitpid(c, &st, 0) == c && WIFEXITED(st) && m[1] == 'E' ? WEXITSTATUS(st) : 2;
            }
            int main(int argc, char **argv)
            {
                for (int i = 0; i < 4; i++)
                {
                    pid_t c = fork();
                    if (c == 0) _exit(driver(argv[0]));
                    int st;
                    if (waitpid(c, &st, 0) != c) return 3;
                    printf("driver %d exited %d\n", i, WEXITSTATUS(st));
                    fprintf(stderr, "pid %d\n", (int)c);
                }
                return 0;
            }
            """;
        using var guest = await InlineGuest.BuildAsync("shared_reader_reuse", source);
        var native = await ProcessRunner.RunAsync(guest.Binary, [], TimeSpan.FromSeconds(60));
        Assert.True(native.ExitCode == 0, $"the native run failed: {native.StderrTail()}");
        var emulated = await EmulatorRunner.RunAsync("run", guest.Binary);
        Assert.True(emulated.ExitCode == 0, $"exit status {emulated.ExitCode}\n{emulated.StderrTail()}");
        Assert.Equal(native.StdoutText, emulated.StdoutText);
        var pids = emulated.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("pid ", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, pids.Count);
        Assert.True(pids[2] == pids[3], $"the last two children ran on different components: {string.Join(", ", pids)}");
    }

    /// <summary>
    /// Children that write memory shared with their parent, while the parent writes the same lines, leave the line
    /// directory at their exit and their components run the next child (the pid comes back). Nothing written is
    /// lost and nobody waits: a holder leaving the directory may answer an invalidation with its dirty line after its
    /// address space is gone, which the node once took for an error that left the parent's fill waiting for ever.
    /// </summary>
    [Fact]
    public async Task ChildrenThatWroteSharedMemoryLeaveTheirComponentsReusable()
    {
        const string source = """
            #include <stdio.h>
            #include <sys/mman.h>
            #include <sys/wait.h>
            #include <unistd.h>
            int main(void)
            {
                long *c = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
                long expect = 0;
                for (int r = 0; r < 12; r++)
                {
                    pid_t p = fork();
                    if (p == 0)
                    {
                        for (int i = 0; i < 200; i++)
                            for (int k = 0; k < 3; k++) __atomic_fetch_add(&c[k * 512], 1, __ATOMIC_SEQ_CST);
                        _exit(0);
                    }
                    expect += 200;
                    int st;
                    while (waitpid(p, &st, WNOHANG) == 0)
                    {
                        for (int k = 0; k < 3; k++) __atomic_fetch_add(&c[k * 512], 1, __ATOMIC_SEQ_CST);
                        expect++;
                    }
                    printf("child %d exited %d\n", r, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
                    fprintf(stderr, "pid %d\n", (int)p);
                }
                for (int k = 0; k < 3; k++) printf("line %d %s\n", k, c[k * 512] == expect ? "exact" : "lost writes");
                return 0;
            }
            """;
        using var guest = await InlineGuest.BuildAsync("shared_writer_reuse", source);
        var native = await ProcessRunner.RunAsync(guest.Binary, [], TimeSpan.FromSeconds(60));
        Assert.True(native.ExitCode == 0, $"the native run failed: {native.StderrTail()}");
        var emulated = await EmulatorRunner.RunAsync("run", guest.Binary);
        Assert.True(emulated.ExitCode == 0, $"exit status {emulated.ExitCode}\n{emulated.StderrTail()}");
        Assert.Equal(native.StdoutText, emulated.StdoutText);
        var pids = emulated.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("pid ", StringComparison.Ordinal)).ToList();
        Assert.Equal(12, pids.Count);
        Assert.True(pids[^2] == pids[^1], $"the last two children ran on different components: {string.Join(", ", pids)}");
    }

    /// <summary>
    /// Private file mappings in children that run one after another on reused components (whose page cache, parsed
    /// programs and ExCache storage outlive each guest): every child sees the version of the file written before it
    /// started, its writes to a private mapping reach neither the file nor its other mapping, before its execve (memory
    /// reached over the parent's socket) and after it (memory of its own).
    /// </summary>
    [Fact]
    public async Task PrivateFileMappingsSeeEachVersionOfTheFileOnReusedComponents()
    {
        const string source = """
            #include <fcntl.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            #include <sys/mman.h>
            #include <sys/wait.h>
            #include <unistd.h>
            #define SIZE 12288
            /* Maps the file twice, privately; writes into the first; returns a line of what each showed. */
            static void probe(const char *path, const char *when)
            {
                int fd = open(path, O_RDONLY);
                char *a = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
                char *b = mmap(0, SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
                if (fd < 0 || a == MAP_FAILED || b == MAP_FAILED) { printf("%s: map failed\n", when); exit(1); }
                char before[4] = { a[0], a[5000], a[SIZE - 1], 0 };
                memset(a, 'w', SIZE);
                char file[4] = { 0 };
                pread(fd, file, 1, 5000);
                printf("%s: saw %s, other mapping %c%c, file %c, written %c\n", when, before, b[0], b[SIZE - 1], file[0], a[4096]);
                munmap(a, SIZE);
                munmap(b, SIZE);
                close(fd);
            }
            int main(int argc, char **argv)
            {
                setvbuf(stdout, NULL, _IONBF, 0);
                if (argc == 3) { probe(argv[2], "after exec"); return 0; }
                char path[] = "/tmp/legoemu-file-pages-XXXXXX";
                int fd = mkstemp(path);
                char *buf = malloc(SIZE);
                for (int round = 0; round < 8; round++)
                {
                    memset(buf, 'a' + round, SIZE);
                    if (pwrite(fd, buf, SIZE, 0) != SIZE) return 2;
                    pid_t c = fork();
                    if (c == 0)
                    {
                        probe(path, "before exec");
                        execl(argv[0], argv[0], "child", path, (char *)0);
                        _exit(127);
                    }
                    int st;
                    if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 3;
                }
                unlink(path);
                return 0;
            }
            """;
        using var guest = await InlineGuest.BuildAsync("file_pages_reuse", source);
        var native = await ProcessRunner.RunAsync(guest.Binary, [], TimeSpan.FromSeconds(60));
        Assert.True(native.ExitCode == 0, $"the native run failed: {native.StderrTail()}");
        var emulated = await EmulatorRunner.RunAsync("run", guest.Binary);
        Assert.True(emulated.ExitCode == 0, $"exit status {emulated.ExitCode}\n{emulated.StderrTail()}");
        Assert.Equal(native.StdoutText, emulated.StdoutText);
    }

    /// <summary>This user's processes whose environment holds the mark.</summary>
    internal static List<int> ProcessesMarked(string mark)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                if (System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, "environ"))).Contains(mark, StringComparison.Ordinal))
                    found.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return found;
    }

    static string Describe(int pid)
    {
        try { return $"{pid} ({File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim()})"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return pid.ToString(); }
    }
}
