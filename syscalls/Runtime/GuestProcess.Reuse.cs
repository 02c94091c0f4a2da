using LegoEmu.Mem;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// The end of a guest on a component that outlives it: what the kernel would release at the process's exit is
/// released here, so the component can take another guest with nothing of this one left behind.
/// </summary>
public sealed partial class GuestProcess
{
    /// <summary>The guest made a semop with SEM_UNDO: the host applies the undo only when this host process ends.</summary>
    public bool SemaphoreUndo { get; set; }

    /// <summary>
    /// Releases what the guest held of the host process: its descriptors (so pipes see their end now, as at an
    /// exit), its SysV attachments, and its children that have exited (reaped, as init reaps an orphan: a
    /// component whose guest exited and was not reaped comes back to this process's pool). Returns false when
    /// something cannot be released without ending the host process: a child still running (it must be
    /// reparented, which only the host process's end does), SEM_UNDO adjustments, or a line directory it could not leave.
    /// </summary>
    public unsafe bool ReleaseForReuse()
    {
        var closed = new HashSet<int>();
        foreach (var (_, h, _) in Fds.All().ToList())
            if (closed.Add(h)) CloseHost(h);
        Fds.Replace([]);
        DetachSysV();
        // A guest in a line directory for MAP_SHARED memory that it only read (a compiler driver's gconv cache, mapped
        // read-only) leaves it as at execve: it held every line shared and clean, so the directory has nothing of it to
        // wait for, and the next guest here joins afresh. One that wrote shared memory ends its component: reused after
        // one, the next guest sometimes waited for ever on a line directory (not understood yet).
        if (JoinedSharedDirectory && !Cache.HeldExclusive)
        {
            try { LeaveSharedDirectory(); }
            catch (Exception e) when (e is MemoryNodeFailure or MemoryFault) { }
        }
        bool clean = !SemaphoreUndo && KilledBySignal == 0 && !JoinedSharedDirectory && !Cache.Coherent;
        foreach (int pid in ChildrenNow())
        {
            var link = Child(pid);
            if (link != null && ForkControl.PollExit(link))
            {
                ReapReported(link);
                continue;
            }
            int status;
            long r = Host.Native.Sys(Abi.Nr.wait4, pid, (nint)(&status), 1 /* WNOHANG */, 0);
            if (r == pid || r == -Errno.ECHILD) RemoveChild(pid);
            else clean = false;
        }
        return clean;
    }

    /// <summary>
    /// Children that exited and were never reaped have components waiting to be reaped: they end now rather than
    /// when they notice this process is gone (the kernel's init would reap such zombies at once).
    /// </summary>
    void StopReportedChildren()
    {
        foreach (int pid in ChildrenNow())
        {
            if (Child(pid) is not { } link || !ForkControl.PollExit(link)) continue;
            lock (_children) _children.Remove(pid);
            if (link.Pidfd >= 0) Host.Native.Sys(Abi.Nr.close, link.Pidfd);
            ForkPool.Stop(link.Pid, link.Control);
        }
    }
}
