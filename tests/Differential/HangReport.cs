using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace LegoEmu.Tests.Differential;

/// <summary>
/// What a process tree that ran past its timeout was doing: each process's state and, for .NET processes (the
/// emulator's components), every thread's managed stack, taken with the runtime's <c>createdump</c> before the
/// tree is killed. A hang that happens once in a hundred CI runs is then diagnosable from the failure message.
/// </summary>
public static class HangReport
{
    const int MaxProcesses = 6;
    const int MaxFramesPerThread = 14;

    /// <summary>Describes <paramref name="rootPid"/> and its descendants; never throws.</summary>
    public static string Collect(int rootPid)
    {
        var text = new StringBuilder();
        try
        {
            int n = 0;
            foreach (int pid in Tree(rootPid))
            {
                if (n++ == MaxProcesses)
                {
                    text.AppendLine("(more processes left out)");
                    break;
                }
                Describe(pid, text);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            text.AppendLine($"(hang report cut short: {e.Message})");
        }
        return text.ToString();
    }

    /// <summary>The root and its descendants, parents first.</summary>
    static List<int> Tree(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var e in LegoEmu.Syscalls.Host.HostProcesses.All())
        {
            if (!children.TryGetValue(e.Parent, out var list)) children[e.Parent] = list = new List<int>();
            list.Add(e.Pid);
        }
        var order = new List<int> { root };
        for (int i = 0; i < order.Count; i++)
            if (children.TryGetValue(order[i], out var kids)) order.AddRange(kids);
        return order;
    }

    static void Describe(int pid, StringBuilder text)
    {
        string Read(string name)
        {
            try { return File.ReadAllText($"/proc/{pid}/{name}"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
        }
        string cmdline = Read("cmdline").Replace('\0', ' ').Trim();
        if (cmdline.Length > 300) cmdline = cmdline[..300] + "…";
        char state = LegoEmu.Syscalls.Host.HostProcesses.Of(pid)?.State ?? '?';
        text.AppendLine($"--- pid {pid} ({state}): {cmdline}");
        var threads = new StringBuilder();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                string comm = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                string wchan = File.ReadAllText(Path.Combine(task, "wchan")).Trim();
                threads.Append($"[{Path.GetFileName(task)} {comm}: {wchan}] ");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        text.AppendLine($"threads: {threads}");
        if (Read("maps").Contains("libcoreclr.so")) ManagedStacks(pid, text);
    }

    /// <summary>Asks createdump for a crash report only (no dump) and keeps each thread's managed frames.</summary>
    static void ManagedStacks(int pid, StringBuilder text)
    {
        string createdump = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "createdump");
        if (!File.Exists(createdump))
        {
            text.AppendLine("(no createdump beside the runtime: no managed stacks)");
            return;
        }
        string dir = Directory.CreateTempSubdirectory("legoemu-hang-").FullName;
        try
        {
            string prefix = Path.Combine(dir, "dump");
            var psi = new ProcessStartInfo(createdump) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "--crashreportonly", "-f", prefix, pid.ToString() }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEndAsync();
            var errors = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(MachineLoad.Scale(TimeSpan.FromSeconds(30))))
            {
                p.Kill();
                text.AppendLine("(createdump did not finish)");
                return;
            }
            string report = prefix + ".crashreport.json";
            if (!File.Exists(report))
            {
                text.AppendLine($"(createdump wrote no report: {errors.Result.Trim()} {output.Result.Trim()})");
                return;
            }
            using var json = JsonDocument.Parse(File.ReadAllText(report));
            foreach (var thread in json.RootElement.GetProperty("payload").GetProperty("threads").EnumerateArray())
            {
                var frames = new List<string>();
                foreach (var frame in thread.GetProperty("stack_frames").EnumerateArray())
                {
                    if (frames.Count == MaxFramesPerThread) break;
                    // Without its parameter list: the type and method name say enough and keep the line short.
                    if (frame.TryGetProperty("method_name", out var m)) frames.Add(m.GetString() is { } name ? name.Split('(')[0] : "?");
                    else if (frame.TryGetProperty("unmanaged_name", out var u)) frames.Add(u.GetString() ?? "?");
                }
                string id = thread.TryGetProperty("native_thread_id", out var t) ? t.GetString() ?? "?" : "?";
                text.AppendLine($"  thread {id}: {string.Join(" < ", frames)}");
            }
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            text.AppendLine($"(no managed stacks: {e.Message})");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }
}
