using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Robustness;

/// <summary>
/// A TMPDIR the emulator cannot use for its own files (missing, not a directory, full) costs one line, never
/// a stack trace, and leaves nothing behind; a fork that needed it fails with EAGAIN in the guest.
/// </summary>
[Collection(GuestCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TmpdirTests(GuestBuilds builds)
{
    const string ForkSource = """
        #include <stdio.h>
        #include <sys/wait.h>
        #include <unistd.h>
        int main(void) {
            pid_t p = fork();
            if (p < 0) { perror("fork"); return 3; }
            if (p == 0) return 5;
            int st;
            waitpid(p, &st, 0);
            printf("child %d\n", WEXITSTATUS(st));
            return 0;
        }
        """;

    static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Theory]
    [InlineData("/nonexistent/legoemu-tmp")]
    [InlineData("/etc/hostname")]
    public async Task UnusableTmpdirIsOneLine(string tmpdir)
    {
        var env = new Dictionary<string, string?> { ["TMPDIR"] = tmpdir };
        var nodes = await EmulatorRunner.RunAsync(["run", "--memory-nodes", "1", builds.Binary("hello")], env);
        Assert.Equal(71, nodes.ExitCode);
        var line = Assert.Single(Lines(nodes.StderrText));
        Assert.StartsWith("legoemu: cannot create a directory in TMPDIR", line);

        using var guest = await InlineGuest.BuildAsync("tmpfork", ForkSource);
        var fork = await EmulatorRunner.RunAsync(["run", guest.Binary], env);
        Assert.Equal(3, fork.ExitCode);
        Assert.Equal(["fork: Resource temporarily unavailable"], Lines(fork.StderrText).Where(l => l.StartsWith("fork:")));
        Assert.Single(Lines(fork.StderrText), l => l.StartsWith("legoemu: fork: cannot create a directory in TMPDIR"));
        Assert.DoesNotContain("   at ", fork.StderrText);
    }

    /// <summary>A full TMPDIR (a tiny tmpfs, where this machine lets a test mount one) leaves no partial fork file.</summary>
    [Fact]
    public async Task FullTmpdirLeavesNothingBehind()
    {
        string dir = Directory.CreateTempSubdirectory("legoemu-full-").FullName;
        bool mounted = false;
        try
        {
            var mount = await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=8k", "tmpfs", dir], TimeSpan.FromSeconds(30));
            mounted = mount.ExitCode == 0;
            // Without the right to mount, a directory nobody may write to stands in for a full one (not for root).
            if (!mounted) File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            else File.WriteAllBytes(Path.Combine(dir, "filler"), new byte[8192]);
            var before = Directory.GetFileSystemEntries(dir).Order().ToArray();
            using var guest = await InlineGuest.BuildAsync("fullfork", ForkSource);
            var env = new Dictionary<string, string?> { ["TMPDIR"] = dir };
            var fork = await EmulatorRunner.RunAsync(["run", guest.Binary], env);
            // A fork handed to a component started ahead (a guest that ran 30 ms gets one) needs nothing in TMPDIR and
            // succeeds as it would natively; one that needs TMPDIR fails cleanly.
            if ((mounted || Environment.UserName != "root") && fork.ExitCode != 0)
            {
                Assert.Equal(3, fork.ExitCode);
                Assert.Single(Lines(fork.StderrText), l => l.StartsWith("legoemu: fork: cannot"));
            }
            else if (fork.ExitCode == 0) Assert.Equal("child 5\n", fork.StdoutText);
            Assert.DoesNotContain("   at ", fork.StderrText);
            Assert.Equal(before, Directory.GetFileSystemEntries(dir).Order().ToArray());
        }
        finally
        {
            if (mounted) await ProcessRunner.RunAsync("umount", [dir], TimeSpan.FromSeconds(30));
            else File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(dir, recursive: true);
        }
    }
}
