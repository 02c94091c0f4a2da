using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// Transfers through a guest buffer that is mapped only in part. How much the kernel moves then depends on the
/// object: a pipe copies buffer by buffer and fails with EFAULT if the first one does not fit, a stream socket
/// returns the messages before the hole and keeps the rest, a datagram socket drops the message, /dev/zero and
/// getrandom fill up to the hole, /dev/null never looks at the bytes, getdents stops at the record that does not
/// fit. Rather than model each, the host call gets a host buffer with the same hole at the same offset: its
/// first bytes are mapped and the rest is a PROT_NONE reservation, so the host kernel stops exactly where the
/// guest's would, consuming what it would.
/// </summary>
static unsafe class PartialBuffers
{
    const int PROT_NONE = 0, PROT_RW = 3, MAP_PRIVATE_ANON_NORESERVE = 0x22 | 0x4000;

    /// <summary>Per host thread: <see cref="Buffers.Chunk"/> writable bytes followed by as many that fault.</summary>
    [ThreadStatic] static nint _area;

    /// <summary>Where a host buffer whose first <paramref name="accessible"/> bytes are usable starts.</summary>
    static nint At(long accessible)
    {
        if (_area == 0)
        {
            long a = Sys(Nr.mmap, 0, 2L * Buffers.Chunk, PROT_RW, MAP_PRIVATE_ANON_NORESERVE, -1, 0);
            if (a < 0) throw new OutOfMemoryException("no host memory for a transfer buffer");
            Sys(Nr.mprotect, a + Buffers.Chunk, Buffers.Chunk, PROT_NONE);
            _area = (nint)a;
        }
        return _area + Buffers.Chunk - (nint)accessible;
    }

    /// <summary>
    /// A read-style <paramref name="call"/> (given the host buffer) into guest [addr, addr+n) of which the first
    /// <paramref name="accessible"/> bytes are writable. What the host kernel wrote before it met the hole, a
    /// failed call included, reaches the guest, as the kernel's copy leaves it there.
    /// </summary>
    public static long Read(SyscallContext x, ulong addr, long accessible, Func<nint, long> call) =>
        ReadV(x, [(addr, accessible)], accessible, call);

    /// <summary>The same over an iovec array, the hole <paramref name="accessible"/> bytes into their concatenation.</summary>
    public static long ReadV(SyscallContext x, List<(ulong addr, long len)> iov, long accessible, Func<nint, long> call)
    {
        nint p = At(accessible);
        var prefix = new Span<byte>((void*)p, (int)accessible);
        // The bytes the host kernel leaves alone must come back unchanged.
        Files.Gather(x, iov, 0, prefix);
        long r = call(p);
        if (r > 0 || r == -Errno.EFAULT) Files.Scatter(x, iov, prefix);
        return r;
    }

    /// <summary>A write-style <paramref name="call"/> from guest [addr, addr+n) of which the first <paramref name="accessible"/> bytes are readable.</summary>
    public static long Write(SyscallContext x, ulong addr, long accessible, Func<nint, long> call) =>
        WriteV(x, [(addr, accessible)], accessible, call);

    public static long WriteV(SyscallContext x, List<(ulong addr, long len)> iov, long accessible, Func<nint, long> call)
    {
        nint p = At(accessible);
        Files.Gather(x, iov, 0, new Span<byte>((void*)p, (int)accessible));
        return call(p);
    }
}
