using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// The CPU time of one guest process as the kernel would count it, on a component that also ran other guests: its
/// own time counts from its start (the host process's time at that moment is the baseline, so what the emulator's
/// start, its warm-up and earlier guests of the component used is not the guest's), and its children's time is what
/// the host counts for the host children it reaped since then plus what the components of reaped children that live
/// on reported (their guests' own time and that of the children they reaped, as a zombie's times carry its reaped
/// descendants').
/// </summary>
public sealed class GuestCpuTime
{
    const int RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1;
    const int CLOCK_PROCESS_CPUTIME_ID = 2;
    readonly long _selfUser, _selfSystem, _childrenUser, _childrenSystem, _clockNs;
    long _reportedUser, _reportedSystem;

    GuestCpuTime((long User, long System) self, (long User, long System) children, long clockNs)
    {
        (_selfUser, _selfSystem) = self;
        (_childrenUser, _childrenSystem) = children;
        _clockNs = clockNs;
    }

    /// <summary>Starts counting now: the guest has used nothing yet, nor have children of it.</summary>
    public static GuestCpuTime StartNow() => new(Host(RUSAGE_SELF), Host(RUSAGE_CHILDREN), HostClockNs());

    /// <summary>CLOCK_PROCESS_CPUTIME_ID as the guest reads it: nanoseconds of CPU it has used.</summary>
    public long ClockNs() => Math.Max(0, HostClockNs() - _clockNs);

    static unsafe long HostClockNs()
    {
        long* ts = stackalloc long[2];
        return Native.Sys(Nr.clock_gettime, CLOCK_PROCESS_CPUTIME_ID, (nint)ts) < 0 ? 0 : ts[0] * 1_000_000_000 + ts[1];
    }

    /// <summary>User and system microseconds the guest itself has used.</summary>
    public (long User, long System) Self()
    {
        var (u, s) = Host(RUSAGE_SELF);
        return (Math.Max(0, u - _selfUser), Math.Max(0, s - _selfSystem));
    }

    /// <summary>User and system microseconds of the guest's reaped children (and of the children they reaped).</summary>
    public (long User, long System) Children()
    {
        var (u, s) = Host(RUSAGE_CHILDREN);
        long ru, rs;
        lock (this) (ru, rs) = (_reportedUser, _reportedSystem);
        return (Math.Max(0, u - _childrenUser) + ru, Math.Max(0, s - _childrenSystem) + rs);
    }

    /// <summary>A child whose component reported its exit was reaped: its times join the children's.</summary>
    public void ChildReaped(ForkControl.ExitReport report)
    {
        lock (this)
        {
            _reportedUser += report.UserMicros + report.ChildrenUserMicros;
            _reportedSystem += report.SystemMicros + report.ChildrenSystemMicros;
        }
    }

    /// <summary>
    /// Rewrites the user and system times of a <c>struct rusage</c> the host filled for <paramref name="who"/> (self or
    /// children) with the guest's; the other fields stay the host's.
    /// </summary>
    public void Adjust(long who, Span<byte> rusage)
    {
        if (who is not (RUSAGE_SELF or RUSAGE_CHILDREN) || rusage.Length < 32) return;
        var (u, s) = who == RUSAGE_SELF ? Self() : Children();
        WriteTimeval(rusage, 0, u);
        WriteTimeval(rusage, 16, s);
    }

    /// <summary>Writes <paramref name="micros"/> as a <c>struct timeval</c> at <paramref name="at"/>.</summary>
    public static void WriteTimeval(Span<byte> to, int at, long micros)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(to[at..], micros / 1_000_000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(to[(at + 8)..], micros % 1_000_000);
    }

    static unsafe (long User, long System) Host(int who)
    {
        long* ru = stackalloc long[18];
        if (Native.Sys(Nr.getrusage, who, (nint)ru) < 0) return (0, 0);
        return (ru[0] * 1_000_000 + ru[1], ru[2] * 1_000_000 + ru[3]);
    }
}
