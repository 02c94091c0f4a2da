namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// <c>run --cluster --spread processes</c>: the registered processor components a run's forked processes may compute
/// on, and which of them a process of the run has taken. Every process of a run keeps its home component on the run's
/// host, so a claim is a file made exclusively in one private directory there: two forks of the run, in any of its
/// processes, never take the same component. The list is the idle components registered when the run started.
/// </summary>
public static class ProcessSpread
{
    /// <summary>How a component learns of it: "DIRECTORY;ENDPOINT,ENDPOINT,…".</summary>
    public const string Variable = "LEGOEMU_SPREAD_PROCESSES";

    static string? _directory;
    static string[] _hosts = [];

    /// <summary>Whether this run places its forked processes' computation on other components.</summary>
    public static bool Enabled => _directory != null;

    /// <summary>The value a component's environment carries, or null when processes are not spread.</summary>
    public static string? Setting => _directory == null ? null : $"{_directory};{string.Join(',', _hosts)}";

    /// <summary>The run's start: <paramref name="directory"/> is private to the run and removed by it at its end.</summary>
    public static void Start(string directory, IReadOnlyList<string> hosts)
    {
        _directory = directory;
        _hosts = [.. hosts];
    }

    /// <summary>A forked process's component takes its starter's setting (see <see cref="Variable"/>); without one, nothing.</summary>
    public static void Inherit()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { } value) return;
        int split = value.IndexOf(';');
        if (split <= 0 || !Directory.Exists(value[..split])) return;
        _directory = value[..split];
        _hosts = value[(split + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Takes the first component that no process of this run has taken yet; null when every one is taken.</summary>
    public static string? Claim()
    {
        if (_directory == null) return null;
        for (int i = 0; i < _hosts.Length; i++)
        {
            try
            {
                using (new FileStream(Path.Combine(_directory, $"taken-{i}"), FileMode.CreateNew, FileAccess.Write)) { }
                return _hosts[i];
            }
            catch (IOException) { } // taken (or the run's directory is gone with the run)
            catch (UnauthorizedAccessException) { return null; }
        }
        return null;
    }
}
