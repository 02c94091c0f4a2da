using System.Diagnostics;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Robustness;

/// <summary>
/// execve's refusals, compared with the host kernel's: a guest's execve of each file prints the same errno
/// natively and under LegoEmu, and <c>legoemu run</c> of it ends at once with one line and a shell's status,
/// never reading a device or blocking on a FIFO.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ExecChecksTests : IAsyncLifetime
{
    const string ProbeSource = """
        #include <errno.h>
        #include <stdio.h>
        #include <string.h>
        #include <unistd.h>
        /* Tries to execve each argument in turn and prints the errno of each refusal. */
        int main(int argc, char **argv) {
            setvbuf(stdout, 0, _IONBF, 0);
            for (int i = 1; i < argc; i++) {
                char *args[] = { argv[i], 0 };
                execve(argv[i], args, 0);
                printf("%d %s\n", errno, strerror(errno));
            }
            return 0;
        }
        """;

    InlineGuest _probe = null!;
    string _dir = null!;

    /// <summary>The files execve must refuse, by name in the scratch directory (or absolute).</summary>
    string[] _refused = [];

    public async Task InitializeAsync()
    {
        _probe = await InlineGuest.BuildAsync("execprobe", ProbeSource);
        _dir = Directory.CreateTempSubdirectory("legoemu-exec-").FullName;
        string P(string name) => Path.Combine(_dir, name);
        Directory.CreateDirectory(P("dir"));
        File.Copy(_probe.Binary, P("noexec"));
        File.SetUnixFileMode(P("noexec"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Script(P("garbage"), "hello, not a program\n");
        Script(P("badinterp"), "#!/nonexistent/interpreter\n");
        Script(P("blank"), "#!   \n");
        // Six scripts each naming the previous as interpreter: the kernel follows five, then says ELOOP.
        Script(P("s0"), "#!/bin/true\n");
        for (int i = 1; i <= 5; i++) Script(P($"s{i}"), $"#!{P($"s{i - 1}")}\n");
        // A PT_INTERP without its NUL, and one with a newline in the name.
        var elf = File.ReadAllBytes("/bin/true");
        var (off, size) = Interp(elf);
        var unterminated = (byte[])elf.Clone();
        unterminated[off + size - 1] = (byte)'x';
        Write(P("unterminated"), unterminated);
        var newline = (byte[])elf.Clone();
        newline[off + 3] = (byte)'\n';
        Write(P("newline"), newline);
        Assert.Equal(0, Mkfifo(P("fifo")));
        _refused = [P("dir"), P("noexec"), P("garbage"), P("badinterp"), P("blank"), P("s5"), P("unterminated"), P("newline"),
            P("fifo"), P("missing"), P("noexec/x"), "/dev/zero", "/dev/null"];
    }

    public Task DisposeAsync()
    {
        _probe.Dispose();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    static void Script(string path, string text)
    {
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    static void Write(string path, byte[] data)
    {
        File.WriteAllBytes(path, data);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo")]
    static extern int Mkfifo(string path, uint mode = 0x180);

    /// <summary>File offset and size of the PT_INTERP segment of an ELF64 file.</summary>
    static (int Offset, int Size) Interp(byte[] elf)
    {
        long phoff = BitConverter.ToInt64(elf, 32);
        int phnum = BitConverter.ToUInt16(elf, 56);
        for (int i = 0; i < phnum; i++)
        {
            int o = (int)phoff + i * 56;
            if (BitConverter.ToUInt32(elf, o) == 3) return ((int)BitConverter.ToInt64(elf, o + 8), (int)BitConverter.ToInt64(elf, o + 32));
        }
        throw new InvalidOperationException("no PT_INTERP in /bin/true");
    }

    [Fact]
    public async Task GuestExecveRefusesWhatTheKernelRefuses()
    {
        var native = await ProcessRunner.RunAsync(_probe.Binary, _refused, EmulatorRunner.RunTimeout);
        Assert.False(native.TimedOut);
        var emulated = await EmulatorRunner.RunAsync(["run", _probe.Binary, .. _refused]);
        Assert.Equal(0, emulated.ExitCode);
        Assert.Equal(_refused.Length, native.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(native.StdoutText, emulated.StdoutText);
    }

    [Fact]
    public async Task FiveScriptsDeepStillRun()
    {
        string s4 = Path.Combine(_dir, "s4");
        var native = await ProcessRunner.RunAsync(_probe.Binary, [s4], EmulatorRunner.RunTimeout);
        var emulated = await EmulatorRunner.RunAsync(["run", _probe.Binary, s4]);
        Assert.Equal("", native.StdoutText); // the exec succeeded: /bin/true printed nothing
        Assert.Equal(native.StdoutText, emulated.StdoutText);
        Assert.Equal(native.ExitCode, emulated.ExitCode);
    }

    [Fact]
    public async Task RunOfARefusedFileIsOneLineAndAShellStatus()
    {
        foreach (string path in _refused)
        {
            var clock = Stopwatch.StartNew();
            var r = await EmulatorRunner.RunAsync("run", path);
            int expected = path.EndsWith("missing") || path.EndsWith("noexec/x") ? 127 : 126;
            if (path.EndsWith("noexec/x")) expected = 126; // ENOTDIR: there, but not runnable
            Assert.True(r.ExitCode == expected, $"{path}: status {r.ExitCode}, expected {expected}; stderr: {r.StderrText}");
            string[] lines = r.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, $"{path}: expected one line, got: {r.StderrText}");
            Assert.StartsWith("legoemu: ", lines[0]);
            Assert.DoesNotContain("internal error", lines[0]);
            Assert.True(clock.Elapsed < EmulatorRunner.RunTimeout / 2, $"{path} took {clock.Elapsed}");
        }
    }
}
