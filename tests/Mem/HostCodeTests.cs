using System.Runtime.InteropServices;
using LegoEmu.Mem;
using Xunit;

namespace LegoEmu.Tests.Mem;

/// <summary>
/// The emulator's own system calls go through a machine-code stub (<see cref="HostCode.Syscall"/>): the kernel's answers
/// through it must be the ones libc and the runtime get, every argument in its register, errors as negated errnos.
/// </summary>
public unsafe class HostCodeTests
{
    const long GetPid = 39, Open = 2, Close = 3, MemfdCreate = 319, Ftruncate = 77, Pwrite64 = 18;
    const int ENOENT = 2, EBADF = 9;
    const int ProtRead = 1, MapShared = 1;

    [Fact]
    public void ResultsAreTheKernelsAndErrorsAreNegatedErrnos()
    {
        Assert.Equal(Environment.ProcessId, HostCode.Syscall(GetPid, 0, 0, 0, 0, 0, 0));
        byte[] missing = "/nonexistent/legoemu-host-code-test\0"u8.ToArray();
        fixed (byte* p = missing)
            Assert.Equal(-ENOENT, HostCode.Syscall(Open, (nint)p, 0, 0, 0, 0, 0));
        Assert.Equal(-EBADF, HostCode.Syscall(Close, -1, 0, 0, 0, 0, 0));
        // Through libc the same failure reports the same errno.
        Assert.Equal(-1, LibcClose(-1));
        Assert.Equal(EBADF, Marshal.GetLastPInvokeError());
    }

    [Fact]
    public void AllSixArgumentsReachTheKernel()
    {
        // mmap takes six: the file offset, the sixth, is passed on the stack to the stub and in R9 to the kernel.
        byte[] name = "legoemu-host-code\0"u8.ToArray();
        long fd;
        fixed (byte* p = name) fd = HostCode.Syscall(MemfdCreate, (nint)p, 0, 0, 0, 0, 0);
        Assert.True(fd >= 0, $"memfd_create: {fd}");
        try
        {
            Assert.Equal(0, HostCode.Syscall(Ftruncate, fd, 3 * 4096, 0, 0, 0, 0));
            var marks = new byte[] { 0x11, 0x22, 0x33 };
            for (int page = 0; page < 3; page++)
                fixed (byte* b = &marks[page])
                    Assert.Equal(1, HostCode.Syscall(Pwrite64, fd, (nint)b, 1, page * 4096L, 0, 0));
            nint at = HostCode.Map(0, 4096, ProtRead, MapShared, (int)fd, 2 * 4096, out int errno);
            Assert.NotEqual(-1, at);
            Assert.Equal(0, errno);
            Assert.Equal(0x33, *(byte*)at);
            HostCode.Unmap(at, 4096);

            Assert.Equal(-1, HostCode.Map(0, 4096, ProtRead, MapShared, -1, 0, out errno));
            Assert.Equal(EBADF, errno);
        }
        finally
        {
            HostCode.Syscall(Close, fd, 0, 0, 0, 0, 0);
        }
    }

    [Fact]
    public void KernelRandomGivesFreshBytesEachTime()
    {
        var a = KernelRandom.Bytes(600); // more than one getrandom call of 256 bytes
        var b = KernelRandom.Bytes(600);
        Assert.NotEqual(a, b);
        // 600 zero bytes from a working pool has probability 2^-4800: a stretch left unfilled would show here.
        Assert.Contains(a[512..], x => x != 0);
    }

    [DllImport("libc.so.6", EntryPoint = "close", SetLastError = true)]
    static extern int LibcClose(int fd);
}
