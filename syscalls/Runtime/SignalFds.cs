using LegoEmu.Syscalls.Abi;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// The guest's signalfd descriptors. Signals are the emulator's business, so each signalfd is a host
/// eventfd kept readable exactly while a signal of its mask is pending: poll, select and epoll on it
/// then work on the host, and read is emulated (<see cref="Areas.SignalFd"/>).
/// </summary>
public sealed unsafe class SignalFds
{
    sealed class Entry
    {
        public ulong Mask;
        public bool Signaled;
    }

    const int EFD_NONBLOCK = 0x800, EFD_CLOEXEC = 0x80000, eventfd2 = 290, preadv2 = 327, RWF_NOWAIT = 8;
    readonly Dictionary<int, Entry> _byHost = new();

    /// <summary>True when the guest has any signalfd: only then do pending-set changes cost anything.</summary>
    public bool Any => Volatile.Read(ref _count) != 0;
    int _count;

    /// <summary>A new signalfd's host eventfd, or a negated errno.</summary>
    public long Create(ulong mask, bool nonBlocking, ulong pending)
    {
        long h = Sys(eventfd2, 0, EFD_CLOEXEC | (nonBlocking ? EFD_NONBLOCK : 0));
        if (h < 0) return h;
        lock (_byHost)
        {
            _byHost[(int)h] = new Entry { Mask = mask };
            _count = _byHost.Count;
        }
        Sync(pending);
        return h;
    }

    /// <summary>The mask of the signalfd behind host descriptor <paramref name="hostFd"/>; false when it is not one.</summary>
    public bool TryGetMask(int hostFd, out ulong mask)
    {
        mask = 0;
        if (!Any) return false;
        lock (_byHost)
        {
            if (!_byHost.TryGetValue(hostFd, out var e)) return false;
            mask = e.Mask;
            return true;
        }
    }

    public void SetMask(int hostFd, ulong mask, ulong pending)
    {
        lock (_byHost) _byHost[hostFd].Mask = mask;
        Sync(pending);
    }

    /// <summary>Every signalfd as (host descriptor, mask), for a forked child.</summary>
    public (int Host, ulong Mask)[] All()
    {
        lock (_byHost) return _byHost.Select(e => (e.Key, e.Value.Mask)).ToArray();
    }

    /// <summary>
    /// In a forked child: the inherited descriptor still shares the parent's eventfd, whose readiness
    /// follows the parent's signals. A private eventfd (same O_NONBLOCK) takes its place under the same
    /// host number, so the guest's descriptor now reports the child's own signals.
    /// </summary>
    public void Adopt(int hostFd, ulong mask)
    {
        const int O_NONBLOCK = 0x800, F_GETFL = 3, dup3 = 292;
        long flags = Sys(Nr.fcntl, hostFd, F_GETFL);
        if (flags < 0) return;
        long fresh = Sys(eventfd2, 0, EFD_CLOEXEC | ((flags & O_NONBLOCK) != 0 ? EFD_NONBLOCK : 0));
        if (fresh < 0) return;
        Sys(dup3, fresh, hostFd, EFD_CLOEXEC);
        Sys(Nr.close, fresh);
        lock (_byHost)
        {
            _byHost[hostFd] = new Entry { Mask = mask };
            _count = _byHost.Count;
        }
    }

    /// <summary>The host descriptor is being closed: it no longer names a signalfd.</summary>
    public void Closed(int hostFd)
    {
        if (!Any) return;
        lock (_byHost)
        {
            _byHost.Remove(hostFd);
            _count = _byHost.Count;
        }
    }

    /// <summary>Brings every eventfd in line with the pending set: readable iff a signal of its mask is pending.</summary>
    public void Sync(ulong pending)
    {
        if (!Any) return;
        long* iov = stackalloc long[2];
        lock (_byHost)
        {
            foreach (var (h, e) in _byHost)
            {
                bool want = (pending & e.Mask) != 0;
                if (want == e.Signaled) continue;
                ulong v = 1;
                if (want) Sys(Nr.write, h, (nint)(&v), 8);
                else
                {
                    iov[0] = (nint)(&v);
                    iov[1] = 8;
                    Sys(preadv2, h, (nint)iov, 1, -1, -1, RWF_NOWAIT);
                }
                e.Signaled = want;
            }
        }
    }
}
