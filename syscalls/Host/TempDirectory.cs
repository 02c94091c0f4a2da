using System.Runtime.InteropServices;

namespace LegoEmu.Syscalls.Host;

/// <summary>A problem with TMPDIR (missing, not a directory, read-only, full) that stops the emulator's own files; the message is one line.</summary>
public sealed class TempDirectoryException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The emulator's private files and sockets under TMPDIR (fork state, socket directories). Every failure
/// becomes a <see cref="TempDirectoryException"/> naming TMPDIR and the reason, and whatever was half made
/// is removed, so a missing, read-only or full TMPDIR never leaves files behind or ends in a stack trace.
/// </summary>
public static class TempDirectory
{
    /// <summary>A new directory only its owner can enter (mode 0700), named PREFIX followed by random characters.</summary>
    public static string CreatePrivate(string prefix)
    {
        try { return Directory.CreateTempSubdirectory(prefix).FullName; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Failure("cannot create a directory", e); }
    }

    /// <summary>Writes a new file through <paramref name="write"/>; on any failure the file is removed and the error is one line.</summary>
    public static void WriteFile(string path, Action<string> write)
    {
        try { write(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(path); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
            throw Failure("cannot write a file", e);
        }
    }

    static TempDirectoryException Failure(string what, Exception e)
    {
        string dir = Path.GetTempPath().TrimEnd('/');
        if (dir.Length == 0) dir = "/";
        return new TempDirectoryException($"{what} in TMPDIR ({LegoEmu.Mem.PrintableName.Escape(dir)}): {Reason(e)}", e);
    }

    /// <summary>strerror's words for the error behind <paramref name="e"/>, without .NET's decoration and path.</summary>
    public static string Reason(Exception e) => e switch
    {
        DirectoryNotFoundException or FileNotFoundException => "No such file or directory",
        UnauthorizedAccessException => "Permission denied",
        // On Linux an IOException from a failed system call carries its errno.
        IOException io when io.HResult is > 0 and < 4096 => Marshal.GetPInvokeErrorMessage(io.HResult),
        _ => e.Message.Split('\n')[0],
    };
}
