using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// Resource limits that hold. The guest's limits are the host process's own (setrlimit passes through),
/// so the host kernel bounds file sizes, and the emulator enforces what its own structures would
/// otherwise escape: descriptors (<see cref="FdTable.Limit"/>), the address space (RLIMIT_AS), the
/// data segment (RLIMIT_DATA) and the kernel's overcommit rule for a single allocation.
/// </summary>
public sealed partial class GuestProcess
{
    const int SIGXFSZ = 25, RLIMIT_FSIZE = 1, RLIMIT_DATA = 2, RLIMIT_STACK = 3, RLIMIT_NOFILE = 7, RLIMIT_AS = 9;

    /// <summary>
    /// The emulator itself ignores SIGXFSZ, so a write past RLIMIT_FSIZE fails with EFBIG instead of killing
    /// it; the guest then gets the signal, as the kernel would have sent it. (Whether the guest starts with it
    /// ignored is what the emulator was started with: <see cref="HostSignals.InheritIgnored"/>.)
    /// </summary>
    unsafe void IgnoreHostFileSizeSignal()
    {
        ulong* act = stackalloc ulong[4];
        act[0] = 1; // SIG_IGN
        act[1] = act[2] = act[3] = 0;
        Sys(Nr.rt_sigaction, SIGXFSZ, (nint)act, 0, 8);
    }

    /// <summary>This process came from a fork: its signal dispositions are its parent's, not the host's.</summary>
    bool _forked;

    /// <summary>A write-type call failed with EFBIG: past RLIMIT_FSIZE that is the kernel's SIGXFSZ too.</summary>
    void FileSizeLimitReached(int nr)
    {
        bool writes = nr is Nr.write or Nr.pwrite64 or Nr.writev or Nr.pwritev or Nr.pwritev2 or Nr.truncate or Nr.ftruncate
            or Nr.fallocate or Nr.sendfile or Nr.copy_file_range or Nr.splice;
        if (writes && SoftLimit(RLIMIT_FSIZE) != ulong.MaxValue)
            RaiseSignal(new SignalInfo(SIGXFSZ, 0 /* SI_USER */, Pid: Pid, Uid: (int)Sys(Nr.getuid)));
    }

    /// <summary>
    /// RLIMIT_DATA, RLIMIT_STACK, RLIMIT_AS and RLIMIT_NOFILE as the guest set them (soft, hard for each, in
    /// that order). They never reach the host: there they would bound the emulator's own heap, code and
    /// descriptors, not the guest's memory (in the memory component) or its descriptor table. They start as
    /// the host's and a fork hands them on.
    /// </summary>
    public ulong[] VirtualLimits { get; } = InitialVirtualLimits();

    static int VirtualIndex(int resource) => resource switch { RLIMIT_DATA => 0, RLIMIT_STACK => 2, RLIMIT_AS => 4, RLIMIT_NOFILE => 6, _ => -1 };

    static unsafe ulong[] InitialVirtualLimits()
    {
        var v = new ulong[8];
        ulong* lim = stackalloc ulong[2];
        foreach (int res in new[] { RLIMIT_DATA, RLIMIT_STACK, RLIMIT_AS, RLIMIT_NOFILE })
        {
            int i = VirtualIndex(res);
            if (Sys(Nr.getrlimit, res, (nint)lim) == 0) { v[i] = lim[0]; v[i + 1] = lim[1]; }
            else v[i] = v[i + 1] = ulong.MaxValue;
        }
        return v;
    }

    /// <summary>RLIMIT_STACK's soft limit: the next image's stack is mapped that large (see ImageLoader.StackSizeFor).</summary>
    public ulong StackLimit => VirtualLimits[VirtualIndex(RLIMIT_STACK)];

    /// <summary>True for the limits the emulator keeps itself (see <see cref="VirtualLimits"/>).</summary>
    public static bool IsVirtualLimit(long resource) => VirtualIndex((int)resource) >= 0;

