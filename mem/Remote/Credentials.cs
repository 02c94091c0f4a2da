using System.Globalization;
using System.Runtime.InteropServices;

namespace LegoEmu.Mem.Remote;

/// <summary>A credentials directory that cannot be used (missing, readable by others, malformed); one line.</summary>
public sealed class CredentialsException(string message) : Exception(message);

/// <summary>
/// The cluster's shared secret: 32 random bytes that <c>legoemu cluster init DIR</c> writes to DIR/cluster.key
/// (the directory 0700, the file 0600). Every component given the same directory (<c>--credentials DIR</c> or
/// <see cref="Variable"/>) proves to its peer that it holds the key, and checks the peer's proof, before any
/// request is served (see <see cref="Handshake"/>). A key file that others could read is refused.
/// </summary>
public static partial class Credentials
{
    public const string Variable = "LEGOEMU_CREDENTIALS";
    public const string KeyFile = "cluster.key";
    public const int KeyBytes = 32;

    /// <summary>The key this process authenticates with; null: none (Unix sockets of the same user and loopback only).</summary>
    public static byte[]? Key { get; private set; }

    /// <summary>The directory the key came from (handed to components this process starts).</summary>
    public static string? Directory { get; private set; }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    /// <summary>This process's effective uid: the only one whose Unix-socket connections a node serves.</summary>
    public static uint EffectiveUid => GetEuid();

    /// <summary>Uses the key in <paramref name="dir"/> from now on.</summary>
    public static void Use(string dir)
    {
        Key = Load(dir);
        Directory = Path.GetFullPath(dir);
    }

    /// <summary>Stops using any key (a benchmark that measures unauthenticated links after authenticated ones).</summary>
    public static void Forget()
    {
        Key = null;
        Directory = null;
    }

    /// <summary>Uses <see cref="Variable"/>'s directory when it is set (components started by another component).</summary>
    public static void UseEnvironment()
    {
        if (Key == null && Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } dir) Use(dir);
    }

    /// <summary>Writes a fresh key into <paramref name="dir"/> (made 0700 if missing); refuses to overwrite one.</summary>
    public static void Create(string dir)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException();
        System.IO.Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string path = Path.Combine(dir, KeyFile);
        if (File.Exists(path)) throw new CredentialsException($"{PrintableName.Escape(path)} exists already; remove it first to make new credentials");
        var key = Handshake.RandomBytes(KeyBytes);
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using var f = new StreamWriter(new FileStream(path, options));
        f.WriteLine(Convert.ToHexString(key).ToLowerInvariant());
    }

    static byte[] Load(string dir)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException();
        string path = Path.Combine(dir, KeyFile);
        string shown = PrintableName.Escape(path);
        if (!File.Exists(path)) throw new CredentialsException($"{shown}: no such file (make credentials with 'legoemu cluster init DIR')");
        var mode = File.GetUnixFileMode(path);
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & others) != 0) throw new CredentialsException($"{shown} can be read by others than its owner (chmod 600 it)");
        string text;
        try { text = File.ReadAllText(path).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CredentialsException($"{shown}: {e.Message}"); }
        if (text.Length != KeyBytes * 2 || !text.All(Uri.IsHexDigit))
            throw new CredentialsException($"{shown} does not hold a {KeyBytes}-byte key in hexadecimal");
        var key = new byte[KeyBytes];
        for (int i = 0; i < KeyBytes; i++) key[i] = byte.Parse(text.AsSpan(i * 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return key;
    }
}
