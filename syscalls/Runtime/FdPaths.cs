namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// Paths that name the process's own descriptors: /dev/fd/N, /proc/self/fd/N, /proc/thread-self/fd/N,
/// /proc/PID/fd/N (and fdinfo/N beside each) and /dev/stdin, /dev/stdout, /dev/stderr. The host kernel resolves them against the host
/// process's descriptor table, whose numbers are not the guest's (a guest's 63 may be the host's open runtime
/// library), so they are rewritten to name the host descriptor that the guest's number stands for.
/// </summary>
public static class FdPaths
{
    /// <summary>
    /// <paramref name="path"/> with a guest descriptor number replaced by its host one. With
    /// <paramref name="followLast"/> false (readlink, lstat) /dev/stdin and friends stay as they are: the call
    /// looks at that symbolic link itself, which names /proc/self/fd/N and not the host's descriptor.
    /// </summary>
    public static string Resolve(GuestProcess p, string path, bool followLast = true)
    {
        if (path.Length < 9 || path[0] != '/' || (path[1] != 'd' && path[1] != 'p')) return path;
        if (TaskPath(p, path, followLast) is { } task) return task;
        int at;
        string dir = "fd";
        if (path.StartsWith("/dev/fd/", StringComparison.Ordinal)) at = 8;
        else if (path.StartsWith("/proc/self/", StringComparison.Ordinal)) at = FdDirectory(path, 11, ref dir);
        else if (path.StartsWith("/proc/thread-self/", StringComparison.Ordinal)) at = FdDirectory(path, 18, ref dir);
        else if (path.StartsWith("/proc/", StringComparison.Ordinal)) at = OwnPidFd(p, path, ref dir);
        else if (followLast && path.StartsWith("/dev/std", StringComparison.Ordinal))
            return path switch { "/dev/stdin" => Named(p, 0, path, ""), "/dev/stdout" => Named(p, 1, path, ""), "/dev/stderr" => Named(p, 2, path, ""), _ => path };
        else return path;
        if (at < 0 || !Number(path, at, out int fd, out int end)) return path;
        return Named(p, fd, path, path[end..], dir);
    }

    /// <summary>
    /// The kernel's own parse of a number in a /proc path at <paramref name="at"/>: digits only, no leading zero, then
    /// the end or a slash (at <paramref name="end"/>). Anything else is left to the host to refuse.
    /// </summary>
    static bool Number(string path, int at, out int value, out int end)
    {
        value = 0;
        end = at;
        while (end < path.Length && char.IsAsciiDigit(path[end])) end++;
        if (end == at || end - at > 9 || (path[at] == '0' && end - at > 1) || (end < path.Length && path[end] != '/')) return false;
        value = int.Parse(path.AsSpan(at, end - at));
        return true;
    }

    static string Named(GuestProcess p, int guestFd, string path, string rest, string dir = "fd")
    {
        int h = p.Fds.Host(guestFd);
        if (h == guestFd && path.StartsWith("/dev/std", StringComparison.Ordinal)) return path;
        // A number the guest has not open names nothing, whatever the host has there.
        return h < 0 ? $"/proc/self/{dir}/-1{rest}" : $"/proc/self/{dir}/{h}{rest}";
    }

    /// <summary>Where the number starts after "fd/" or "fdinfo/" at <paramref name="at"/>, else -1; <paramref name="dir"/> says which.</summary>
    static int FdDirectory(string path, int at, ref string dir)
    {
        var rest = path.AsSpan(at);
        if (rest.StartsWith("fd/", StringComparison.Ordinal)) return at + 3;
        if (!rest.StartsWith("fdinfo/", StringComparison.Ordinal)) return -1;
        dir = "fdinfo";
        return at + 7;
    }

    /// <summary>
    /// /proc/self/task/TID/… and /proc/PID/task/TID/… name the guest's threads, whose ids the host does not know (its
    /// own /proc/self/task lists the emulator's threads). A live guest thread's comm, status and stat stay in this form
    /// for <c>Proc.TryOpen</c> to generate; anything else under it is the process's own (/proc/self/…); an id that is
    /// no live guest thread names nothing. Null when the path is not under a task directory.
    /// </summary>
    static string? TaskPath(GuestProcess p, string path, bool followLast)
    {
        int at;
        if (path.StartsWith("/proc/self/task/", StringComparison.Ordinal)) at = 16;
        else
        {
            int end = 6;
            while (end < path.Length && char.IsAsciiDigit(path[end])) end++;
            if (end == 6 || !path.AsSpan(end).StartsWith("/task/", StringComparison.Ordinal)
                || !int.TryParse(path.AsSpan(6, end - 6), out int pid) || pid != p.Pid) return null;
            at = end + 6;
        }
        if (!Number(path, at, out int tid, out int stop)) return null;
        string rest = path[stop..];
        if (p.FindThread(tid) is not { Exited: false }) return "/proc/self/task/-1" + rest;
        if (rest is "/comm" or "/status" or "/stat") return $"/proc/self/task/{tid}{rest}";
        return Resolve(p, "/proc/self" + rest, followLast);
    }

    /// <summary>Where the number starts in /proc/PID/fd/N or /proc/PID/fdinfo/N when PID is this process's own, else -1.</summary>
    static int OwnPidFd(GuestProcess p, string path, ref string dir)
    {
        int end = 6;
        while (end < path.Length && char.IsAsciiDigit(path[end])) end++;
        if (end == 6 || end >= path.Length || path[end] != '/') return -1;
        return int.TryParse(path.AsSpan(6, end - 6), out int pid) && pid == p.Pid ? FdDirectory(path, end + 1, ref dir) : -1;
    }
}
