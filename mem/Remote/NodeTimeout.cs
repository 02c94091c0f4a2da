using System.Globalization;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// How long a processor component waits for a memory node's answer before it declares the node failed
/// (<c>run --node-timeout</c>). A frozen node (SIGSTOP, a hung host) then ends the guest with one line
/// naming the node, as a dead one does, instead of hanging it forever. Components started for the run
/// (forked processes, thread hosts) learn it from <see cref="Variable"/> in their environment.
/// </summary>
public static class NodeTimeout
{
    public const string Variable = "LEGOEMU_NODE_TIMEOUT";

    /// <summary>Long enough for a loaded machine's scheduling and GC pauses, short enough that a hang is noticed.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);

    static TimeSpan? _value;

    public static TimeSpan Value
    {
        get => _value ??= FromEnvironment() ?? Default;
        set => _value = value;
    }

    /// <summary>Whole milliseconds for socket timeouts.</summary>
    public static int Milliseconds => (int)Math.Clamp(Value.TotalMilliseconds, 1, int.MaxValue);

    /// <summary>Seconds, fractions allowed, from 0.1 to one day.</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !(s >= 0.1 && s <= 86400)) return false;
        value = TimeSpan.FromSeconds(s);
        return true;
    }

    /// <summary>The value in the form <see cref="TryParse"/> reads (for a child's environment).</summary>
    public static string Text => Value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    static TimeSpan? FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { } text && TryParse(text, out var v) ? v : null;
}