    /// <summary>getrlimit/setrlimit/prlimit64 of a virtual limit: <paramref name="newLimit"/> null only reads. 0 or a negated errno.</summary>
    public long VirtualLimit(int resource, (ulong Soft, ulong Hard)? newLimit, out (ulong Soft, ulong Hard) old)
    {
        int i = VirtualIndex(resource);
        old = (VirtualLimits[i], VirtualLimits[i + 1]);
        if (newLimit is not { } n) return 0;
        if (n.Soft > n.Hard) return -Errno.EINVAL;
        if (n.Hard > old.Hard && Sys(Nr.geteuid) != 0) return -Errno.EPERM; // raising a hard limit needs CAP_SYS_RESOURCE
        VirtualLimits[i] = n.Soft;
        VirtualLimits[i + 1] = n.Hard;
        ApplyDescriptorLimit();
        return 0;
    }

    /// <summary>The descriptor table follows RLIMIT_NOFILE.</summary>
    public void ApplyDescriptorLimit() => Fds.Limit = (int)Math.Min(VirtualLimits[VirtualIndex(RLIMIT_NOFILE)], FdTable.MaxFds);

    ulong SoftLimit(int resource)
    {
        int i = VirtualIndex(resource);
        if (i >= 0) return VirtualLimits[i];
        return HostSoftLimit(resource);
    }

    static unsafe ulong HostSoftLimit(int resource)
    {
        ulong* lim = stackalloc ulong[2];
        return Sys(Nr.getrlimit, resource, (nint)lim) == 0 ? lim[0] : ulong.MaxValue;
    }

    static long _commitLimit;

    /// <summary>
    /// The kernel's heuristic overcommit (vm.overcommit_memory 0) refuses one allocation larger than RAM plus
    /// swap; without this a guest could reserve terabytes it would never be given.
    /// </summary>
    static unsafe ulong CommitLimit()
    {
        if (_commitLimit == 0)
        {
            byte* si = stackalloc byte[112];
            long total = long.MaxValue;
            if (Sys(Nr.sysinfo, (nint)si) == 0)
            {
                ulong unit = *(uint*)(si + 104);
                ulong ram = *(ulong*)(si + 32), swap = *(ulong*)(si + 64);
                total = (long)((ram + swap) * Math.Max(unit, 1));
            }
            _commitLimit = total;
        }
        return (ulong)_commitLimit;
    }

    /// <summary>
    /// Whether <paramref name="length"/> more bytes of mappings (<paramref name="privateWritable"/>: counted by
    /// the overcommit rule and RLIMIT_DATA) fit the limits; -ENOMEM when they do not, 0 when they do.
    /// </summary>
    /// <summary>A stack: the main one, or a mapping that grows down.</summary>
    public static bool IsStackMapping(Mem.Component.Vma v) => v.Name == "[stack]" || (v.Flags & Mem.Component.MapFlags.GrowsDown) != 0;

    /// <summary>What RLIMIT_DATA and status's VmData count: private writable mappings other than stacks.</summary>
    public static bool IsDataMapping(Mem.Component.Vma v) =>
        (v.Flags & Mem.Component.MapFlags.Private) != 0 && (v.Prot & Protection.Write) != 0 && !IsStackMapping(v);

    public long CheckMapLimits(ulong length, bool privateWritable, bool dataSegment = false)
    {
        if (privateWritable && length > CommitLimit()) return -Errno.ENOMEM;
        ulong asLimit = SoftLimit(RLIMIT_AS), dataLimit = dataSegment || privateWritable ? SoftLimit(RLIMIT_DATA) : ulong.MaxValue;
        if (asLimit == ulong.MaxValue && dataLimit == ulong.MaxValue) return 0;
        ulong total = 0, data = 0;
        foreach (var v in Space.Vmas())
        {
            total += v.Length;
            if (IsDataMapping(v)) data += v.Length;
        }
        if (asLimit != ulong.MaxValue && total + length > asLimit) return -Errno.ENOMEM;
        if (dataLimit != ulong.MaxValue && privateWritable && data + length > dataLimit) return -Errno.ENOMEM;
        return 0;
    }
}
