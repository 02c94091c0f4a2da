using LegoEmu.Mem;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>Guest file descriptor numbers mapped to host descriptors, allocated lowest-first as Linux does.</summary>
public sealed class FdTable
{
    public const int MaxFds = 1024;

    readonly int[] _host = new int[MaxFds];
    readonly bool[] _cloexec = new bool[MaxFds];
    readonly FdKind[] _kind = new FdKind[MaxFds];

    public FdTable()
    {
        // Not Array.Fill: see SlotStore's constructor.
        for (int i = 3; i < MaxFds; i++) _host[i] = -1;
        for (int i = 0; i < 3; i++) _host[i] = i;
    }

    /// <summary>The guest's RLIMIT_NOFILE soft limit (at most <see cref="MaxFds"/>): no new descriptor gets this number or above.</summary>
    public int Limit { get; set; } = MaxFds;

    /// <summary>Host descriptor for a guest one, or -EBADF.</summary>
    public int Host(long guestFd) => guestFd >= 0 && guestFd < MaxFds && _host[guestFd] >= 0 ? _host[guestFd] : -Errno.EBADF;

    public bool IsOpen(long guestFd) => Host(guestFd) >= 0;

    /// <summary>Installs a host descriptor at the lowest free guest number at or above <paramref name="min"/>.</summary>
    public int Install(int hostFd, bool cloexec, int min = 0)
    {
        for (int i = Math.Max(0, min); i < Limit; i++)
        {
            if (_host[i] >= 0) continue;
            _host[i] = hostFd;
            _cloexec[i] = cloexec;
            _kind[i] = FdKind.Unknown;
            return i;
        }
        return -Errno.EMFILE;
    }

    public void InstallAt(int guestFd, int hostFd, bool cloexec)
    {
        _host[guestFd] = hostFd;
        _cloexec[guestFd] = cloexec;
        _kind[guestFd] = FdKind.Unknown;
    }

    /// <summary>Forgets a guest descriptor and returns the host one it held (or -EBADF).</summary>
    public int Remove(long guestFd)
    {
        int h = Host(guestFd);
        if (h < 0) return h;
        _host[guestFd] = -1;
        _cloexec[guestFd] = false;
        _kind[guestFd] = FdKind.Unknown;
        return h;
    }

    public bool CloseOnExec(int guestFd) => _cloexec[guestFd];

    /// <summary>Every open guest descriptor with its host descriptor and close-on-exec flag.</summary>
    public IEnumerable<(int Guest, int Host, bool CloseOnExec)> All()
    {
        for (int i = 0; i < MaxFds; i++)
            if (_host[i] >= 0) yield return (i, _host[i], _cloexec[i]);
    }

    /// <summary>A child's table: the same guest numbers over the host descriptors it inherited.</summary>
    public void Replace(IEnumerable<(int Guest, int Host, bool CloseOnExec)> entries)
    {
        Array.Fill(_host, -1);
        Array.Fill(_cloexec, false);
        Array.Fill(_kind, FdKind.Unknown);
        foreach (var (g, h, c) in entries) { _host[g] = h; _cloexec[g] = c; }
    }
    /// <summary>How I/O on an open guest descriptor may block; looked up with fstat on first use.</summary>
    public unsafe FdKind Kind(long guestFd)
    {
        var k = _kind[guestFd];
        if (k != FdKind.Unknown) return k;
        byte* st = stackalloc byte[144];
        long r = LegoEmu.Syscalls.Host.Native.Sys(LegoEmu.Syscalls.Abi.Nr.fstat, _host[guestFd], (nint)st);
        uint type = r < 0 ? 0 : *(uint*)(st + 24) & 0xf000; // st_mode
        k = type is 0x8000 or 0x4000 or 0x6000 ? FdKind.NeverBlocks : type == 0xc000 ? FdKind.Socket : FdKind.NoWait; // S_IFREG, S_IFDIR, S_IFBLK; S_IFSOCK
        _kind[guestFd] = k;
        return k;
    }

    /// <summary>Records that a descriptor refused a non-blocking attempt and must be polled first.</summary>
    public void SetKind(long guestFd, FdKind kind) => _kind[guestFd] = kind;

    public void SetCloseOnExec(int guestFd, bool v) => _cloexec[guestFd] = v;

    /// <summary>How many guest descriptors refer to this host descriptor (dup'ed ones share it).</summary>
    public int References(int hostFd)
    {
        int n = 0;
        foreach (var h in _host) if (h == hostFd) n++;
        return n;
    }
}
