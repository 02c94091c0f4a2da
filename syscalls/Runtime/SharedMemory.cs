using System.Diagnostics;
using LegoEmu.Cpu.State;
using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// MAP_SHARED memory seen by several processes. Its frames are one shared object in the memory
/// component; every process caching its lines fills them through the component's line directory (the
/// MSI protocol threads on several components use), so a store in one process invalidates the copies
/// of the others. A process joins the directory once its memory is reachable by another process (it
/// forked, or it is a forked child) and it has shared mappings. Futex waits on shared words are woken
/// across processes by those invalidations, with a re-check of the word as the fallback.
/// </summary>
public sealed partial class GuestProcess
{
    /// <summary>The directory client shared lines go through, once this process shares memory with others.</summary>
    MemoryCluster? _sharedDirectory;
    /// <summary>The directory client is a connection to this process's own fork server (the memory is in-process).</summary>
    bool _sharedDirectoryIsOwn;
    long _remoteAppliedSeen;

    /// <summary>A unique name for an anonymous MAP_SHARED region (its frames are found by it, by this process and its children).</summary>
    public string NewAnonymousObjectKey() => $"anon:{Pid}:{++_anonymousObjects}:{Random.Shared.NextInt64():x}";
    long _anonymousObjects;

    /// <summary>A child was forked from this process's own memory: its server (which may have started earlier, for a component started ahead) serves another process.</summary>
    bool _memoryServedToChildren;

    /// <summary>
    /// Joins the line directory for MAP_SHARED lines when another process can reach this memory and some
    /// range is shared. Shared lines cached before were filled outside the directory: they are written back
    /// and dropped first. Idempotent; a fully coherent cache (threads over components) is already in.
    /// </summary>
    public void EnsureSharedCoherence()
    {
        if (Cache.Coherent || !Cache.HasShared) return;
        MemoryCluster directory;
        if (Space.Home is MemoryCluster cluster) directory = cluster;
        else if (Space.Home is LockedMemoryComponent && _memoryServedToChildren && _memoryServer != null)
        {
            // The memory is in this process: reach its directory through the socket children use.
            Endpoint.TryParse(_memoryServer.Endpoint.Text, out var ep, out _);
            directory = new MemoryCluster([ep!]) { UnknownRegion = (_, _) => 0 };
            directory.Attach(Space.Asid, 0, new Dictionary<ulong, int>(), 0, GrantOwnSpace(Space.Asid));
            _sharedDirectoryIsOwn = true;
        }
        else return; // no other process can reach this memory
        Space.WriteBackShared(0, VmaSet.TaskSize);
        directory.EnableCoherence(((ulong)Pid << 20) ^ (ulong)Random.Shared.NextInt64(1, 1 << 20), Cache, RequestSafePoint);
        Cache.EnableSharedCoherence(directory);
        _sharedDirectory = directory;
        JoinedSharedDirectory = true;
        _remoteAppliedSeen = Cache.RemoteApplied;
    }

    /// <summary>
    /// The process joined a line directory for MAP_SHARED memory since its last execve (its component then ends with
    /// it). One that left at execve is out of it: a driver's child that inherited a read-only shared mapping (glibc maps
    /// its gconv cache MAP_SHARED) joins at the fork and leaves when it execs the compiler.
    /// </summary>
    public bool JoinedSharedDirectory { get; private set; }

    /// <summary>execve: the new image shares no memory yet, so the process leaves the directory (and may move its memory).</summary>
    void LeaveSharedDirectory()
    {
        if (_sharedDirectory == null || _split != null) return;
        Cache.DisableSharedCoherence();
        if (_sharedDirectoryIsOwn) _sharedDirectory.Dispose();
        else _sharedDirectory.DisableCoherence();
        _sharedDirectory = null;
        _sharedDirectoryIsOwn = false;
        JoinedSharedDirectory = false;
    }

    /// <summary>execve made a new address space: the own-directory connection must know it.</summary>
    void SharedDirectoryNewSpace(int asid)
    {
        if (_sharedDirectoryIsOwn) _sharedDirectory!.Attach(asid, 0, new Dictionary<ulong, int>(), 0, GrantOwnSpace(asid));
    }

