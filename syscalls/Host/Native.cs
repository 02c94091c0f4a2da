using System.Runtime.InteropServices;

namespace LegoEmu.Syscalls.Host;

/// <summary>
/// The host kernel, reached through libc's syscall(2). The host is x86-64 Linux, so kernel structures
/// (stat, timespec, termios, utsname …) have the guest's layout and can pass through unchanged.
/// </summary>
public static unsafe partial class Native
{
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall6(long n, long a, long b, long c, long d, long e, long f);

    /// <summary>Runs a host system call and returns its result the kernel's way: value or negated errno.</summary>
    public static long Sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0)
    {
        long r = syscall6(n, a, b, c, d, e, f);
        return r == -1 ? -Marshal.GetLastPInvokeError() : r;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "signal")]
    public static partial nint Signal(int sig, nint handler);

    [LibraryImport("libc", EntryPoint = "getpid")]
    public static partial int GetPid();
}
