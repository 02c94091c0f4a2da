using LegoEmu.Mem;
namespace LegoEmu.Loader.Image;

/// <summary>execve's answer for a program file it cannot run (EACCES, ENOENT, ELOOP …), with the path it concerns.</summary>
public sealed class ExecFileException(int errno, string path) : Exception($"{PrintableName.Escape(path)}: {Describe(errno)}")
{
    public int Errno { get; } = errno;
    public string Path { get; } = path;

    /// <summary>What strerror says for the errors an exec can give.</summary>
    public static string Describe(int errno) => errno switch
    {
        1 => "Operation not permitted",
        2 => "No such file or directory",
        5 => "Input/output error",
        8 => "Exec format error",
        12 => "Cannot allocate memory",
        13 => "Permission denied",
        20 => "Not a directory",
        26 => "Text file busy",
        36 => "File name too long",
        40 => "Too many levels of symbolic links",
        80 => "Accessing a corrupted shared library",
        _ => $"error {errno}",
    };
}
