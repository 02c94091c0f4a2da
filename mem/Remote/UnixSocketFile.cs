using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace LegoEmu.Mem.Remote;

/// <summary>Why a node will not listen where it was asked to (a path that is not its to take); one line.</summary>
public sealed class ListenRefusedException(string message) : IOException(message);

/// <summary>
/// The file a Unix-socket listener binds. Only a stale socket (nobody accepts on it any more) is removed
/// to make room; a regular file, a directory or anything else at the path is refused, and so is a socket a
/// running node still serves, so <c>--listen</c> can never destroy a user's file or steal a live endpoint.
/// </summary>
public static unsafe partial class UnixSocketFile
{
    /// <summary>sun_path holds 108 bytes including the terminating NUL.</summary>
    public const int MaxPathBytes = 107;

    const uint SIfMt = 0xF000, SIfSock = 0xC000;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long n, long a, long b, long c, long d);

    /// <summary>Makes room for a bind at <paramref name="path"/>, or throws <see cref="ListenRefusedException"/>.</summary>
    public static void PrepareForBind(string path)
    {
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        byte* st = stackalloc byte[144];
        long r;
        fixed (byte* p = name) r = Syscall(6 /* lstat */, (nint)p, (nint)st, 0, 0);
        if (r == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == 2) return; // ENOENT: nothing there
            throw new ListenRefusedException($"{PrintableName.Escape(path)}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        uint mode = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(st + 24, 4));
        if ((mode & SIfMt) != SIfSock) throw new ListenRefusedException($"{PrintableName.Escape(path)} exists and is not a socket; not replacing it");
        if (Answers(path)) throw new ListenRefusedException($"{PrintableName.Escape(path)} is in use: something accepts connections on it");
        // A socket nobody accepts on is what a killed node leaves behind.
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ListenRefusedException($"{PrintableName.Escape(path)}: cannot remove the stale socket: {e.Message}"); }
    }

    static bool Answers(string path)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException) { return false; }
    }
}
