using LegoEmu.Syscalls.Runtime;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Processes;

/// <summary>
/// The built-in warm-up guest is a real program: natively, under `legoemu run` and run privately in-process
/// it exits with the status its loop computes.
/// </summary>
public sealed class WarmUpGuestTests
{
    [Fact]
    public async Task NativeEmulatedAndPrivateRunsAgree()
    {
        string dir = Directory.CreateTempSubdirectory("legoemu-warm-up-").FullName;
        try
        {
            string path = Path.Combine(dir, "warm-up");
            File.WriteAllBytes(path, WarmUpGuest.Image());
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var native = await ProcessRunner.RunAsync(path, [], TimeSpan.FromSeconds(30), null, null);
            Assert.Equal(WarmUpGuest.ExpectedStatus, native.ExitCode);
            var emulated = await EmulatorRunner.RunAsync(["run", path]);
            Assert.Equal(native.ExitCode, emulated.ExitCode);
            Assert.Equal(WarmUpGuest.ExpectedStatus, WarmUpGuest.Run());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
