using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// What a guest may change of the host process it runs in (process group, session, credentials, resource
/// limits, priority and I/O priority, interval timers, working directory, the child-subreaper flag), taken when a component starts, so that a component
/// outliving its guest can check and put back what the next guest must find as a fresh child would. What
/// cannot be put back (a new session, other credentials, a lowered hard limit, another priority) makes the
/// component end with its guest instead.
/// </summary>
public sealed class ComponentHostState
{
    const int Limits = 16, GetResUid = 118, GetResGid = 120, PRIO_PROCESS = 0, IoprioSet = 251, IoprioGet = 252, IOPRIO_WHO_PROCESS = 1, PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37;

    readonly long _group, _session, _priority, _ioPriority;
    readonly uint[] _ids = new uint[6];
    readonly ulong[] _limits = new ulong[Limits * 2];

    ComponentHostState(long group, long session, long priority, long ioPriority)
    {
        _ioPriority = ioPriority;
        _group = group;
        _session = session;
        _priority = priority;
    }

    /// <summary>The host process's state now.</summary>
    public static unsafe ComponentHostState Take()
    {
        var s = new ComponentHostState(Native.Sys(Nr.getpgid, 0), Native.Sys(Nr.getsid, 0), Native.Sys(Nr.getpriority, PRIO_PROCESS, 0),
            Native.Sys(IoprioGet, IOPRIO_WHO_PROCESS, 0));
        Ids(s._ids);
        fixed (ulong* l = s._limits)
            for (int r = 0; r < Limits; r++)
                if (Native.Sys(Nr.prlimit64, 0, r, 0, (nint)(l + r * 2)) < 0) l[r * 2] = l[r * 2 + 1] = ulong.MaxValue;
        return s;
    }

    static unsafe void Ids(uint[] into)
    {
        fixed (uint* p = into)
        {
            Native.Sys(GetResUid, (nint)p, (nint)(p + 1), (nint)(p + 2));
            Native.Sys(GetResGid, (nint)(p + 3), (nint)(p + 4), (nint)(p + 5));
        }
    }

    /// <summary>
    /// Puts the host process back as it was taken; false when that cannot be done. <paramref name="group"/> is
    /// the process group the guest ended in (a zombie stays in it, so its parent's waits for that group find it).
    /// </summary>
    public unsafe bool Restore(out long group)
    {
        group = Native.Sys(Nr.getpgid, 0);
        if (Native.Sys(Nr.getsid, 0) != _session) return false;
        var ids = new uint[6];
        Ids(ids);
        if (!ids.AsSpan().SequenceEqual(_ids)) return false;
        if (Native.Sys(Nr.getpriority, PRIO_PROCESS, 0) != _priority) return false;
        if (Native.Sys(IoprioGet, IOPRIO_WHO_PROCESS, 0) != _ioPriority && (_ioPriority < 0 || Native.Sys(IoprioSet, IOPRIO_WHO_PROCESS, 0, _ioPriority) < 0)) return false;
        ulong* now = stackalloc ulong[2];
        fixed (ulong* l = _limits)
            for (int r = 0; r < Limits; r++)
            {
                if (Native.Sys(Nr.prlimit64, 0, r, 0, (nint)now) < 0) continue;
                if (now[0] == l[r * 2] && now[1] == l[r * 2 + 1]) continue;
                if (Native.Sys(Nr.prlimit64, 0, r, (nint)(l + r * 2), 0) < 0) return false;
            }
        // A guest that made itself a child subreaper and left no children: the next guest starts without the flag.
        int subreaper = 0;
        if (Native.Sys(Nr.prctl, PR_GET_CHILD_SUBREAPER, (nint)(&subreaper)) == 0 && subreaper != 0)
            Native.Sys(Nr.prctl, PR_SET_CHILD_SUBREAPER, 0);
        // A pending alarm or interval timer would reach the next guest.
        Native.Sys(Nr.alarm, 0);
        long* zero = stackalloc long[4];
        for (int which = 0; which < 3; which++) Native.Sys(Nr.setitimer, which, (nint)zero, 0);
        // An idle component must not keep a directory busy.
        Areas.Buffers.WithPath("/", p => Native.Sys(Nr.chdir, p));
        if (group != _group && Native.Sys(Nr.setpgid, 0, _group) < 0) return false;
        return true;
    }

    /// <summary>Points descriptors 0 to 2 at /dev/null, as an idle component holds them.</summary>
    public static void NullStandardDescriptors()
    {
        long devNull = Areas.Buffers.WithPath("/dev/null", p => Native.Sys(Nr.open, p, 2 /* O_RDWR */));
        if (devNull < 0) return;
        for (int fd = 0; fd < 3; fd++)
            if (fd != devNull) Native.Sys(Nr.dup2, devNull, fd);
        if (devNull > 2) Native.Sys(Nr.close, devNull);
    }
}
