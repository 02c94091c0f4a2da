using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Host;

namespace LegoEmu.Cluster.Cli;

/// <summary>
/// A write-only stream over a host descriptor that writes with write(2) at the descriptor's shared file
/// offset. FileStream on a seekable file keeps an offset of its own and writes with pwrite, so a report
/// written through a duplicate of `2> file` would land at the offset read when the stream was made, over
/// whatever the guest wrote there since.
/// </summary>
public sealed unsafe class DescriptorStream(int fd) : Stream
{
    const int EINTR = 4;
    int _fd = fd;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => _fd >= 0;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_fd < 0) throw new ObjectDisposedException(nameof(DescriptorStream));
        while (!buffer.IsEmpty)
        {
            long n;
            fixed (byte* p = buffer) n = Native.Sys(Nr.write, _fd, (long)p, buffer.Length);
            if (n == -EINTR) continue;
            if (n <= 0) throw new IOException($"write to descriptor {_fd} failed (errno {-n})");
            buffer = buffer[(int)n..];
        }
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_fd >= 0) Native.Sys(Nr.close, _fd);
        _fd = -1;
        base.Dispose(disposing);
    }
}