    /// <summary>This process's own in-process space, made reachable to its own directory connection (and to nobody without the key).</summary>
    ulong GrantOwnSpace(int asid)
    {
        ulong key = SpaceKeys.New();
        _memoryServer!.Grant(asid, key, ownerHolds: true);
        return key;
    }

    /// <summary>
    /// At a safe point: applies the invalidations the directory pushed. When one arrived, futex waits on
    /// shared words look at their word again at once: another process may have stored to it.
    /// </summary>
    void ServeSharedDirectory()
    {
        if (_sharedDirectory == null || _split != null) return;
        _sharedDirectory.DrainCoherence();
        if (Cache.RemoteApplied == _remoteAppliedSeen) return;
        _remoteAppliedSeen = Cache.RemoteApplied;
        foreach (var t in _index.Timed)
            if (t.FutexRecheck != long.MaxValue) t.FutexRecheck = 0;
    }

    /// <summary>Longest pause between two looks at a shared futex word nobody invalidated.</summary>
    static readonly long SharedFutexMaxInterval = Stopwatch.Frequency / 100;

    /// <summary>
    /// A futex wait on a word other processes may store to: the scheduler looks at the word again after
    /// an invalidation of its line or a growing interval, and a changed word ends the wait. A FUTEX_WAKE in
    /// another process always comes with such a store in the users of futexes (mutexes, semaphores,
    /// condition variables, barriers).
    /// </summary>
    bool SharedFutex(ulong addr) => Cache.Coherent && Cache.Shared(Space.Asid).Contains(addr);

    /// <summary>Looks at a shared futex word again; true when the wait ended (the word changed or vanished).</summary>
    bool RecheckSharedFutex(GuestThread t, long now)
    {
        uint value;
        try { value = t.Cpu.Mem.Read32(t.FutexAddress); }
        catch (MemoryFault) { value = ~t.FutexExpected; }
        if (value != t.FutexExpected)
        {
            t.FutexAddress = 0;
            t.WaitDeadline = long.MaxValue;
            t.FutexRecheck = long.MaxValue;
            t.Cpu.R[Registers.RAX] = 0;
            return true;
        }
        t.FutexInterval = Math.Min(Math.Max(t.FutexInterval * 2, Stopwatch.Frequency / 5000), SharedFutexMaxInterval);
        t.FutexRecheck = now + t.FutexInterval;
        return false;
    }

    /// <summary>POSIX timers (timer_create), made on first use.</summary>
    public PosixTimers? Timers { get; set; }

    /// <summary>Any host thread: asks the guest's thread for a safe point soon (timers, invalidations).</summary>
    public void RequestSafePointFromAnyThread() => RequestSafePoint();

    /// <summary>SysV segments attached here: guest address → segment id, the host attach standing for it, and the length.</summary>
    public Dictionary<ulong, (int Id, ulong Host, ulong Length)> SysVAttachments { get; } = new();

    /// <summary>
    /// A forked child inherits its parent's SysV attachments, as the kernel's fork does: the host segments are
    /// attached here too, so their attach counts include this process.
    /// </summary>
    void AdoptSysVAttachments()
    {
        foreach (var v in Space.Vmas())
        {
            if (v.Object?.Key is not { } key || !key.StartsWith("sysv:", StringComparison.Ordinal) || v.ObjectOffset != 0) continue;
            if (!int.TryParse(key.AsSpan(5), out int id)) continue;
            long host = Host.Native.Sys(30 /* shmat */, id, 0, 0x1000 /* SHM_RDONLY */);
            if (host < 0) continue; // removed meanwhile: the memory stays mapped, as it would
            ulong end = v.End;
            foreach (var w in Space.Vmas())
                if (w.Start == end && w.Object?.Key == key) end = w.End;
            SysVAttachments[v.Start] = (id, (ulong)host, end - v.Start);
        }
    }

    /// <summary>execve detaches every SysV segment.</summary>
    void DetachSysV()
    {
        foreach (var a in SysVAttachments.Values) Host.Native.Sys(67 /* shmdt */, (long)a.Host);
        SysVAttachments.Clear();
    }

    /// <summary>At exit or execve: what this process wrote to shared memory reaches the frames the others see.</summary>
    void WriteBackSharedMemory()
    {
        try { Space.WriteBackShared(0, VmaSet.TaskSize); }
        catch (Exception e) when (e is MemoryFault or MemoryNodeFailure) { }
    }
}
