using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LegoEmu.Tests.Differential;

/// <summary>
/// Descriptors the test process inherited (a lock held by <c>flock</c>, a CI harness's pipe) would otherwise
/// pass on to every native run and shift its descriptor numbers, while the emulated guest sees only 0-2.
/// They are marked close-on-exec once, before any test starts a process.
/// </summary>
static class InheritedDescriptors
{
    const int F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1;

    [DllImport("libc", SetLastError = true)]
    static extern int fcntl(int fd, int cmd, int arg);

#pragma warning disable CA2255 // a module initializer is the one place that runs before every test
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void CloseOnExec()
    {
        if (!OperatingSystem.IsLinux()) return;
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out int fd) || fd < 3) continue;
            int flags = fcntl(fd, F_GETFD, 0);
            if (flags >= 0 && (flags & FD_CLOEXEC) == 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        }
    }
}
