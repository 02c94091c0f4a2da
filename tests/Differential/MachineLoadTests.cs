using Xunit;

namespace LegoEmu.Tests.Differential;

/// <summary>Per-run timeouts follow the machine's load, within bounds.</summary>
public sealed class MachineLoadTests
{
    [Fact]
    public void TimeoutsStretchWithTheLoadWithinBounds()
    {
        double f = MachineLoad.Factor;
        if (Environment.GetEnvironmentVariable("LEGOEMU_TEST_TIMEOUT_SCALE") == null)
        {
            Assert.InRange(f, 1, MachineLoad.MaxFactor);
            double load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            // The factor is the load per core of a recent reading: a machine far below one runnable thread per core is not stretched.
            if (load < Environment.ProcessorCount * 0.5) Assert.InRange(f, 1, 2);
        }
        double max = Math.Max(MachineLoad.MaxFactor, f);
        Assert.InRange(MachineLoad.Scale(TimeSpan.FromSeconds(10)).TotalSeconds, 10, 10 * max);
        Assert.Equal(Timeout.InfiniteTimeSpan, MachineLoad.Scale(Timeout.InfiniteTimeSpan));
        Assert.InRange(EmulatorRunner.RunTimeout, EmulatorRunner.BaseRunTimeout, EmulatorRunner.BaseRunTimeout * max);
    }
}
