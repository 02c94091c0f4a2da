using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Host;
using Xunit;

namespace LegoEmu.Tests.Processes;

/// <summary>Descriptors passed with SCM_RIGHTS arrive in order, however many batches they need, with the bytes intact.</summary>
public sealed class UnixRightsTests
{
    [Theory]
    [InlineData(0, 10)]
    [InlineData(3, 100)]
    [InlineData(520, 70000)] // three batches, and more bytes than one socket buffer holds
    public async Task DescriptorsAndBytesArriveInOrder(int descriptors, int bytes)
    {
        Assert.True(UnixRights.Pair(out int a, out int b) >= 0);
        var pipes = new List<(int Read, int Write)>();
        var received = new List<int>();
        try
        {
            var sent = new List<int>();
            for (int i = 0; i < descriptors; i += 2)
            {
                var p = NewPipe();
                pipes.Add(p);
                sent.Add(p.Read);
                if (sent.Count < descriptors) sent.Add(p.Write);
            }
            var data = new byte[bytes];
            new Random(5).NextBytes(data);
            var sender = Task.Run(() => UnixRights.Send(a, data, sent));
            var back = new byte[bytes];
            long got = UnixRights.Receive(b, back, received);
            Assert.Equal(0, await sender);
            Assert.Equal(bytes, got);
            Assert.Equal(data, back);
            Assert.Equal(sent.Count, received.Count);
            // Each received descriptor is the same pipe end: a byte written to a received write end
            // comes out of the original read end.
            for (int i = 0; i + 1 < received.Count; i += 2)
            {
                Assert.Equal(1, Write(received[i + 1], (byte)i));
                Assert.Equal((byte)i, ReadOne(pipes[i / 2].Read));
            }
        }
        finally
        {
            foreach (var fd in received) Native.Sys(Nr.close, fd);
            foreach (var (r, w) in pipes) { Native.Sys(Nr.close, r); Native.Sys(Nr.close, w); }
            Native.Sys(Nr.close, a);
            Native.Sys(Nr.close, b);
        }
    }

    [Fact]
    public void EndOfStreamBeforeAnythingReadsZero()
    {
        Assert.True(UnixRights.Pair(out int a, out int b) >= 0);
        Native.Sys(Nr.close, a);
        var fds = new List<int>();
        Assert.Equal(0, UnixRights.Receive(b, new byte[8], fds));
        Assert.Empty(fds);
        Native.Sys(Nr.close, b);
    }

    static unsafe (int Read, int Write) NewPipe()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, Native.Sys(Nr.pipe2, (nint)fds, 0x80000));
        return (fds[0], fds[1]);
    }

    static unsafe long Write(int fd, byte value) => Native.Sys(Nr.write, fd, (nint)(&value), 1);

    static unsafe byte ReadOne(int fd)
    {
        byte v;
        Assert.Equal(1, Native.Sys(Nr.read, fd, (nint)(&v), 1));
        return v;
    }
}
