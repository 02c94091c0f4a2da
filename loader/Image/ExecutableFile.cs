using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using LegoEmu.Mem;
using LegoEmu.Mem.Component;

namespace LegoEmu.Loader.Image;

/// <summary>
/// A program file opened the way execve opens it: the path is looked up, the file must be a regular file
/// with execute permission (the caller's effective ids, the mount's noexec) before a byte is read, and only
/// the first <see cref="HeadSize"/> bytes are read to decide what it is. So a directory, a FIFO, a device
/// such as /dev/zero or a file without execute permission fails at once with the kernel's errno instead of
/// hanging in open or reading without end.
/// </summary>
public sealed unsafe partial class ExecutableFile : IDisposable
{
    /// <summary>What the kernel reads to recognise a format (BINPRM_BUF_SIZE).</summary>
    public const int HeadSize = 256;

    const int AtFdCwd = -100, XOk = 1, AtEAccess = 0x200;
    const int ORdOnly = 0, ONoCtty = 0x100, ONonBlock = 0x800, OCloExec = 0x80000;
    const uint SIfMt = 0xF000, SIfReg = 0x8000;
    const int StatSize = 144, StatModeOffset = 24, StatSizeOffset = 48; // x86-64 struct stat

    readonly SafeFileHandle _handle;

    ExecutableFile(string path, SafeFileHandle handle, long length, byte[] head, FileVersion version)
    {
        Path = path;
        _handle = handle;
        Length = length;
        Head = head;
        Version = version;
    }

    /// <summary>The file's identity and the size and times any write changes, when it was opened.</summary>
    public FileVersion Version { get; }

    /// <summary>The path as given (not resolved).</summary>
    public string Path { get; }
    /// <summary>The file's size when it was opened.</summary>
    public long Length { get; }
    /// <summary>The first bytes of the file (at most <see cref="HeadSize"/>).</summary>
    public byte[] Head { get; }

    static long Sys(long n, long a, long b = 0, long c = 0, long d = 0) => LegoEmu.Mem.HostCode.Syscall(n, a, b, c, d, 0, 0);

    /// <summary>
    /// Opens <paramref name="path"/> for execution; throws <see cref="ExecFileException"/> with the errno execve
    /// would give. Without <paramref name="requireExecute"/> only the file type is checked (a program read for
    /// its symbols).
    /// </summary>
    public static ExecutableFile Open(string path, bool requireExecute = true)
    {
        byte[] name = GuestText.Encode(path, nul: true);
        if (name.Length == 1) throw new ExecFileException(Errno.ENOENT, path);
        byte* st = stackalloc byte[StatSize];
        long fd;
        fixed (byte* p = name)
        {
            long r = Sys(262 /* newfstatat */, AtFdCwd, (nint)p, (nint)st, 0);
            if (r < 0) throw new ExecFileException((int)-r, path);
            // The kernel refuses every type but a regular file before opening it (may_open), so a FIFO never blocks.
            if ((Mode(st) & SIfMt) != SIfReg) throw new ExecFileException(Errno.EACCES, path);
            if (requireExecute)
            {
                r = Sys(439 /* faccessat2 */, AtFdCwd, (nint)p, XOk, AtEAccess);
                if (r == -Errno.ENOSYS) r = Sys(269 /* faccessat */, AtFdCwd, (nint)p, XOk);
                if (r < 0) throw new ExecFileException((int)-r, path);
            }
            // O_NONBLOCK: if the file was swapped for a FIFO since the check, open still returns at once.
            fd = Sys(257 /* openat */, AtFdCwd, (nint)p, ORdOnly | ONoCtty | ONonBlock | OCloExec);
            if (fd < 0) throw new ExecFileException((int)-fd, path);
        }
        var handle = new SafeFileHandle((nint)fd, ownsHandle: true);
        try
        {
            long r = Sys(5 /* fstat */, fd, (nint)st);
            if (r < 0) throw new ExecFileException((int)-r, path);
            if ((Mode(st) & SIfMt) != SIfReg) throw new ExecFileException(Errno.EACCES, path);
            long length = BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(st + StatSizeOffset, 8));
            var head = new byte[(int)Math.Min(length, HeadSize)];
            int got = ReadAt(handle, head, 0);
            if (got < head.Length) Array.Resize(ref head, got);
            // struct stat: st_dev 0, st_ino 8, st_mtim 88, st_ctim 104.
            long L(int o) => BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(st + o, 8));
            var version = new FileVersion((ulong)L(0), (ulong)L(8), length, L(88) * 1_000_000_000 + L(96), L(104) * 1_000_000_000 + L(112));
            return new ExecutableFile(path, handle, length, head, version);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    static uint Mode(byte* st) => BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(st + StatModeOffset, 4));

    static int ReadAt(SafeFileHandle handle, Span<byte> into, long offset)
    {
        try { return LegoEmu.Mem.Component.FileBacking.ReadFully(handle, into, offset); }
        catch (IOException) { throw new ExecFileException(Errno.EIO, ""); }
    }

    /// <summary>The whole file, as long as it was when opened (less if it shrank since).</summary>
    public byte[] ReadAll()
    {
        if (Length > Array.MaxLength) throw new Elf.ElfFormatException($"file of {Length} bytes is too large to load");
        var data = new byte[Length];
        int got;
        try { got = ReadAt(_handle, data, 0); }
        catch (ExecFileException e) { throw new ExecFileException(e.Errno, Path); }
        if (got < data.Length) Array.Resize(ref data, got);
        return data;
    }

    /// <summary>The first <paramref name="count"/> bytes of the file (fewer when it is shorter).</summary>
    public byte[] ReadHead(int count)
    {
        var data = new byte[(int)Math.Min(Length, count)];
        int got;
        try { got = ReadAt(_handle, data, 0); }
        catch (ExecFileException e) { throw new ExecFileException(e.Errno, Path); }
        if (got < data.Length) Array.Resize(ref data, got);
        return data;
    }

    /// <summary>
    /// The file as a mapping's backing: a descriptor of its own on the same open file, which outlives this object (and
    /// a replacement of the path), closed when nothing refers to it any more.
    /// </summary>
    public FileBacking Backing()
    {
        long fd = Sys(72 /* fcntl */, _handle.DangerousGetHandle(), 1030 /* F_DUPFD_CLOEXEC */, 3);
        if (fd < 0) throw new ExecFileException((int)-fd, Path);
        return new FileBacking(new SafeFileHandle((nint)fd, ownsHandle: true), Version, Path);
    }

    public void Dispose() => _handle.Dispose();
}
