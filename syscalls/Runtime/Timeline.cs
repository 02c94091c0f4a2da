using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// A process tree's timeline (<c>run --timeline FILE</c>): every process of the tree appends a line to FILE at each step
/// of its life (component started, ready for a fork, handed one, image loaded, fork, execve, exit), with the time since
/// the run started, so where a compiler driver's tree spends its wall time can be read off in order. Lines are written
/// whole with O_APPEND, so the processes' lines never mix; the clock is the system's monotonic one, shared by them all.
/// </summary>
public static class Timeline
{
    /// <summary>How a component learns of it: "ORIGIN;FILE" (ORIGIN in the monotonic clock's nanoseconds).</summary>
    public const string Variable = "LEGOEMU_TIMELINE";

    static int _fd = -1;
    static long _origin;
    static string? _setting;

    /// <summary>Whether events are written (a single load on every path that marks one).</summary>
    public static bool Enabled => _fd >= 0;

    /// <summary>The value a component's environment carries, or null when there is no timeline.</summary>
    public static string? Setting => _setting;

    /// <summary>Starts a timeline in <paramref name="path"/> (truncated) for the run of this process; false with a message if it cannot be written.</summary>
    public static bool Start(string path, out string? error)
    {
        error = null;
        string full = Path.GetFullPath(path);
        try
        {
            // Made (or emptied) here for the runtime's message when it cannot be; the processes append to it below.
            using (File.Open(full, FileMode.Create, FileAccess.Write)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"cannot write --timeline {path}: {e.Message}";
            return false;
        }
        if (!Open(full, out error)) return false;
        _origin = Stopwatch.GetTimestamp();
        _setting = $"{_origin.ToString(CultureInfo.InvariantCulture)};{full}";
        return true;
    }

    /// <summary>A component joins the timeline its starter gave it (see <see cref="Variable"/>); without one, nothing.</summary>
    public static void Inherit()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { } value) return;
        int split = value.IndexOf(';');
        if (split <= 0 || !long.TryParse(value.AsSpan(0, split), NumberStyles.None, CultureInfo.InvariantCulture, out long origin)) return;
        if (!Open(value[(split + 1)..], out _)) return;
        _origin = origin;
        _setting = value;
    }

    static bool Open(string path, out string? error)
    {
        error = null;
        // O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC: every process's line goes whole to the end, whoever wrote last.
        const long flags = 0x1 | 0x40 | 0x400 | 0x80000;
        long fd = LegoEmu.Syscalls.Areas.Buffers.WithPath(path, p => Host.Native.Sys(Abi.Nr.open, p, flags, 0x1a4 /* 0644 */));
        if (fd < 0)
        {
            error = $"cannot write --timeline {path}: errno {-fd}";
            return false;
        }
        _fd = (int)fd;
        return true;
    }

    /// <summary>Appends "TIME ms  pid PID  WHAT" (cold path: only with a timeline).</summary>
    public static void Mark(string what)
    {
        if (_fd < 0) return;
        double ms = (Stopwatch.GetTimestamp() - _origin) * 1000.0 / Stopwatch.Frequency;
        var line = Encoding.UTF8.GetBytes($"{ms.ToString("F1", CultureInfo.InvariantCulture),9} ms  pid {Environment.ProcessId,-7}  {what}\n");
        unsafe
        {
            fixed (byte* p = line) Host.Native.Sys(Abi.Nr.write, _fd, (long)p, line.Length);
        }
    }
}
