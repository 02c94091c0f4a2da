using System.Runtime.InteropServices;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// The system calls behind the shared-memory ring (<see cref="RingLink"/>): a sealed memfd, its mapping, and a
/// descriptor passed over the Unix socket with SCM_RIGHTS. Linux x86-64 layouts.
/// </summary>
internal static unsafe partial class RingNative
{
    public const int ProtRead = 1, ProtWrite = 2, MapShared = 1;
    public const uint MfdCloexec = 1, MfdAllowSealing = 2;
    const int FAddSeals = 1033, FSealSeal = 1, FSealShrink = 2, FSealGrow = 4;
    public const int MsgDontWait = 0x40, MsgNoSignal = 0x4000, MsgCmsgCloexec = 0x40000000;
    public const short PollIn = 1, PollOut = 4, PollErr = 8, PollHup = 16, PollNval = 32;
    public const int EIntr = 4, EAgain = 11;
    const int SolSocket = 1, ScmRights = 1;

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int Ftruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int Fallocate(int fd, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long Lseek(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint addr, nuint length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buf, nuint len, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buf, nuint len, int flags);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvMsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, int* address, int op, int value, Timespec* timeout, nint unused1, nint unused2);

    [StructLayout(LayoutKind.Sequential)]
    struct Timespec
    {
        public long Seconds, Nanoseconds;
    }

    const long SysFutex = 202;
    // Shared (not FUTEX_PRIVATE_FLAG): the word lives in a mapping of another process's memfd.
    const int FutexWait = 0, FutexWake = 1;
    public const int ETimedOut = 110;

    /// <summary>Sleeps while *<paramref name="word"/> is <paramref name="expected"/>, at most <paramref name="timeoutMs"/>; 0 or -errno (EAGAIN: it was not).</summary>
    public static int FutexSleep(int* word, int expected, int timeoutMs)
    {
        Timespec t = new() { Seconds = timeoutMs / 1000, Nanoseconds = timeoutMs % 1000 * 1_000_000L };
        return Syscall(SysFutex, word, FutexWait, expected, &t, 0, 0) == 0 ? 0 : -LastError;
    }

    /// <summary>Wakes every sleeper on <paramref name="word"/>.</summary>
    public static void FutexWakeAll(int* word) => Syscall(SysFutex, word, FutexWake, int.MaxValue, null, 0, 0);

    [StructLayout(LayoutKind.Sequential)]
    struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    public static int LastError => Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>A memfd of <paramref name="bytes"/> that can neither shrink nor grow: a peer holding it cannot make its mapping fault.</summary>
    public static int CreateSealedMemfd(long bytes)
    {
        int fd = MemfdCreate("legoemu-ring", MfdCloexec | MfdAllowSealing);
        if (fd < 0) throw new IOException($"memfd_create: {Describe(LastError)}");
        if (Ftruncate(fd, bytes) != 0 || Fcntl(fd, FAddSeals, FSealShrink | FSealGrow | FSealSeal) != 0)
        {
            int e = LastError;
            Close(fd);
            throw new IOException($"sizing the ring's memfd: {Describe(e)}");
        }
        return fd;
    }

    /// <summary>
    /// A memfd that starts empty and can grow but never shrink (sealed so): a peer that maps it, beyond its size
    /// included, cannot be made to fault on a page it was told exists.
    /// </summary>
    public static int CreateGrowableMemfd(string name)
    {
        int fd = MemfdCreate(name, MfdCloexec | MfdAllowSealing);
        if (fd < 0) throw new IOException($"memfd_create: {Describe(LastError)}");
        if (Fcntl(fd, FAddSeals, FSealShrink | FSealSeal) != 0)
        {
            int e = LastError;
            Close(fd);
            throw new IOException($"sealing a memfd: {Describe(e)}");
        }
        return fd;
    }

    /// <summary>True when <paramref name="fd"/> is sealed against shrinking (its mapping cannot lose pages under its user).</summary>
    public static bool SealedAgainstShrinking(int fd)
    {
        int seals = Fcntl(fd, 1034 /* F_GET_SEALS */, 0);
        return seals >= 0 && (seals & FSealShrink) != 0;
    }

    /// <summary>
    /// Gives the file's pages in [<paramref name="offset"/>, +<paramref name="length"/>) back to the kernel, keeping its
    /// size (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): they read as zeros from then on, in every mapping; 0 or -errno.
    /// </summary>
    public static int PunchHole(int fd, long offset, long length) => Fallocate(fd, 0x02 | 0x01, offset, length) == 0 ? 0 : -LastError;

    /// <summary>Sets the size of the file behind <paramref name="fd"/>; 0 or -errno.</summary>
    public static int Resize(int fd, long bytes) => Ftruncate(fd, bytes) == 0 ? 0 : -LastError;

    /// <summary>
    /// Maps <paramref name="bytes"/> of <paramref name="fd"/> shared, more than the file holds if need be (no swap is
    /// reserved for it; a page beyond the file's end faults when touched, so only pages the file has are).
    /// </summary>
    public static nint MapWindow(int fd, long bytes)
    {
        nint p = Mmap(0, (nuint)bytes, ProtRead | ProtWrite, MapShared | 0x4000 /* MAP_NORESERVE */, fd, 0);
        if (p == -1) throw new IOException($"mmap of a frame arena: {Describe(LastError)}");
        return p;
    }

