using LegoEmu.Mem.Trace;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Cluster.Trace;

/// <summary>
/// <c>run --profile FILE</c> over one guest process: its costs per instruction, one callgrind file per program
/// image, as callgrind writes one per process. The process's last image writes FILE (a forked process:
/// FILE.PID); each image an <c>execve</c> replaced writes FILE.1, FILE.2 … (FILE.PID.1 …) in the order they
/// ran. The replaced image's map is taken at the exec, while its objects are still mapped; its counters are
/// read at the end, so the <c>execve</c> that ended it is counted too. Threads run by other processor
/// components are merged in when they report (see <see cref="GuestProcess.ProfileReport"/>).
/// </summary>
public sealed class ProfileSession
{
    readonly string _path;
    readonly GuestProcess _process;
    readonly List<(ProfileWriter.Image Image, CodeProfile Profile)> _replaced = new();

    public ProfileSession(string path, GuestProcess process)
    {
        _path = path;
        _process = process;
        process.Cache.Profile ??= new CodeProfile();
        process.BeforeExec += OnExec;
    }

    /// <summary>The file of a process's last image: FILE for the first process, FILE.PID for a forked one.</summary>
    public static string PathFor(string path, GuestProcess process, bool forked) => forked ? $"{path}.{process.Pid}" : path;

    void OnExec()
    {
        if (_process.Cache.Profile is not { } old) return;
        _replaced.Add((ProfileWriter.Image.Of(_process), old));
        _process.Cache.Profile = new CodeProfile();
    }

    /// <summary>Writes every image's file; a file that cannot be written is reported on <paramref name="diagnostics"/>.</summary>
    public void Finish(TextWriter diagnostics)
    {
        _process.BeforeExec -= OnExec;
        var last = _process.Cache.Profile;
        _process.Cache.Profile = null;
        var images = new List<(string Path, ProfileWriter.Image Image, CodeProfile Profile)>();
        for (int i = 0; i < _replaced.Count; i++) images.Add(($"{_path}.{i + 1}", _replaced[i].Image, _replaced[i].Profile));
        if (last != null) images.Add((_path, ProfileWriter.Image.Of(_process), last));
        foreach (var (path, image, profile) in images)
        {
            try { ProfileWriter.Write(path, image, profile); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                diagnostics.WriteLine($"legoemu: --profile {path}: {e.Message}");
            }
        }
    }
}
