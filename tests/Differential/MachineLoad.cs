using System.Globalization;

namespace LegoEmu.Tests.Differential;

/// <summary>
/// How much slower than an idle machine this one is right now, to scale per-run timeouts: the kernel's
/// 1-minute load average per core (runnable threads competing for each core), between 1 and
/// <see cref="MaxFactor"/>, re-read at most every few seconds. On a busy 2-core machine a guest that needs
/// 20 s alone needs several times that, while a real hang still ends at the scaled limit.
/// LEGOEMU_TEST_TIMEOUT_SCALE sets a fixed factor instead.
/// </summary>
public static class MachineLoad
{
    /// <summary>The most a timeout is stretched: a hang is still caught within minutes.</summary>
    public const double MaxFactor = 6;

    static readonly double? Fixed = double.TryParse(Environment.GetEnvironmentVariable("LEGOEMU_TEST_TIMEOUT_SCALE"),
        NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && f > 0 ? f : null;

    static double _factor = 1;
    static long _readAt = long.MinValue;

    public static double Factor
    {
        get
        {
            if (Fixed is { } f) return f;
            long now = Environment.TickCount64;
            if (now - Interlocked.Read(ref _readAt) > 5000)
            {
                Volatile.Write(ref _factor, Measure());
                Interlocked.Exchange(ref _readAt, now);
            }
            return Volatile.Read(ref _factor);
        }
    }

    static double Measure()
    {
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ');
            double load = double.Parse(fields[0], CultureInfo.InvariantCulture);
            return Math.Clamp(load / Environment.ProcessorCount, 1, MaxFactor);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            return 1;
        }
    }

    /// <summary><paramref name="timeout"/> stretched by the current <see cref="Factor"/>.</summary>
    public static TimeSpan Scale(TimeSpan timeout) => timeout == Timeout.InfiniteTimeSpan ? timeout : timeout * Factor;
}