    /// <summary>A descriptor of its own for the same socket, closed on exec.</summary>
    public static int Dup(int fd)
    {
        int d = Fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 0);
        if (d < 0) throw new IOException($"dup of the ring's socket: {Describe(LastError)}");
        return d;
    }

    /// <summary>The size of the file behind <paramref name="fd"/>.</summary>
    public static long FileSize(int fd) => Lseek(fd, 0, 2 /* SEEK_END */);

    public static nint Map(int fd, long bytes)
    {
        nint p = Mmap(0, (nuint)bytes, ProtRead | ProtWrite, MapShared, fd, 0);
        if (p == -1) throw new IOException($"mmap of the ring: {Describe(LastError)}");
        return p;
    }

    /// <summary>Polls one descriptor; returns its revents, 0 on timeout, or -errno.</summary>
    public static int PollOne(int fd, short events, int timeoutMs)
    {
        PollFd p = new() { Fd = fd, Events = events };
        int r = Poll(&p, 1, timeoutMs);
        if (r < 0) return -LastError;
        return r == 0 ? 0 : p.REvents;
    }

    /// <summary>Sends <paramref name="data"/> whole with <paramref name="passFd"/> attached to its first byte.</summary>
    public static void SendWithFd(int socket, ReadOnlySpan<byte> data, int passFd) => SendWithFds(socket, data, passFd, -1);

    /// <summary>Sends <paramref name="data"/> whole with <paramref name="first"/> and, unless -1, <paramref name="second"/> attached to its first byte, in that order.</summary>
    public static void SendWithFds(int socket, ReadOnlySpan<byte> data, int first, int second)
    {
        int count = second >= 0 ? 2 : 1;
        const nuint space = 24; // CMSG_SPACE of one int and of two alike
        byte* control = stackalloc byte[24];
        new Span<byte>(control, 24).Clear();
        *(nuint*)control = (nuint)(16 + 4 * count); // CMSG_LEN
        *(int*)(control + 8) = SolSocket;
        *(int*)(control + 12) = ScmRights;
        *(int*)(control + 16) = first;
        if (count == 2) *(int*)(control + 20) = second;
        fixed (byte* d = data)
        {
            int sent = 0;
            while (sent < data.Length)
            {
                IoVec iov = new() { Base = d + sent, Length = (nuint)(data.Length - sent) };
                MsgHdr msg = new() { Iov = &iov, IovLength = 1, Control = sent == 0 ? control : null, ControlLength = sent == 0 ? space : 0u };
                nint n = SendMsg(socket, &msg, MsgNoSignal);
                if (n < 0)
                {
                    int e = LastError;
                    if (e == EIntr) continue;
                    if (e == EAgain) { PollOne(socket, PollOut, 1000); continue; }
                    throw new System.Net.Sockets.SocketException(e);
                }
                sent += (int)n;
            }
        }
    }

    /// <summary>
    /// Receives up to <paramref name="buffer"/>'s length (at least one byte, or 0 at end of stream) and the descriptor
    /// passed with them, if any (-1 otherwise). The caller polled first: this does not wait.
    /// </summary>
    public static int ReceiveWithFd(int socket, Span<byte> buffer, out int fd)
    {
        int n = ReceiveWithFds(socket, buffer, out fd, out int second);
        if (second >= 0) Close(second);
        return n;
    }

    /// <summary>As <see cref="ReceiveWithFd"/>, keeping the first two descriptors passed (-1 for each one not passed).</summary>
    public static int ReceiveWithFds(int socket, Span<byte> buffer, out int fd, out int second)
    {
        fd = -1;
        second = -1;
        byte* control = stackalloc byte[64];
        new Span<byte>(control, 64).Clear();
        fixed (byte* d = buffer)
        {
            IoVec iov = new() { Base = d, Length = (nuint)buffer.Length };
            MsgHdr msg = new() { Iov = &iov, IovLength = 1, Control = control, ControlLength = 64 };
            nint n = RecvMsg(socket, &msg, MsgCmsgCloexec | MsgDontWait);
            if (n < 0) return -LastError;
            // Walk the control messages: the descriptor is the one SCM_RIGHTS message; anything else is closed unused.
            nuint off = 0;
            while (off + 16 <= msg.ControlLength)
            {
                nuint len = *(nuint*)(control + off);
                int level = *(int*)(control + off + 8), type = *(int*)(control + off + 12);
                if (len < 16 || off + len > msg.ControlLength) break;
                if (level == SolSocket && type == ScmRights)
                    for (nuint k = 16; k + 4 <= len; k += 4)
                    {
                        int got = *(int*)(control + off + k);
                        if (fd < 0) fd = got;
                        else if (second < 0) second = got;
                        else Close(got);
                    }
                off += (len + 7) & ~(nuint)7;
            }
            return (int)n;
        }
    }
}
