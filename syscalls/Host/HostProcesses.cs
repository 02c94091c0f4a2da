using System.Globalization;

namespace LegoEmu.Syscalls.Host;

/// <summary>
/// The host's processes as /proc/PID/stat shows them: who is whose parent and in which group and session. Every guest
/// process is a host process, so the kernel's table is the guest's; this reads the relations a call needs across
/// processes (the members of a process group, the children a subreaper adopted).
/// </summary>
public static class HostProcesses
{
    /// <summary>One host process: its pid, name, state letter, parent, process group and session.</summary>
    public readonly record struct Entry(int Pid, string Name, char State, int Parent, int Group, int Session);

    /// <summary>
    /// The name an idle processor component gives itself while it has no guest (its main thread's name, which
    /// /proc/PID/comm shows): a signal to a process group passes it by, and a subreaper does not adopt it.
    /// </summary>
    public const string IdleComponentName = "legoemu-idle";

    /// <summary>Every host process now (those that end while being read are left out).</summary>
    public static List<Entry> All()
    {
        var list = new List<Entry>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir.AsSpan());
            if (name.Length == 0 || !char.IsAsciiDigit(name[0])) continue;
            if (Read(dir + "/stat") is { } e) list.Add(e);
        }
        return list;
    }

    /// <summary>One process, or null when it is gone.</summary>
    public static Entry? Of(int pid) => Read($"/proc/{pid}/stat");

    static Entry? Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        // "pid (comm) state ppid pgrp session ...": the name may hold spaces and parentheses, so it ends at the last ')'.
        int open = text.IndexOf('('), close = text.LastIndexOf(')');
        if (open < 0 || close < open || close + 2 >= text.Length) return null;
        var rest = text.AsSpan(close + 2);
        Span<Range> parts = stackalloc Range[5];
        if (rest.Split(parts, ' ') < 5) return null;
        if (!int.TryParse(text.AsSpan(0, open).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            || !int.TryParse(rest[parts[1]], NumberStyles.None, CultureInfo.InvariantCulture, out int parent)
            || !int.TryParse(rest[parts[2]], NumberStyles.None, CultureInfo.InvariantCulture, out int group)
            || !int.TryParse(rest[parts[3]], NumberStyles.None, CultureInfo.InvariantCulture, out int session))
            return null;
        return new Entry(pid, text[(open + 1)..close], rest[parts[0]].Length > 0 ? rest[parts[0]][0] : '?', parent, group, session);
    }

    /// <summary>
    /// Whether <paramref name="pid"/> is a memory node or thread host (`legoemu memnode|procnode --listen`): the
    /// emulator's own service processes, which `run` starts in the guest's process group but which are no guest's.
    /// </summary>
    public static bool IsService(int pid)
    {
        string[] args;
        try { args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0'); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        return args.Contains("--listen") && (args.Contains("memnode") || args.Contains("procnode"));
    }

    /// <summary>Names this process's main thread (what /proc/self/comm and ps show); at most 15 bytes are kept.</summary>
    public static void NameSelf(string name)
    {
        try { File.WriteAllText("/proc/self/comm", name); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
