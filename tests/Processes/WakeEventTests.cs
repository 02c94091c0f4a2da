using LegoEmu.Syscalls.Runtime;
using Xunit;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Tests.Processes;

/// <summary>
/// The scheduler's wake-up eventfd is signalled by threads that are not the guest's (a processor component's link,
/// a memory node's directory, host signals), also after the process has ended and closed it. Such a late signal must
/// go nowhere: written into the number's next owner, it once landed in the .NET runtime's own thread start-up pipe,
/// so the next thread pool worker failed to start and the emulator aborted with "Out of memory." at the end of a run.
/// </summary>
public sealed unsafe class WakeEventTests
{
    const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000, socketpair = 53, EAGAIN = 11;

    [Fact]
    public void ASignalAfterDisposeReachesNoDescriptorThatReusedTheNumber()
    {
        int* sv = stackalloc int[2];
        byte* buf = stackalloc byte[16];
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var wake = new WakeEvent();
            int number = wake.Fd;
            wake.Dispose();
            Assert.Equal(0, Sys(socketpair, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, (nint)sv));
            try
            {
                // The lowest free number is taken first: unless another thread of the test run opened something in
                // between, the pair's first end now sits where the eventfd was.
                if (sv[0] != number) continue;
                wake.Signal();
                wake.Drain();
                wake.Dispose();
                long got = Sys(0 /* read */, sv[1], (nint)buf, 16);
                Assert.True(got == -EAGAIN, $"the signal after Dispose wrote {got} bytes into the descriptor that took number {number}");
                Assert.Equal(-EAGAIN, Sys(0 /* read */, sv[0], (nint)buf, 16)); // and Drain read nothing from it
                return;
            }
            finally
            {
                Sys(3 /* close */, sv[0]);
                Sys(3 /* close */, sv[1]);
            }
        }
        Assert.Fail("in 50 attempts, no new descriptor took the closed eventfd's number: other threads kept taking it");
    }
}
