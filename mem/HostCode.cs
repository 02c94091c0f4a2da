using System.Runtime.InteropServices;

namespace LegoEmu.Mem;

/// <summary>
/// The emulator's small machine-code stubs on the host (MXCSR access, host SSE/AVX/x87 forms) get their executable
/// memory here, and its own system calls go through one of them (<see cref="Syscall"/>).
/// </summary>
public static unsafe partial class HostCode
{
    const int ProtReadWriteExec = 7, MapPrivateAnonymous = 0x22;

    // Imported without SetLastError, so its marshalling stub is compiled ahead of time (ReadyToRun): one with it was
    // JIT-compiled at the first call, on the guest's thread at start-up.
    [LibraryImport("libc.so.6", EntryPoint = "mmap")]
    private static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    /// <summary>Maps <paramref name="bytes"/> of zeroed, readable, writable and executable memory; <paramref name="what"/> names it in the error.</summary>
    public static byte* Allocate(int bytes, string what)
    {
        nint m = Mmap(0, (nuint)bytes, ProtReadWriteExec, MapPrivateAnonymous, -1, 0);
        if (m == -1) throw new InvalidOperationException($"cannot allocate executable memory for {what}");
        return (byte*)m;
    }

    /// <summary>
    /// A stub that makes the system call in its first argument with up to six more, the kernel's way: the result, or a
    /// negated errno. Unlike libc's syscall(3) it leaves errno alone, so its callers need no errno capture around it.
    /// </summary>
    public static readonly delegate* unmanaged<long, long, long, long, long, long, long, long> Syscall = MakeSyscall();

    static delegate* unmanaged<long, long, long, long, long, long, long, long> MakeSyscall()
    {
        byte* s = Allocate(4096, "the system-call stub");
        ReadOnlySpan<byte> code =
        [
            0x48, 0x89, 0xf8,             // mov rax, rdi     number
            0x48, 0x89, 0xf7,             // mov rdi, rsi     arguments 1-5 from the System V registers ...
            0x48, 0x89, 0xd6,             // mov rsi, rdx
            0x48, 0x89, 0xca,             // mov rdx, rcx
            0x4d, 0x89, 0xc2,             // mov r10, r8      ... to the kernel's
            0x4d, 0x89, 0xc8,             // mov r8, r9
            0x4c, 0x8b, 0x4c, 0x24, 0x08, // mov r9, [rsp+8]  argument 6 from the stack
            0x0f, 0x05,                   // syscall
            0xc3,                         // ret
        ];
        code.CopyTo(new Span<byte>(s, code.Length));
        return (delegate* unmanaged<long, long, long, long, long, long, long, long>)s;
    }

    /// <summary>mmap(2) through <see cref="Syscall"/>: the address, or -1 with the kernel's <paramref name="errno"/>.</summary>
    public static nint Map(nint addr, nuint length, int prot, int flags, int fd, long offset, out int errno)
    {
        long r = Syscall(9 /* mmap */, addr, (long)length, prot, flags, fd, offset);
        errno = r is < 0 and >= -4095 ? (int)-r : 0;
        return errno != 0 ? -1 : (nint)r;
    }

    /// <summary>munmap(2) through <see cref="Syscall"/>.</summary>
    public static void Unmap(nint addr, nuint length) => Syscall(11 /* munmap */, addr, (long)length, 0, 0, 0, 0);

    /// <summary>madvise(2) through <see cref="Syscall"/>; 0 or a negated errno.</summary>
    public static long Advise(nint addr, nuint length, int advice) => Syscall(28 /* madvise */, addr, (long)length, advice, 0, 0, 0);
}
